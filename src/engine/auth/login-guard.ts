/**
 * Guards every password check (a login, a current password): counts the attempt in PostgreSQL
 * before the password is verified (src/core/login-throttle.ts), lets one verify per account run
 * at a time in this process, settles the counters afterwards and records failures in the
 * failed-login trail. So 100 guesses sent at once cost at most the throttle's limit in argon2
 * verifies, on every API process together.
 */
import { silentLogger, type Clock, type Logger } from '../../core/deps.js';
import { admitAttempt, loginThrottleKeys } from '../../core/login-throttle.js';
import { withTransaction, type Queryable } from '../../db/pool.js';
import { lockCounters, settleSuccess, writeCounters, type LoginFailureEntry } from '../../db/queries/login-attempts.js';
import { RateLimitedError } from './inputs.js';
import { LoginTrail } from './login-trail.js';

/** What a guarded check found. */
export type CheckOutcome = 'ok' | Exclude<LoginFailureEntry['reason'], 'throttled'>;

/** The login guard. */
export type LoginGuard = ReturnType<typeof createLoginGuard>;

/** Build the guard over `pool` (the counters and the trail live there). */
export function createLoginGuard(options: { pool: Queryable; logger?: Logger; clock?: Clock }) {
  const { pool } = options;
  const logger = options.logger ?? silentLogger;
  const trail = new LoginTrail(pool, { logger, ...(options.clock ? { clock: options.clock } : {}) });
  /** The tail of each account's queue of verifies in this process. */
  const queues = new Map<string, Promise<unknown>>();

  /** Run `fn` after every earlier guarded check of the same account in this process. */
  function oneAtATime<T>(account: string, fn: () => Promise<T>): Promise<T> {
    const previous = queues.get(account) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => undefined);
    queues.set(account, tail);
    void tail.then(() => {
      if (queues.get(account) === tail) queues.delete(account);
    });
    return run;
  }

  /**
   * Admit, check and settle one attempt at `account` (the normalised username, or the name as
   * typed) from `ip`. RATE_LIMITED when a counter is locked; otherwise whether `check` said ok.
   */
  async function guard(account: string, ip: string, check: () => Promise<CheckOutcome>): Promise<boolean> {
    const keys = loginThrottleKeys(account, ip);
    const admission = await withTransaction(pool, async (tx) => {
      const { nowMs, counters } = await lockCounters(tx, keys.map((k) => k.key));
      const decision = admitAttempt(keys, counters, nowMs);
      if (decision.admitted) await writeCounters(tx, decision.next);
      return decision;
    });
    if (!admission.admitted) {
      trail.record({ clientIp: ip, username: account, reason: 'throttled' });
      throw new RateLimitedError(admission.retryAfterS);
    }
    const outcome = await oneAtATime(account, check);
    if (outcome !== 'ok') {
      trail.record({ clientIp: ip, username: account, reason: outcome });
      logger.info({ username: account, ip, reason: outcome }, 'password check failed');
      return false;
    }
    await settleSuccess(
      pool,
      keys.filter((k) => k.resetOnSuccess).map((k) => k.key),
      keys.filter((k) => !k.resetOnSuccess).map((k) => ({ key: k.key, lockAfter: k.policy.lockAfter })),
    );
    return true;
  }

  return {
    guard,
    /** Write the trail's pending lines now (tests; shutdown). */
    flush: () => trail.flush(),
  };
}
