/**
 * What every maintenance loop shares (the lease rescuer, the retention cleaner, the placer): a
 * `runOnce()` pass, `due()` for the elected scheduler, which runs each pass while it leads, at
 * the loop's interval, and `start()`/`stop()` to run the loop standalone (tests, tools).
 */
import { type Clock, type Logger } from '../core/deps.js';
import { systemClock } from '../engine/clock.js';
import { jobEvent, nullEventSink, type EventSink, type JobChange } from '../core/live-events.js';
import { Sleeper } from './sleeper.js';

/** Least time between two passes of a loop started on its own (an interval of 0 means every scheduler pass). */
const STANDALONE_MIN_INTERVAL_MS = 1000;

/** When a loop's passes are due. */
export interface PassTiming {
  /** Least time between two passes. @defaultValue 0 (every scheduler pass) */
  intervalMs?: number;
  /**
   * When the first pass is due, counted from construction. @defaultValue 0 (at once). Loops with
   * no urgency wait, so a process that starts (or a leader that takes over) spends its first
   * seconds on jobs, not on housekeeping in freshly opened connections.
   */
  firstAfterMs?: number;
  clock?: Clock;
}

/** A maintenance loop: one pass at a time, at most every `intervalMs`. */
export abstract class MaintenancePass {
  /** When the last pass began (clock ms). */
  protected lastRunMs = -Infinity;
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly sleeper = new Sleeper(true);

  /** Least time between two passes (0: every scheduler pass). */
  readonly intervalMs: number;
  protected readonly clock: Clock;

  /** `name` names the loop in logs. */
  protected constructor(readonly name: string, protected readonly logger: Logger, timing: PassTiming) {
    this.intervalMs = timing.intervalMs ?? 0;
    this.clock = timing.clock ?? systemClock;
    if (timing.firstAfterMs) this.lastRunMs = this.clock.nowMs() - this.intervalMs + timing.firstAfterMs;
  }

  /** One pass; returns how many jobs (or rows) it handled. */
  protected abstract pass(): Promise<number>;

  /** Whether a pass is due: the interval has passed since the last one began. */
  due(): boolean {
    return this.clock.nowMs() - this.lastRunMs >= this.intervalMs;
  }

  /** Whether the last pass left work behind, so the next should follow at once. */
  protected moreWork(): boolean {
    return false;
  }

  /** Run one pass now. */
  runOnce(): Promise<number> {
    // Counted from the start, even if the pass fails: a failing pass is not retried every tick.
    this.lastRunMs = this.clock.nowMs();
    return this.pass();
  }

  /** Run passes every interval until stopped (without leader election: for tests and tools). */
  start(): Promise<void> {
    if (this.running) return Promise.resolve();
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        try {
          await this.runOnce();
        } catch (error) {
          this.logger.warn({ loop: this.name, err: (error as Error).message }, `${this.name} pass failed`);
        }
        if (!this.running || this.moreWork()) continue;
        const every = Math.max(this.intervalMs, STANDALONE_MIN_INTERVAL_MS);
        await this.sleeper.sleep(Math.max(0, this.lastRunMs + every - this.clock.nowMs()));
      }
    })();
    return Promise.resolve();
  }

  /** Stop after the pass in progress. Idempotent; safe without `start()`. */
  async stop(): Promise<void> {
    this.running = false;
    this.sleeper.wake();
    await this.loop;
    this.loop = null;
  }

  /** Announce committed job changes as live events. */
  protected announce(events: EventSink | undefined, changes: readonly JobChange[]): void {
    announceChanges(events, changes, this.clock);
  }
}

/** Announce committed job changes as live events, stamped with the clock's time. */
export function announceChanges(events: EventSink | undefined, changes: readonly JobChange[], clock: Clock): void {
  if (changes.length === 0) return;
  const at = new Date(clock.nowMs()).toISOString();
  (events ?? nullEventSink).publish(changes.map((c) => jobEvent(c, at)));
}
