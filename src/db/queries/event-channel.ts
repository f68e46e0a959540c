/**
 * The channel live events travel on between processes: sending NOTIFY payloads on it, the
 * columns job statements return for their events, and the `jobplane.event_interest` rows through
 * which hubs say someone is listening (so publishers elsewhere send only then).
 */
import type { Queryable } from '../pool.js';

/** Channel carrying live events (payloads built by `src/core/event-wire.ts`) to every API process. */
export const EVENTS_CHANNEL = 'jobplane_events';

/**
 * Send NOTIFY payloads in order. Outside a transaction this writes no WAL and takes no commit
 * lock, so it does not slow other commits; inside one it is delivered at commit.
 */
export async function notifyEvents(db: Queryable, payloads: readonly string[]): Promise<void> {
  if (payloads.length === 0) return;
  await db.query({
    name: 'jobplane_notify_events',
    text: `SELECT count(pg_notify('${EVENTS_CHANNEL}', p)) FROM unnest($1::text[]) AS p`,
    values: [payloads],
  });
}

/** Columns every statement that changes jobs returns for its events (table alias `j`). */
export const JOB_CHANGE_COLUMNS = `j.id, j.tenant_id AS "tenantId", j.queue, j.task, j.status, j.attempt,
  j.schedule_id AS "scheduleId"`;

/** Declare (or renew) that hub `hubId` wants events for `ttlMs`; also drops long-dead hubs' rows. */
export async function renewEventInterest(db: Queryable, hubId: string, ttlMs: number): Promise<void> {
  await db.query(
    `WITH gone AS (DELETE FROM jobplane.event_interest WHERE until < now() - interval '1 hour')
     INSERT INTO jobplane.event_interest (hub_id, until) VALUES ($1, now() + $2 * interval '1 millisecond')
     ON CONFLICT (hub_id) DO UPDATE SET until = excluded.until`,
    [hubId, ttlMs],
  );
}

/** Withdraw a hub's interest (it stops). */
export async function dropEventInterest(db: Queryable, hubId: string): Promise<void> {
  await db.query(`DELETE FROM jobplane.event_interest WHERE hub_id = $1`, [hubId]);
}

/** Does any hub want events now? */
export async function eventsWanted(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ wanted: boolean }>({
    name: 'jobplane_events_wanted',
    text: `SELECT EXISTS (SELECT 1 FROM jobplane.event_interest WHERE until > now()) AS wanted`,
  });
  return rows[0]?.wanted ?? false;
}
