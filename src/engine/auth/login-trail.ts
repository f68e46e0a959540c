/**
 * The failed-login trail (docs/security.md): failed, throttled and disabled logins, and wrong
 * current passwords, kept apart from the tenants' audit chains so anonymous traffic cannot grow a
 * chain. Rate-limited and bounded: attempts are counted in memory per (minute, address, username,
 * reason) and written at most once a second as one statement; a flush holds at most
 * {@link MAX_ENTRIES_PER_FLUSH} distinct lines and counts the rest as dropped (logged).
 */
import { silentLogger, type Clock, type Logger } from '../../core/deps.js';
import { systemClock } from '../clock.js';
import type { Queryable } from '../../db/pool.js';
import { addLoginFailures, type LoginFailureEntry } from '../../db/queries/login-attempts.js';

/** Distinct lines one flush writes; beyond this, attempts are counted as dropped. */
export const MAX_ENTRIES_PER_FLUSH = 1000;
/** How long attempts gather in memory before they are written. */
export const FLUSH_INTERVAL_MS = 1000;

type Reason = LoginFailureEntry['reason'];
type Pending = Omit<LoginFailureEntry, 'tenantId' | 'userId'>;

/** Collects failed logins and writes them in aggregated batches. */
export class LoginTrail {
  private pending = new Map<string, Pending>();
  private dropped = 0;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(private readonly db: Queryable, options: { clock?: Clock; logger?: Logger } = {}) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
  }

  /** Count one attempt; written within {@link FLUSH_INTERVAL_MS}. Never throws, never waits. */
  record(attempt: { clientIp: string; username: string; reason: Reason }): void {
    const nowMs = this.clock.nowMs();
    const bucket = new Date(nowMs - (nowMs % 60_000));
    const clientIp = attempt.clientIp.slice(0, 64);
    const username = attempt.username.slice(0, 64);
    const key = `${bucket.getTime()}|${clientIp}|${username}|${attempt.reason}`;
    const line = this.pending.get(key);
    const at = new Date(nowMs);
    if (line) {
      line.attempts += 1;
      line.lastAt = at;
    } else if (this.pending.size >= MAX_ENTRIES_PER_FLUSH) {
      this.dropped += 1;
    } else {
      this.pending.set(key, { bucket, clientIp, username, reason: attempt.reason, attempts: 1, firstAt: at, lastAt: at });
    }
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_INTERVAL_MS).unref();
  }

  /** Write what has gathered (tests and shutdown call it; otherwise the timer does). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      const lines = [...this.pending.values()];
      const dropped = this.dropped;
      this.pending = new Map();
      this.dropped = 0;
      if (dropped > 0) this.logger.warn({ dropped, kept: lines.length }, 'failed-login flood: attempts beyond the trail\'s per-second bound were counted, not stored');
      try {
        await addLoginFailures(this.db, lines);
      } catch (error) {
        this.logger.error({ err: (error as Error).message, lines: lines.length }, 'could not write the failed-login trail');
      }
    });
    return this.flushing;
  }
}
