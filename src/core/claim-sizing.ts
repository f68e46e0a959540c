/**
 * How many jobs a worker claims, and when (docs/decisions.md #25). Pure: the claim loop feeds it
 * what it observes (handler durations, what claims brought back) and asks it two questions.
 *
 * The cost of a claim is mostly per statement (a round trip, a plan, a commit), not per row, so
 * a worker behind a backlog should claim many jobs at once; but a job claimed ahead of a free
 * slot waits in the worker holding its lease, where no other worker can take it. The sizer keeps
 * that wait short: it buffers at most what the worker's slots would finish within
 * {@link DEFAULT_AHEAD_WAIT_MS}, judged from recent handler durations. Short handlers (the case
 * where claim cost matters) get large batches; handlers of a second or more get none, so a slow
 * task's jobs are not hoarded by one process.
 */

/** Longest a job claimed ahead of a free slot should wait in the worker for one. */
export const DEFAULT_AHEAD_WAIT_MS = 50;

/** Most jobs claimed ahead of free slots, however short the handlers. */
export const DEFAULT_MAX_AHEAD = 250;

/** Weight of the newest handler duration in the running average (about the last hundred count). */
const DURATION_WEIGHT = 0.01;

/** Settings of a {@link ClaimSizer}. */
export interface ClaimSizingOptions {
  /** Handlers the worker runs at once. */
  concurrency: number;
  /**
   * Jobs claimed ahead of free slots: `'auto'` (adaptive, the default) or a fixed number (0 claims
   * only for free slots).
   */
  prefetch: number | 'auto';
  /** Upper bound for `'auto'`. @defaultValue {@link DEFAULT_MAX_AHEAD} */
  maxAhead?: number;
  /** Target wait of a buffered job, for `'auto'`. @defaultValue {@link DEFAULT_AHEAD_WAIT_MS} */
  aheadWaitMs?: number;
}

/** What the worker holds when it asks whether to claim. */
export interface WorkerLoad {
  /** Handlers running. */
  running: number;
  /** Jobs claimed and waiting for a slot. */
  buffered: number;
}

/**
 * Sizes claims from observed handler durations and from whether the last claim came back full
 * (a backlog). One per worker; not shared between workers.
 */
export class ClaimSizer {
  private readonly concurrency: number;
  private readonly fixed: number | null;
  private readonly maxAhead: number;
  private readonly aheadWaitMs: number;
  private handlerMs: number | null = null;
  private backlog = false;

  constructor(options: ClaimSizingOptions) {
    this.concurrency = options.concurrency;
    this.fixed = options.prefetch === 'auto' ? null : options.prefetch;
    this.maxAhead = options.maxAhead ?? DEFAULT_MAX_AHEAD;
    this.aheadWaitMs = options.aheadWaitMs ?? DEFAULT_AHEAD_WAIT_MS;
  }

  /** A handler ran for `ms` (from start to settle). */
  observeHandler(ms: number): void {
    const v = Math.max(0, ms);
    this.handlerMs = this.handlerMs === null ? v : this.handlerMs + DURATION_WEIGHT * (v - this.handlerMs);
  }

  /** A claim asked for `asked` jobs and got `got`: a full answer means more are likely waiting. */
  observeClaim(asked: number, got: number): void {
    this.backlog = got >= asked && asked > 0;
  }

  /** Whether the last claim came back full. */
  get behind(): boolean {
    return this.backlog;
  }

  /**
   * Jobs to hold beyond the free slots. Fixed prefetch: that number. Auto: what the slots finish
   * in the target wait at the observed handler duration, bounded by `maxAhead`; before any
   * handler has run, one slot's worth per slot (the concurrency).
   */
  ahead(): number {
    if (this.fixed !== null) return this.fixed;
    if (this.handlerMs === null) return Math.min(this.concurrency, this.maxAhead);
    const perSlot = this.aheadWaitMs / Math.max(this.handlerMs, 0.01);
    return Math.max(0, Math.min(this.maxAhead, Math.floor(this.concurrency * perSlot)));
  }

  /** Most jobs the worker may hold (running + buffered) now. */
  capacity(): number {
    return this.concurrency + this.ahead();
  }

  /**
   * How many jobs to claim now; 0 means wait. A slot that is (or is about to be) idle is always
   * filled. Otherwise, behind a backlog, the claim waits until half the capacity is free, so
   * one statement brings back a large batch while the buffer still feeds the slots (with a fixed
   * prefetch too: a fixed buffer refilled one job at a time costs a claim per job).
   */
  claimSize(load: WorkerLoad): number {
    const room = this.capacity() - load.running - load.buffered;
    if (room <= 0) return 0;
    const starving = load.running + load.buffered < this.concurrency;
    if (starving || !this.backlog) return room;
    return room >= Math.ceil(this.capacity() / 2) ? room : 0;
  }
}
