/**
 * Maintenance from worker processes. Every process that runs workers takes part in electing the
 * maintenance leader (as River's clients do), so a deployment of nothing but SDK workers still
 * rescues the jobs of a killed worker, fires cron schedules and applies retention. They stand by:
 * a scheduler process takes the lease over from them whenever one runs. Workers on the same pool
 * share one candidate; the last one to stop hands the lease back.
 */
import type { EventSink } from '../core/live-events.js';
import type { Logger } from '../core/deps.js';
import type { Pool } from '../db/pool.js';
import { createScheduler, type Scheduler } from './scheduler.js';

/** What a worker passes when it joins. */
export interface MembershipOptions {
  pool: Pool;
  logger: Logger;
  liveEvents: EventSink;
  secretsKeys?: readonly string[];
  secretsActiveKey?: string | null;
}

/** A worker's share in its pool's maintenance candidate. */
export interface Membership {
  readonly scheduler: Scheduler;
  /** Leave; the last member stops the candidate (handing the lease back). Idempotent. */
  leave(): Promise<void>;
}

const candidates = new Map<Pool, { scheduler: Scheduler; members: number; started: Promise<void> }>();

/** Join the maintenance election on `pool`, starting its candidate when this is the first member. */
export async function joinMaintenance(options: MembershipOptions): Promise<Membership> {
  let entry = candidates.get(options.pool);
  if (!entry) {
    const scheduler = createScheduler({
      pool: options.pool,
      standby: true,
      logger: options.logger.child({ role: 'maintenance' }),
      liveEvents: options.liveEvents,
      ...(options.secretsKeys ? { secretsKeys: options.secretsKeys } : {}),
      ...(options.secretsActiveKey !== undefined ? { secretsActiveKey: options.secretsActiveKey } : {}),
    });
    entry = { scheduler, members: 0, started: scheduler.start() };
    candidates.set(options.pool, entry);
  }
  const joined = entry;
  joined.members += 1;
  await joined.started;
  let left = false;
  return {
    scheduler: joined.scheduler,
    async leave() {
      if (left) return;
      left = true;
      joined.members -= 1;
      if (joined.members > 0) return;
      if (candidates.get(options.pool) === joined) candidates.delete(options.pool);
      await joined.scheduler.stop();
    },
  };
}
