/**
 * Rewrapper: after the active secrets key changed (docs/secrets.md, rotation), re-encrypts the
 * rows still under older keys, one batch per pass, so the old key can be removed without a
 * moment where some process cannot read a secret. Run by the elected scheduler leader as one of
 * its maintenance steps; `start()` runs it standalone. Several rewrappers at once are safe: each
 * batch locks its rows with SKIP LOCKED.
 */
import { silentLogger, type Clock, type Logger } from '../core/deps.js';
import { systemClock } from '../engine/clock.js';
import { DEFAULT_REWRAP_BATCH, type SecretService } from '../engine/secrets/index.js';

/** Options for {@link SecretRewrapper}. */
export interface SecretRewrapperOptions {
  /** The process's secrets service (its keyring decides what the active key is). */
  secrets: Pick<SecretService, 'rewrap'>;
  logger?: Logger;
  clock?: Clock;
  /** Rows per pass. @defaultValue 100 */
  batch?: number;
  /**
   * After a pass that found nothing (more) to move, how long until the next look. A key change
   * needs a restart of the processes, so a minute's delay before rewrapping begins costs nothing.
   * @defaultValue 60000
   */
  idleIntervalMs?: number;
}

/** Re-encrypts secrets under non-active keys, a batch per pass. Lifecycle: `start()`, `stop()`, `runOnce()`. */
export class SecretRewrapper {
  private readonly secrets: Pick<SecretService, 'rewrap'>;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly batch: number;
  private readonly idleIntervalMs: number;
  private lastRunMs = -Infinity;
  private moreLikely = true;
  private running = false;
  private loop: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  private total = 0;

  constructor(options: SecretRewrapperOptions) {
    this.secrets = options.secrets;
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    this.batch = options.batch ?? DEFAULT_REWRAP_BATCH;
    this.idleIntervalMs = options.idleIntervalMs ?? 60_000;
  }

  /** Whether a pass is due: rows were left after the last one, or the idle interval has passed. */
  due(): boolean {
    return this.moreLikely || this.clock.nowMs() - this.lastRunMs >= this.idleIntervalMs;
  }

  /** Rewrap one batch; returns how many rows moved to the active key. */
  async runOnce(): Promise<number> {
    this.lastRunMs = this.clock.nowMs();
    // Until the pass answers, assume nothing is left: a failing pass must not be retried every tick.
    this.moreLikely = false;
    const moved = await this.secrets.rewrap({ batch: this.batch });
    this.moreLikely = moved >= this.batch;
    if (moved > 0) {
      this.total += moved;
      this.logger.info({ moved, total: this.total, more: this.moreLikely }, 'rewrapped secrets onto the active key');
    } else if (this.total > 0) {
      this.logger.info({ total: this.total }, 'every readable secret is under the active key');
      this.total = 0;
    }
    return moved;
  }

  /** Run passes until stopped: back to back while rows are left, then every idle interval. */
  start(): Promise<void> {
    if (this.running) return Promise.resolve();
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        if (this.due()) {
          try {
            await this.runOnce();
          } catch (error) {
            this.logger.warn({ err: (error as Error).message }, 'secret rewrap pass failed');
          }
        }
        if (!this.running) break;
        if (!this.moreLikely) await this.sleep(Math.max(0, this.lastRunMs + this.idleIntervalMs - this.clock.nowMs()));
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

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => {
        if (this.timer) clearTimeout(this.timer);
        this.timer = null;
        this.wake = null;
        resolve();
      };
      this.timer = setTimeout(() => this.wake?.(), ms);
      this.timer.unref();
    });
  }
}
