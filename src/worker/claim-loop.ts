import type { EventEmitter } from 'node:events';
import type { Clock } from '../core/deps.js';
import { ClaimSizer } from '../core/claim-sizing.js';
import { claimSizeFor, type ClaimedJob, type ClaimFilter } from '../db/queries/jobs.js';
import type { LeaseAnswer } from '../engine/attempts/index.js';
import type { JobClaimer } from '../engine/claimer.js';
import type { AttemptRunner } from './attempt-runner.js';
import type { WorkerEvents } from './worker-options.js';

/** A worker's lifecycle state. */
export type WorkerState = 'new' | 'running' | 'stopping' | 'stopped';

/** What a {@link ClaimLoop} needs from its worker. */
export interface ClaimLoopDeps {
  claimer: JobClaimer;
  filter: ClaimFilter;
  clock: Clock;
  runner: AttemptRunner;
  events: EventEmitter<WorkerEvents>;
  settings: { concurrency: number; prefetch: number | 'auto' };
  state: () => WorkerState;
  reportFailure: (during: string, error: unknown) => void;
}

/**
 * Claims jobs for a worker as slots free up: one claim at a time, asked again while claims come
 * back full, woken by notifications, by the due time of a retried or delayed job, and by a polling
 * backstop. Jobs claimed ahead of free slots (prefetch) wait in a buffer, holding their lease; how
 * many, and when to claim, is decided by a {@link ClaimSizer} from the backlog and from handler
 * durations.
 */
export class ClaimLoop {
  private buffer: ClaimedJob[] = [];
  private claiming = false;
  /** The claim loop in progress, which stop waits for: jobs it brings back must be released. */
  private claimRun: Promise<void> = Promise.resolve();
  private claimRequested = false;
  private moreLikely = false;
  private wakeTimer: { at: number; timer: NodeJS.Timeout } | null = null;
  private readonly sizer: ClaimSizer;

  constructor(private readonly deps: ClaimLoopDeps) {
    this.sizer = new ClaimSizer({ concurrency: deps.settings.concurrency, prefetch: deps.settings.prefetch });
  }

  /** Jobs claimed and waiting for a slot. */
  get buffered(): readonly ClaimedJob[] {
    return this.buffer;
  }

  /** Claim as soon as possible (a notification, the poll, a connection regained). */
  request(): void {
    this.claimRequested = true;
    if (!this.claiming && this.deps.state() === 'running') this.claimRun = this.loop();
  }

  /** Claim at `atMs` (a job becomes due then), keeping only the earliest such wake-up. */
  wakeAt(atMs: number): void {
    const delay = atMs - this.deps.clock.nowMs();
    if (delay <= 5) return this.request();
    if (this.wakeTimer && this.wakeTimer.at <= atMs) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer.timer);
    const timer = setTimeout(() => {
      this.wakeTimer = null;
      this.request();
    }, delay);
    timer.unref();
    this.wakeTimer = { at: atMs, timer };
  }

  /** A slot was freed after `handlerMs`: start a buffered job, and claim again if work is likely waiting. */
  onSlotFreed(handlerMs: number): void {
    this.sizer.observeHandler(handlerMs);
    this.startBuffered();
    if (this.moreLikely) this.request();
  }

  /** Claim up to `limit` jobs now (emits `claimed`). */
  async claim(limit: number): Promise<ClaimedJob[]> {
    const started = performance.now();
    const jobs = await this.deps.claimer.claim(this.deps.filter, limit);
    if (jobs.length > 0) this.deps.events.emit('claimed', { count: jobs.length, durationMs: performance.now() - started });
    return jobs;
  }

  /** Remove a buffered job whose cancel was requested; returns false when it is not buffered. */
  cancelBuffered(jobId: string): boolean {
    const index = this.buffer.findIndex((j) => j.id === jobId);
    if (index < 0) return false;
    this.deps.runner.cancelUnstarted(this.buffer.splice(index, 1)[0]!);
    return true;
  }

  /** Act on a lease renewal: buffered jobs whose lease was lost are dropped, cancelled ones reported. */
  onLeaseAnswer(answer: LeaseAnswer<ClaimedJob>): void {
    if (this.buffer.length === 0 || (answer.lost.length === 0 && answer.cancelled.length === 0)) return;
    const lost = new Set(answer.lost);
    const cancelled = new Set(answer.cancelled);
    this.buffer = this.buffer.filter((job) => {
      if (cancelled.has(job)) {
        this.deps.runner.cancelUnstarted(job);
        return false;
      }
      return !lost.has(job);
    });
  }

  /**
   * Stop claiming: put the buffered jobs back (before any await, so a handler settling meanwhile
   * cannot start them), and resolve once a claim already sent has come back.
   */
  stop(): Promise<void> {
    for (const job of this.buffer.splice(0)) this.deps.runner.releaseUnstarted(job);
    if (this.wakeTimer) clearTimeout(this.wakeTimer.timer);
    return this.claimRun.catch(() => undefined);
  }

  private startBuffered(): void {
    const state = this.deps.state();
    if (state === 'stopping' || state === 'stopped') return;
    const { runner } = this.deps;
    while (runner.running < this.deps.settings.concurrency && this.buffer.length > 0) runner.start(this.buffer.shift()!);
  }

  private async loop(): Promise<void> {
    this.claiming = true;
    try {
      while (this.claimRequested && this.deps.state() === 'running') {
        this.claimRequested = false;
        const size = this.sizer.claimSize({ running: this.deps.runner.running, buffered: this.buffer.length });
        if (size <= 0) {
          // Remember that work may be waiting; a finishing job will ask again.
          this.moreLikely = true;
          break;
        }
        let jobs: ClaimedJob[];
        try {
          jobs = await this.claim(size);
        } catch (error) {
          this.deps.reportFailure('claim', error);
          break;
        }
        if (this.deps.state() !== 'running') {
          // A claim already sent when the worker began to stop: release, rather than leave the
          // jobs running until their lease expires.
          for (const job of jobs) this.deps.runner.releaseUnstarted(job);
          break;
        }
        // The claim asks for a size it has a prepared statement for (at most `size`).
        const asked = claimSizeFor(size);
        this.sizer.observeClaim(asked, jobs.length);
        this.moreLikely = jobs.length >= asked;
        if (this.moreLikely) this.claimRequested = true;
        for (const job of jobs) this.buffer.push(job);
        this.startBuffered();
      }
    } finally {
      this.claiming = false;
    }
  }
}
