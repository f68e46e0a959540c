/**
 * What every maintenance loop shares (the lease rescuer, the retention cleaner, the placer): a
 * `runOnce()` pass, `due()` for the elected scheduler, which runs each pass while it leads, at
 * the loop's interval, and `start()`/`stop()` to run the loop standalone (tests, tools).
 */
import type { Clock, Logger } from '../core/deps.js';
import { jobEvent, nullEventSink, type EventSink, type JobChange } from '../core/live-events.js';

/** A maintenance loop: one pass at a time, at most every `intervalMs`. */
export abstract class MaintenancePass {
  private lastRunMs = -Infinity;
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  protected constructor(
    /** Names the loop in logs. */
    readonly name: string,
    /** Least time between two passes (0: every scheduler pass). */
    readonly intervalMs: number,
    protected readonly clock: Clock,
    protected readonly logger: Logger,
  ) {}

  /** One pass; returns how many jobs (or rows) it handled. */
  protected abstract pass(): Promise<number>;

  /** Whether the interval has passed since the last pass began. */
  due(): boolean {
    return this.clock.nowMs() - this.lastRunMs >= this.intervalMs;
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
          this.logger.warn({ loop: this.name, err: (error as Error).message }, 'maintenance pass failed');
        }
        if (this.running) await this.sleep(Math.max(0, this.lastRunMs + this.intervalMs - this.clock.nowMs()));
      }
    })();
    return Promise.resolve();
  }

  /** Stop after the pass in progress. Idempotent; safe without `start()`. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = null;
  }

  /** Announce committed job changes as live events. */
  protected announce(events: EventSink | undefined, changes: readonly JobChange[]): void {
    announceChanges(events, changes, this.clock);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.wake = done;
    });
  }
}

/** Announce committed job changes as live events, stamped with the clock's time. */
export function announceChanges(events: EventSink | undefined, changes: readonly JobChange[], clock: Clock): void {
  if (changes.length === 0) return;
  const at = new Date(clock.nowMs()).toISOString();
  (events ?? nullEventSink).publish(changes.map((c) => jobEvent(c, at)));
}
