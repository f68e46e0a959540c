import { type Clock } from '../core/deps.js';
import { systemClock } from './clock.js';
import { jobEvent, nullEventSink, type EventSink } from '../core/live-events.js';
import { withTransaction, type Pool } from '../db/pool.js';
import { claimJobs, claimLimitedJobs, claimSizeFor, listLimitedQueues, type ClaimedJob, type ClaimFilter, type LimitedQueue } from '../db/queries/jobs.js';

/** How long the list of concurrency-limited queues is reused before it is read again. */
const LIMITED_QUEUES_TTL_MS = 1000;

/**
 * Claims jobs for one consumer (an in-process worker or a remote worker): first the one-statement
 * claim over unlimited queues, then, if room is left, the locked claim over queues with a global
 * concurrency limit. The list of limited queues is cached briefly per filter.
 */
export class JobClaimer {
  private readonly limited = new Map<string, { at: number; queues: LimitedQueue[] }>();

  constructor(
    private readonly pool: Pool,
    private readonly leaseMs: number,
    private readonly clock: Clock = systemClock,
    private readonly events: EventSink = nullEventSink,
  ) {}

  /**
   * Claim up to `limit` due jobs matching `filter`. One claim statement asks for the largest
   * claim size not above `limit` (see `claimJobs`); with `exact`, the rest is asked for in
   * further statements while they come back full (a remote worker's long-poll gets every job it
   * asked for that is due, not a rounded-down batch).
   */
  async claim(filter: ClaimFilter, limit: number, options: { exact?: boolean } = {}): Promise<ClaimedJob[]> {
    const jobs: ClaimedJob[] = [];
    let remaining = limit;
    while (remaining > 0) {
      const size = claimSizeFor(remaining);
      const got = await claimJobs(this.pool, filter, size, this.leaseMs);
      jobs.push(...got);
      remaining -= got.length;
      if (got.length < size || !options.exact) break;
    }
    if (jobs.length < limit) {
      const limited = await this.limitedQueues(filter);
      if (limited.length > 0) {
        jobs.push(...(await withTransaction(this.pool, (tx) => claimLimitedJobs(tx, filter, limited, limit - jobs.length, this.leaseMs))));
      }
    }
    if (jobs.length > 0 && this.events.wanted?.() !== false) {
      const at = new Date(this.clock.nowMs()).toISOString();
      this.events.publish(jobs.map((job) => jobEvent({ ...job, status: 'running' }, at)));
    }
    return jobs;
  }

  private async limitedQueues(filter: ClaimFilter): Promise<LimitedQueue[]> {
    const key = `${filter.tenantId ?? ''}|${filter.queues?.join(',') ?? '*'}`;
    const cached = this.limited.get(key);
    const now = this.clock.nowMs();
    if (cached && now - cached.at < LIMITED_QUEUES_TTL_MS) return cached.queues;
    const queues = await listLimitedQueues(this.pool, filter);
    if (this.limited.size > 10_000) this.limited.clear();
    this.limited.set(key, { at: now, queues });
    return queues;
  }
}
