/**
 * Sessions (docs/decisions.md #17, #18): logins with throttling, access JWTs, rotating
 * refresh tokens, logout, and telling who presents a credential (a user's access token or an API key).
 */
import type { Principal } from '../../core/access.js';
import { uuidv7 } from '../../db/ids.js';
import { withTransaction, type Queryable } from '../../db/pool.js';
import * as q from '../../db/queries/identity.js';
import { isSessionRevoked } from '../../db/queries/sessions.js';
import { AppError } from '../../errors/app-error.js';
import { publicUser, UUID, type IdentityContext, type User } from './identity-context.js';
import { normalizeUsername } from './inputs.js';
import { dummyHash, hashPassword, needsRehash, verifyPassword } from './passwords.js';
import {
  API_KEY_PREFIX,
  MAX_CREDENTIAL_LENGTH,
  REFRESH_TOKEN_PREFIX,
  hashApiKey,
  isWellFormedApiKey,
  looksLikeJwt,
  newRefreshToken,
  sha256,
  signAccessToken,
  verifyAccessToken,
} from './tokens.js';

/** What a successful login or refresh returns. */
export interface Session {
  accessToken: string;
  refreshToken: string;
  /** Seconds until the access token expires. */
  expiresIn: number;
  user: User;
}

/**
 * A refresh token used again within this long after its first use (parallel refreshes from two
 * tabs, a retried request) yields another session of the same family instead of revoking it.
 */
export const REFRESH_REUSE_GRACE_MS = 10_000;

/** Logins, refreshes, logouts and authentication over the shared identity state. */
export function createSessions(ctx: IdentityContext) {
  const { pool, logger, clock, guard, accessTtlS, refreshTtlS, loadSecrets, endSession } = ctx;

  async function issueSession(user: q.UserRow, familyId: string, parentId: string | null, familyExpiresAt: Date | null, db: Queryable): Promise<Session> {
    const { jwt } = await loadSecrets();
    const refreshToken = newRefreshToken();
    await q.insertRefreshToken(db, {
      id: uuidv7(),
      familyId,
      userId: user.id,
      hash: sha256(refreshToken),
      parentId,
      ttlS: refreshTtlS,
      // Children inherit the family's expiry: the family has an absolute lifetime (RFC 9700).
      expiresAt: familyExpiresAt,
    });
    const accessToken = await signAccessToken(
      jwt,
      { sub: user.id, tid: user.tenantId, role: user.role, sa: user.superadmin, tv: user.tokenVersion, sid: familyId },
      accessTtlS,
      clock.nowMs(),
    );
    return { accessToken, refreshToken, expiresIn: accessTtlS, user: publicUser(user) };
  }

  /**
   * Check a username and password. Unknown users, wrong passwords and disabled users all cost one
   * argon2 verify and all answer INVALID_CREDENTIALS. Every attempt is counted before the verify
   * (per account at this address, per account, per address; src/core/login-throttle.ts), so
   * concurrent guesses cannot outrun the throttle.
   */
  async function login(username: string, password: string, meta: { ip: string }): Promise<Session> {
    const normalized = normalizeUsername(username);
    // Throttle keys exist whether or not the user does, so throttling reveals nothing either.
    // An invalid name is kept as given, less the NUL PostgreSQL text cannot hold.
    const account = normalized ?? String(username).slice(0, 64).toLowerCase().replaceAll('\u0000', '\uFFFD');
    const candidate = typeof password === 'string' && password.length <= 1024 ? password : '';
    let user: q.UserWithHash | null = null;
    const ok = await guard.guard(account, meta.ip, async () => {
      user = normalized === null ? null : await q.findUserForLogin(pool, normalized);
      const matches = await verifyPassword(user?.passwordHash ?? (await dummyHash()), candidate);
      if (!matches || user === null) return 'invalid-credentials';
      return user.disabled ? 'disabled' : 'ok';
    });
    const found = user as q.UserWithHash | null;
    if (!ok || found === null) throw new AppError('INVALID_CREDENTIALS');
    // Parameters changed since this hash was made: upgrade it now, while we have the password.
    const rehashed = needsRehash(found.passwordHash) ? await hashPassword(candidate) : null;
    await q.recordLogin(pool, found.id, rehashed);
    return issueSession(found, uuidv7(), null, null, pool);
  }

  /**
   * Exchange a refresh token for a new session, invalidating it. A token that was already used
   * more than {@link REFRESH_REUSE_GRACE_MS} ago revokes its whole family (it was stolen or
   * replayed) and fails with REFRESH_TOKEN_REUSED.
   */
  async function refresh(refreshToken: string): Promise<Session> {
    if (typeof refreshToken !== 'string' || !refreshToken.startsWith(REFRESH_TOKEN_PREFIX) || refreshToken.length > 128) {
      throw new AppError('TOKEN_INVALID', 'Not a refresh token');
    }
    const hash = sha256(refreshToken);
    const outcome = await withTransaction(pool, async (tx) => {
      const consumed = await q.consumeRefreshToken(tx, hash);
      if (!consumed) return null;
      const user = await q.findUser(tx, consumed.userId, null);
      if (!user || user.disabled) {
        await endSession(tx, consumed.familyId);
        return 'disabled' as const;
      }
      return issueSession(user, consumed.familyId, consumed.id, consumed.expiresAt, tx);
    });
    if (outcome === 'disabled') throw new AppError('TOKEN_INVALID', 'The user is disabled');
    if (outcome !== null) return outcome;
    const state = await q.findRefreshToken(pool, hash);
    if (state?.used && !state.revoked && !state.expired && state.usedMsAgo !== null && state.usedMsAgo < REFRESH_REUSE_GRACE_MS) {
      // Two tabs (or a retried request) refreshing with the same token at once: the loser gets a
      // session of its own in the same family instead of logging everyone out. Beyond the grace,
      // reuse means theft or replay.
      const user = await q.findUser(pool, state.userId, null);
      if (user && !user.disabled) return issueSession(user, state.familyId, state.id, state.expiresAt, pool);
    }
    if (state?.used) {
      await endSession(pool, state.familyId);
      logger.warn({ familyId: state.familyId }, 'refresh token reuse; family revoked');
      throw new AppError('REFRESH_TOKEN_REUSED');
    }
    throw new AppError('TOKEN_INVALID', 'The refresh token is invalid, expired or revoked');
  }

  /**
   * End the session (token family) a refresh token belongs to: the refresh token and every access
   * token of that login stop working at once, on every API process. Unknown tokens are ignored.
   */
  async function logout(refreshToken: string): Promise<void> {
    if (typeof refreshToken !== 'string' || !refreshToken.startsWith(REFRESH_TOKEN_PREFIX)) return;
    const state = await q.findRefreshToken(pool, sha256(refreshToken));
    if (state) await endSession(pool, state.familyId);
  }

  async function sessionRevoked(sessionId: string): Promise<boolean> {
    return ctx.revocations ? ctx.revocations.isRevoked(sessionId) : isSessionRevoked(pool, sessionId);
  }

  async function authenticateJwt(token: string): Promise<Principal> {
    const { jwt } = await loadSecrets();
    const claims = await verifyAccessToken(jwt, token, clock.nowMs());
    // Signed by us, but ids still reach SQL only in their expected shape.
    if (!UUID.test(claims.sub) || !UUID.test(claims.tid)) throw new AppError('TOKEN_INVALID', 'The access token has malformed claims');
    const user = await q.findUser(pool, claims.sub, claims.tid);
    // token_version moves on password change, disable and forced logout: older tokens die at once.
    if (!user || user.disabled || user.tokenVersion !== claims.tv) throw new AppError('TOKEN_INVALID', 'The session has ended');
    // Logout and refresh-token reuse end one session; its access tokens die with it.
    if (claims.sid !== undefined && (!UUID.test(claims.sid) || (await sessionRevoked(claims.sid)))) throw new AppError('TOKEN_INVALID', 'The session has ended');
    return { kind: 'user', id: user.id, tenantId: user.tenantId, username: user.username, role: user.role, superadmin: user.superadmin };
  }

  async function authenticateKey(key: string): Promise<Principal> {
    if (!isWellFormedApiKey(key)) throw new AppError('TOKEN_INVALID', 'The API key is not valid');
    const { pepper } = await loadSecrets();
    // Looked up by its HMAC, so no secret is ever compared byte by byte in JavaScript.
    const row = await q.findApiKeyByHash(pool, hashApiKey(pepper, key));
    if (!row?.active) throw new AppError('TOKEN_INVALID', 'The API key is not valid, expired or revoked');
    if (row.stale) await q.touchApiKey(pool, row.id);
    return { kind: 'key', id: row.id, tenantId: row.tenantId, prefix: row.prefix, scopes: row.scopes };
  }

  /**
   * Who presents `credential` (the bearer token or x-api-key value): an access JWT → a user, a
   * `jp_` key → an API key. Malformed or unknown forms → UNAUTHENTICATED; bad tokens → TOKEN_INVALID.
   */
  async function authenticate(credential: string): Promise<Principal> {
    if (typeof credential !== 'string' || credential.length === 0) throw new AppError('UNAUTHENTICATED');
    if (credential.length > MAX_CREDENTIAL_LENGTH) throw new AppError('TOKEN_INVALID', 'The credential is too long');
    if (credential.startsWith(REFRESH_TOKEN_PREFIX)) {
      throw new AppError('TOKEN_INVALID', 'A refresh token cannot be used as an access token');
    }
    if (credential.startsWith(API_KEY_PREFIX)) return authenticateKey(credential);
    if (looksLikeJwt(credential)) return authenticateJwt(credential);
    throw new AppError('UNAUTHENTICATED', 'The credential is neither an access token nor an API key');
  }

  return { login, refresh, logout, authenticate };
}
