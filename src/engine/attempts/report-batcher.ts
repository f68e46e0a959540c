import type { AttemptOutcome } from '../../core/attempt-outcome.js';
import type { Clock } from '../../core/deps.js';
import { jobEvent, type EventSink, type JobChange } from '../../core/live-events.js';
import { isConnectionError, type Pool } from '../../db/pool.js';
import { recordReports, type AttemptReport } from '../../db/queries/jobs.js';

/** The report that records `outcome` for the attempt holding `leaseToken`; null for `dropped` (nothing to record). */
export function reportOf(outcome: AttemptOutcome, id: string, leaseToken: string): AttemptReport | null {
  switch (outcome.kind) {
    case 'completed': return { kind: 'completed', id, leaseToken, resultJson: outcome.resultJson };
    case 'retry': return { kind: 'retry', id, leaseToken, error: outcome.error, delayMs: outcome.delayMs };
    case 'failed': return { kind: 'failed', id, leaseToken, error: outcome.error };
    case 'cancelled': return { kind: 'cancelled', id, leaseToken, error: outcome.error };
    case 'released': return { kind: 'released', id, leaseToken };
    case 'dropped': return null;
  }
}

/** Something waiting to be reported; callers carry their own context along with the report. */
export interface PendingReport {
  readonly report: AttemptReport;
}

/** Options of {@link ReportBatcher}. */
export interface ReportBatcherOptions<T extends PendingReport> {
  pool: Pool;
  clock: Clock;
  /** Where the committed changes are announced (live events). */
  events: EventSink;
  /** Most reports per statement. @defaultValue 500 */
  maxBatch?: number;
  /** Runs before each batch (the in-process worker writes pending output first: output is fenced on the job still running). */
  beforeBatch?: () => Promise<void>;
  /** An item's report was recorded (`status`: the job's new status) or fenced (`null`: the lease was lost). */
  onRecorded: (item: T, status: string | null) => void;
  /** A batch could not be written. */
  onError: (error: unknown) => void;
  /**
   * Whether to keep a batch that failed `failures` times in a row (for a reason that is not one
   * bad report) and try it again after a backoff; otherwise its items are given up.
   */
  keepTrying: (failures: number) => boolean;
  /** An item given up: the database rejected it on its own, or `keepTrying` said no. */
  onRejected: (item: T, error: unknown) => void;
}

/**
 * Records attempt outcomes in batches, fenced by lease tokens: one statement in flight at a time,
 * so reports that arrive meanwhile go together in the next one and the cost per report falls as
 * load rises. A report the database rejects (a bug) is isolated by retrying the batch one by one,
 * so it cannot block the others. Used by the in-process worker and the remote-worker service.
 */
export class ReportBatcher<T extends PendingReport> {
  private queue: T[] = [];
  private flushing: Promise<void> | null = null;
  private readonly maxBatch: number;

  constructor(private readonly options: ReportBatcherOptions<T>) {
    this.maxBatch = options.maxBatch ?? 500;
  }

  /** Reports waiting to be recorded (their jobs still hold a lease). */
  get pending(): readonly T[] {
    return this.queue;
  }

  /** Queue a report; it is written with the next batch (at once when none is in flight). */
  push(item: T): void {
    this.queue.push(item);
    // A batch in flight picks it up when it ends: no promise per report under load.
    if (!this.flushing) void this.flush();
  }

  /** Write everything queued; resolves when the queue is empty (or given up). */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => (this.queue.length > 0 ? this.flush() : undefined));
    if (this.queue.length === 0) return Promise.resolve();
    this.flushing = this.run().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.maxBatch);
      try {
        await this.options.beforeBatch?.();
        const { accepted, changes } = await recordReports(this.options.pool, batch.map((b) => b.report));
        this.announce(changes);
        this.queue.splice(0, batch.length);
        failures = 0;
        for (const item of batch) this.options.onRecorded(item, accepted.get(item.report.id) ?? null);
      } catch (error) {
        failures += 1;
        this.options.onError(error);
        if (!isConnectionError(error) && batch.length > 1) {
          await this.oneByOne(batch);
          continue;
        }
        if (!this.options.keepTrying(failures)) {
          this.queue.splice(0, batch.length);
          for (const item of batch) this.options.onRejected(item, error);
          continue;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 100 * 2 ** failures)));
      }
    }
  }

  /** Isolate a report the database rejects, so it cannot block the others. */
  private async oneByOne(batch: readonly T[]): Promise<void> {
    for (const item of batch) {
      try {
        const { accepted, changes } = await recordReports(this.options.pool, [item.report]);
        this.announce(changes);
        this.remove(item);
        this.options.onRecorded(item, accepted.get(item.report.id) ?? null);
      } catch (error) {
        this.remove(item);
        this.options.onRejected(item, error);
      }
    }
  }

  private remove(item: T): void {
    const index = this.queue.indexOf(item);
    if (index >= 0) this.queue.splice(index, 1);
  }

  private announce(changes: readonly JobChange[]): void {
    if (changes.length === 0 || this.options.events.wanted?.() === false) return;
    const at = new Date(this.options.clock.nowMs()).toISOString();
    this.options.events.publish(changes.map((c) => jobEvent(c, at)));
  }
}
