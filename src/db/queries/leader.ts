/**
 * The leader lease (docs/decisions.md #11): one row per named role in `jobplane.leader_leases`, held by one
 * candidate at a time. The scheduler (`src/scheduler/scheduler.ts`) elects its maintenance
 * leader through it.
 */
import type { Queryable } from '../pool.js';

/**
 * Take or keep a named leader lease (docs/decisions.md #11). Succeeds when the lease is free, expired, or already
 * ours; renewal is scoped to the owner so a stale leader can never extend someone else's lease.
 * A `standby` candidate (a worker process) leads only while no full candidate (a scheduler) does:
 * a full candidate takes the lease over from a standby holder at once, and the standby finds out
 * at its next renewal. Returns whether `owner` holds the lease afterwards.
 */
export async function acquireLeaderLease(db: Queryable, name: string, owner: string, ttlMs: number, standby = false): Promise<boolean> {
  const { rows } = await db.query<{ owner: string }>({
    name: 'jobplane_acquire_leader_v2',
    text: `INSERT INTO jobplane.leader_leases AS l (name, owner, expires_at, standby)
      VALUES ($1, $2, now() + $3 * interval '1 millisecond', $4)
      ON CONFLICT (name) DO UPDATE SET
        owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at, standby = EXCLUDED.standby,
        acquired_at = CASE WHEN l.owner = EXCLUDED.owner THEN l.acquired_at ELSE now() END
      WHERE l.owner = EXCLUDED.owner OR l.expires_at < now() OR (l.standby AND NOT EXCLUDED.standby)
      RETURNING owner`,
    values: [name, owner, ttlMs, standby],
  });
  return rows[0]?.owner === owner;
}

/** Give up a leader lease if we hold it. */
export async function releaseLeaderLease(db: Queryable, name: string, owner: string): Promise<void> {
  await db.query(`DELETE FROM jobplane.leader_leases WHERE name = $1 AND owner = $2`, [name, owner]);
}

/** Who holds a leader lease now, if anyone. */
export async function getLeader(db: Queryable, name: string): Promise<{ owner: string; expiresAt: Date } | null> {
  const { rows } = await db.query<{ owner: string; expiresAt: Date }>(
    `SELECT owner, expires_at AS "expiresAt" FROM jobplane.leader_leases WHERE name = $1 AND expires_at > now()`,
    [name],
  );
  return rows[0] ?? null;
}
