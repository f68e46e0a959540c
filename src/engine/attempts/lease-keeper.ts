import type { Pool } from '../../db/pool.js';
import { renewLeases, type HeldLease } from '../../db/queries/jobs.js';
import { touchWorker } from '../../db/queries/workers.js';

/** What a renewal found out about each lease it was given, in the order given. */
export interface LeaseAnswer<L extends HeldLease> {
  /** Extended (including those in `cancelled`). */
  renewed: L[];
  /** No longer held (rescued, revoked, or never ours): stop the work and report nothing. */
  lost: L[];
  /** Still held, but a cancel was requested: stop and report the attempt cancelled. */
  cancelled: L[];
}

/**
 * Keeps the leases of a worker's attempts alive: one statement extends every lease it still holds
 * (fenced by lease token) and the worker's heartbeat row is touched. Used by the in-process worker
 * on a timer and by the remote-worker service on each heartbeat request.
 */
export class LeaseKeeper {
  constructor(
    private readonly pool: Pool,
    /** Lease granted per renewal, in ms. */
    readonly leaseMs: number,
  ) {}

  /**
   * Renew `held` for worker `workerId`, which runs `running` jobs now. Leases for which
   * `renewable` says no are not sent and count as lost (a remote worker naming another tenant's job).
   */
  async renew<L extends HeldLease>(workerId: string, held: readonly L[], running: number, renewable?: (lease: L) => boolean): Promise<LeaseAnswer<L>> {
    const renewals = await renewLeases(this.pool, renewable ? held.filter(renewable) : held, this.leaseMs);
    await touchWorker(this.pool, workerId, running);
    const alive = new Map(renewals.map((r) => [r.id, r.cancelRequested]));
    const answer: LeaseAnswer<L> = { renewed: [], lost: [], cancelled: [] };
    for (const lease of held) {
      const cancel = alive.get(lease.id);
      if (cancel === undefined) {
        answer.lost.push(lease);
        continue;
      }
      answer.renewed.push(lease);
      if (cancel) answer.cancelled.push(lease);
    }
    return answer;
  }
}
