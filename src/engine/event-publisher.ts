/** Publishing live events after commit: the process's EventPublisher and the in-process interest of its hubs. */
import { randomBytes } from 'node:crypto';
import { silentLogger, type Clock, type Logger } from '../core/deps.js';
import { encodeEvents } from '../core/event-wire.js';
import type { EventSink, PlaneEvent } from '../core/live-events.js';
import type { Pool } from '../db/pool.js';
import { eventsWanted, notifyEvents } from '../db/queries/event-channel.js';
import { systemClock } from './clock.js';

/**
 * Hubs of this process that have (or recently had) subscribers. In-process publishers see them at
 * once; publishers in other processes learn of interest through `jobplane.event_interest`.
 */
const localInterest = new Set<object>();

/** An `EventHub` of this process wants events (until {@link releaseLocalInterest}). */
export function holdLocalInterest(holder: object): void {
  localInterest.add(holder);
}

/** Withdraw {@link holdLocalInterest}. */
export function releaseLocalInterest(holder: object): void {
  localInterest.delete(holder);
}

/** Options for {@link EventPublisher}. */
export interface EventPublisherOptions {
  logger?: Logger;
  /** Stamps each payload's time. @defaultValue the wall clock */
  clock?: Clock;
  /** Most events waiting to be sent; beyond it the oldest are dropped (subscribers see a gap and reset). @defaultValue 100000 */
  maxPending?: number;
  /**
   * Least time between two sends. The first event after a quiet spell goes at once; under load
   * events gather for this long, so a busy worker sends a few large NOTIFYs a second, not one per
   * claim and report. @defaultValue 10
   */
  minIntervalMs?: number;
  /** How long an answer to "does anyone want events?" is trusted. @defaultValue 1000 */
  interestPollMs?: number;
}

/**
 * Sends events to every API process over NOTIFY, after the change committed. One send in flight
 * at a time: events published meanwhile are packed into the next send, so under load a burst of
 * thousands of changes costs a few statements. A send outside a transaction writes no WAL and
 * takes no commit lock (see `JobProducer` for why that matters).
 *
 * Event numbers are consumed even when a send fails, so subscribers notice the gap by the
 * numbering and are told to re-read.
 *
 * Only while someone listens: events are sent while an `EventHub` of this process has (or
 * recently had) subscribers, or a row in `jobplane.event_interest` says one elsewhere has (read
 * at most every `interestPollMs`). Otherwise they are dropped before any work is done, so an
 * installation nobody is watching pays nothing for live events.
 */
export class EventPublisher implements EventSink {
  /** Unique per process; prefixes event ids. */
  readonly id = randomBytes(6).toString('base64url');
  /** Events sent, and dropped because nobody subscribed (for metrics and tests). */
  readonly stats = { sent: 0, dropped: 0 };
  private seq = 0;
  /** Events numbered below this were sent or given up on. */
  private done = 0;
  private readonly waiters: Array<{ through: number; resolve: () => void }> = [];
  private pending: PlaneEvent[] = [];
  private flushing: Promise<void> | null = null;
  private closed = false;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly maxPending: number;
  private readonly minIntervalMs: number;
  private lastSendAt = -Infinity;
  private readonly interestPollMs: number;
  private remoteWanted = false;
  private checkedAt = -Infinity;

  constructor(
    private readonly pool: Pool,
    options: EventPublisherOptions = {},
  ) {
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    this.maxPending = options.maxPending ?? 100_000;
    this.minIntervalMs = options.minIntervalMs ?? 10;
    this.interestPollMs = options.interestPollMs ?? 1000;
  }

  wanted(): boolean {
    return !this.closed && !this.knownUnwanted();
  }

  /** Nobody subscribes, and that answer is fresh. */
  private knownUnwanted(): boolean {
    return localInterest.size === 0 && !this.remoteWanted && performance.now() - this.checkedAt < this.interestPollMs;
  }

  publish(events: readonly PlaneEvent[]): void {
    if (this.closed || events.length === 0) return;
    // Known to be unwanted: drop at once (no numbers consumed, so no subscriber sees a gap).
    if (this.knownUnwanted()) {
      this.stats.dropped += events.length;
      return;
    }
    this.pending.push(...events);
    if (this.pending.length > this.maxPending) {
      const dropped = this.pending.length - this.maxPending;
      this.pending.splice(0, dropped);
      this.seq += dropped;
      this.logger.warn({ dropped }, 'live events dropped: the database is not keeping up; subscribers will re-read');
    }
    if (!this.flushing) this.flushing = this.flush().finally(() => (this.flushing = null));
  }

  flushed(): Promise<void> {
    const through = this.seq + this.pending.length;
    if (this.done >= through || this.pending.length === 0 && !this.flushing) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ through, resolve }));
  }

  private async checkInterest(): Promise<void> {
    try {
      this.remoteWanted = await eventsWanted(this.pool);
    } catch (error) {
      this.logger.debug({ err: (error as Error).message }, 'could not read event interest; keeping the last answer');
    }
    this.checkedAt = performance.now();
  }

  /** Send what is pending, then stop accepting events. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing) await this.flushing;
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      if (localInterest.size === 0 && performance.now() - this.checkedAt >= this.interestPollMs) await this.checkInterest();
      if (localInterest.size === 0 && !this.remoteWanted) {
        // Nobody subscribes anywhere: these events are not needed. A hub that gains subscribers
        // later tells them to re-read (see EventHub), so nothing is silently missing.
        this.stats.dropped += this.pending.length;
        this.pending = [];
        for (const waiter of this.waiters.splice(0)) waiter.resolve();
        break;
      }
      const wait = this.lastSendAt + this.minIntervalMs - performance.now();
      // Someone waiting on flushed() (the producer, before it wakes workers) does not wait.
      if (wait > 0 && !this.closed && this.waiters.length === 0) await new Promise((resolve) => setTimeout(resolve, wait));
      this.lastSendAt = performance.now();
      const batch = this.pending;
      this.pending = [];
      const first = this.seq;
      this.seq += batch.length;
      try {
        await notifyEvents(this.pool, encodeEvents(this.id, first, batch, new Date(this.clock.nowMs()).toISOString()));
        this.stats.sent += batch.length;
      } catch (error) {
        this.logger.warn({ err: (error as Error).message, lost: batch.length }, 'could not send live events; subscribers will re-read');
      }
      this.done = first + batch.length;
      for (let i = this.waiters.length - 1; i >= 0; i -= 1) {
        const waiter = this.waiters[i]!;
        if (waiter.through <= this.done) {
          this.waiters.splice(i, 1);
          waiter.resolve();
        }
      }
    }
  }
}
