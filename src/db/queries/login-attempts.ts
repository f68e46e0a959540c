/**
 * Login throttle counters and the failed-login trail (docs/security.md). The decision is pure
 * (src/core/login-throttle.ts); these statements hold the counters' rows locked while it is made,
 * so every API process sees one count.
 */
import type { CounterState } from '../../core/login-throttle.js';
import type { Queryable } from '../pool.js';

/**
 * Lock the counters of `keys` for the rest of the caller's transaction, creating missing ones at
 * zero, and read them with the database clock. Keys are taken in sorted order, so concurrent
 * attempts on overlapping keys queue instead of deadlocking. Must run inside a transaction.
 */
export async function lockCounters(tx: Queryable, keys: readonly string[]): Promise<{ nowMs: number; counters: CounterState[] }> {
  const sorted = [...new Set(keys)].sort();
  await tx.query(
    `INSERT INTO jobplane.login_attempts (key, failures, updated_at)
     SELECT k, 0, now() FROM unnest($1::text[]) AS k ORDER BY k
     ON CONFLICT (key) DO NOTHING`,
    [sorted],
  );
  const { rows } = await tx.query<{ key: string; failures: number; lockedUntil: Date | null; updatedAt: Date; now: Date }>(
    `SELECT key, failures, locked_until AS "lockedUntil", updated_at AS "updatedAt", now() AS now
     FROM jobplane.login_attempts WHERE key = ANY($1::text[]) ORDER BY key FOR UPDATE`,
    [sorted],
  );
  // The keys were inserted above, so there is at least one row.
  const nowMs = rows[0]!.now.getTime();
  return {
    nowMs,
    counters: rows.map((r) => ({ key: r.key, attempts: r.failures, lockedUntilMs: r.lockedUntil?.getTime() ?? null, updatedAtMs: r.updatedAt.getTime() })),
  };
}

/** Write counters decided under {@link lockCounters}, in the same transaction. */
export async function writeCounters(tx: Queryable, counters: readonly CounterState[]): Promise<void> {
  if (counters.length === 0) return;
  await tx.query(
    `UPDATE jobplane.login_attempts AS a
     SET failures = v.failures, locked_until = v.locked_until, updated_at = v.updated_at
     FROM unnest($1::text[], $2::int[], $3::timestamptz[], $4::timestamptz[]) AS v(key, failures, locked_until, updated_at)
     WHERE a.key = v.key`,
    [
      counters.map((c) => c.key),
      counters.map((c) => c.attempts),
      counters.map((c) => (c.lockedUntilMs === null ? null : new Date(c.lockedUntilMs))),
      counters.map((c) => new Date(c.updatedAtMs)),
    ],
  );
}

/**
 * After a successful login: delete the account's own counters (`cleared`) and take this one
 * attempt back from the others (`takeBack`, with the limit at which each keeps its lock). Atomic
 * per row, so attempts counted meanwhile by other requests are kept.
 */
export async function settleSuccess(db: Queryable, cleared: readonly string[], takeBack: ReadonlyArray<{ key: string; lockAfter: number }>): Promise<void> {
  await db.query(`DELETE FROM jobplane.login_attempts WHERE key = ANY($1::text[])`, [cleared]);
  if (takeBack.length === 0) return;
  await db.query(
    `UPDATE jobplane.login_attempts AS a
     SET failures = greatest(a.failures - 1, 0),
         locked_until = CASE WHEN a.failures - 1 >= v.lock_after THEN a.locked_until END
     FROM unnest($1::text[], $2::int[]) AS v(key, lock_after)
     WHERE a.key = v.key`,
    [takeBack.map((t) => t.key), takeBack.map((t) => t.lockAfter)],
  );
}

/** One aggregated line of the failed-login trail. */
export interface LoginFailureEntry {
  /** Start of the minute the attempts fell in. */
  bucket: Date;
  clientIp: string;
  username: string;
  reason: 'invalid-credentials' | 'throttled' | 'disabled' | 'wrong-current-password';
  tenantId: string | null;
  userId: string | null;
  attempts: number;
  firstAt: Date;
  lastAt: Date;
}

/**
 * Add aggregated failures: one row per (minute, address, username, reason), counts summed. The
 * user is looked up here by username so the trail can be read per tenant.
 */
export async function addLoginFailures(db: Queryable, entries: readonly Omit<LoginFailureEntry, 'tenantId' | 'userId'>[]): Promise<void> {
  if (entries.length === 0) return;
  await db.query(
    `INSERT INTO jobplane.login_failures AS f (bucket, client_ip, username, reason, tenant_id, user_id, attempts, first_at, last_at)
     SELECT v.bucket, v.client_ip, v.username, v.reason, u.tenant_id, u.id, v.attempts, v.first_at, v.last_at
     FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::int[], $6::timestamptz[], $7::timestamptz[])
          AS v(bucket, client_ip, username, reason, attempts, first_at, last_at)
     LEFT JOIN jobplane.users u ON u.username = v.username
     ORDER BY v.bucket, v.client_ip, v.username, v.reason
     ON CONFLICT (bucket, client_ip, username, reason) DO UPDATE SET
       attempts = f.attempts + excluded.attempts,
       last_at = greatest(f.last_at, excluded.last_at)`,
    [
      entries.map((e) => e.bucket),
      entries.map((e) => e.clientIp),
      entries.map((e) => e.username),
      entries.map((e) => e.reason),
      entries.map((e) => e.attempts),
      entries.map((e) => e.firstAt),
      entries.map((e) => e.lastAt),
    ],
  );
}

/**
 * The trail, newest first: a tenant's users, plus (with `withUnknown`, for superadmins) attempts
 * on usernames that name nobody. `before` pages by `lastAt`.
 */
export async function listLoginFailures(
  db: Queryable,
  filter: { tenantId: string; withUnknown: boolean; before: Date | null; limit: number },
): Promise<LoginFailureEntry[]> {
  const { rows } = await db.query<LoginFailureEntry>(
    `SELECT bucket, client_ip AS "clientIp", username, reason, tenant_id AS "tenantId", user_id AS "userId",
            attempts, first_at AS "firstAt", last_at AS "lastAt"
     FROM jobplane.login_failures
     WHERE (tenant_id = $1 OR ($2 AND tenant_id IS NULL)) AND ($3::timestamptz IS NULL OR last_at < $3)
     ORDER BY last_at DESC LIMIT $4`,
    [filter.tenantId, filter.withUnknown, filter.before, filter.limit],
  );
  return rows;
}
