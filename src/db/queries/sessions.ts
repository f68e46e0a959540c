/**
 * Revoked sessions (docs/auth.md): a session is a refresh-token family, named by the `sid` claim
 * of its access tokens. A revoked one is kept until its last access token has expired; every API
 * process holds the list in memory, kept current by NOTIFY on {@link SESSION_REVOKED_CHANNEL}.
 */
import type { Queryable } from '../pool.js';

/** NOTIFY channel; the payload is the revoked session id. */
export const SESSION_REVOKED_CHANNEL = 'jobplane_session_revoked';

/**
 * Revoke a session: its refresh tokens stop refreshing, its id joins the revocation list for
 * `accessTtlS` (the longest an access token of it can still be valid), and every API process is
 * told. In a transaction the notification goes out at commit.
 */
export async function revokeSession(db: Queryable, sessionId: string, accessTtlS: number): Promise<void> {
  await db.query(
    `WITH tokens AS (
       UPDATE jobplane.refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL
     )
     INSERT INTO jobplane.revoked_sessions (session_id, expires_at)
     VALUES ($1, now() + make_interval(secs => $2))
     ON CONFLICT (session_id) DO UPDATE SET expires_at = greatest(jobplane.revoked_sessions.expires_at, excluded.expires_at)`,
    [sessionId, accessTtlS],
  );
  await db.query(`SELECT pg_notify($1, $2)`, [SESSION_REVOKED_CHANNEL, sessionId]);
}

/** Every session still on the list, with when it may leave it (for loading the in-memory list). */
export async function listRevokedSessions(db: Queryable): Promise<Array<{ sessionId: string; expiresAt: Date }>> {
  const { rows } = await db.query<{ sessionId: string; expiresAt: Date }>(
    `SELECT session_id AS "sessionId", expires_at AS "expiresAt" FROM jobplane.revoked_sessions WHERE expires_at > now()`,
  );
  return rows;
}

/** Whether one session is on the list (the fallback while the in-memory list is not current). */
export async function isSessionRevoked(db: Queryable, sessionId: string): Promise<boolean> {
  const { rows } = await db.query<{ revoked: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM jobplane.revoked_sessions WHERE session_id = $1 AND expires_at > now()) AS revoked`,
    [sessionId],
  );
  return rows[0]?.revoked === true;
}
