import { EventEmitter } from 'node:events';
import { silentLogger, type Clock, type Logger } from '../core/deps.js';
import { systemClock } from './clock.js';
import type { Pool } from '../db/pool.js';
import { pingDatabase } from '../db/queries/workers.js';

/** What the last ping found: `read-only` answers but refuses writes (a standby, a full disk). */
export type DatabaseState = 'unknown' | 'up' | 'read-only' | 'down';

/** Options for {@link DatabaseHealth}. */
export interface DatabaseHealthOptions {
  pool: Pool;
  /** Time between pings; /readyz reflects a lost database within this. @defaultValue 2000 */
  intervalMs?: number;
  /** A ping slower than this counts as a failure (a black-holed network hangs, it does not refuse); generous, so a loaded machine is not reported down. @defaultValue 5000 */
  timeoutMs?: number;
  logger?: Logger;
  clock?: Clock;
}

/** Events of {@link DatabaseHealth}. */
export interface DatabaseHealthEvents {
  change: [{ from: DatabaseState; to: DatabaseState; error: string | null; downForMs: number | null }];
}

/**
 * Pings the database on an interval so readiness and metrics know it is gone within one interval,
 * instead of each caller finding out by waiting for a connection. It never throws: a lost
 * database is a state to report (not-ready, a log line per transition), and every other loop
 * reconnects on its own through the pool.
 */
export class DatabaseHealth {
  readonly events = new EventEmitter<DatabaseHealthEvents>();
  private current: DatabaseState = 'unknown';
  private error: string | null = null;
  private downSince: number | null = null;
  private recoveries = 0;
  private inFlight: Promise<unknown> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly logger: Logger;
  private readonly clock: Clock;

  constructor(private readonly options: DatabaseHealthOptions) {
    this.intervalMs = options.intervalMs ?? 2000;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
  }

  /** The state as of the last ping. */
  get state(): DatabaseState {
    return this.current;
  }

  /** Why the last ping failed, while down. */
  get lastError(): string | null {
    return this.error;
  }

  /** How many times the database came back after being down. */
  get reconnects(): number {
    return this.recoveries;
  }

  /** Ping now and then every interval. Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const tick = (): void => {
      void this.runOnce().finally(() => {
        if (!this.running) return;
        this.timer = setTimeout(tick, this.intervalMs);
        this.timer.unref();
      });
    };
    tick();
  }

  /** Stop pinging. Idempotent. */
  stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    return Promise.resolve();
  }

  /** One ping; returns the new state. A ping still hanging from before counts as a failure. */
  async runOnce(): Promise<DatabaseState> {
    if (this.inFlight) {
      this.set('down', `the previous ping has not answered for over ${this.timeoutMs} ms`);
      return this.current;
    }
    let timer: NodeJS.Timeout | undefined;
    const ping = pingDatabase(this.options.pool);
    this.inFlight = ping.catch(() => undefined).finally(() => (this.inFlight = null));
    try {
      const answer = await Promise.race([
        ping,
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
          timer.unref();
        }),
      ]);
      this.set(answer.readOnly ? 'read-only' : 'up', null);
    } catch (error) {
      this.set('down', (error as Error).message);
    } finally {
      clearTimeout(timer);
    }
    return this.current;
  }

  private set(to: DatabaseState, error: string | null): void {
    const from = this.current;
    this.error = error;
    if (from === to) return;
    this.current = to;
    const now = this.clock.nowMs();
    let downForMs: number | null = null;
    if (to === 'down') {
      this.downSince = now;
      this.logger.warn({ err: error }, 'database unreachable: not ready; every role keeps retrying');
    } else {
      if (from === 'down' && this.downSince !== null) {
        downForMs = now - this.downSince;
        this.recoveries += 1;
        this.logger.info({ downForMs }, 'database reachable again');
      }
      this.downSince = null;
      if (to === 'read-only') this.logger.warn({}, 'the database is read-only: reads work, writes answer 503 DATABASE_READ_ONLY');
      else if (from === 'read-only') this.logger.info({}, 'the database accepts writes again');
    }
    this.events.emit('change', { from, to, error, downForMs });
  }
}
