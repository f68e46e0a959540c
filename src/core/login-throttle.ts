/**
 * Login throttling (docs/decisions.md #18, NIST SP 800-63B §5.2.2), pure. Every attempt is
 * counted before its password is verified, so a burst of simultaneous guesses is cut off at the
 * limit instead of all being checked; the database holds the counters (shared by every API
 * process) and applies {@link admitAttempt} under a row lock.
 *
 * Three counters per attempt, each with its own limit:
 * - the account at this address (`ua:`): the strict one — a few guesses, then a growing lock;
 * - the account from anywhere (`user:`): softer, against guesses spread over many addresses,
 *   without letting one address lock a victim out everywhere;
 * - the address (`ip:`): softer still, against one address guessing many accounts; behind a
 *   proxy it is per client only when JOBPLANE_TRUSTED_PROXIES names the proxy.
 * A successful login resets only that account's counters; the address's counter merely takes
 * back the successful attempt, so logging in to one's own account never clears guesses made
 * against others.
 */

/** When a counter locks. */
export interface ThrottlePolicy {
  /** Attempts (since the last success, without an idle gap of {@link COUNTER_IDLE_RESET_S}) before the first lock. */
  lockAfter: number;
  /** Longest lock, in seconds. */
  maxLockS: number;
}

/** The three counters' limits. */
export const LOGIN_THROTTLE = Object.freeze({
  accountAtAddress: Object.freeze({ lockAfter: 5, maxLockS: 900 }),
  account: Object.freeze({ lockAfter: 50, maxLockS: 900 }),
  address: Object.freeze({ lockAfter: 30, maxLockS: 900 }),
} satisfies Record<string, ThrottlePolicy>);

/** A counter idle this long starts again from zero, so no lock is permanent. */
export const COUNTER_IDLE_RESET_S = 900;

/** One counter to check, with its policy. */
export interface ThrottleKey {
  key: string;
  policy: ThrottlePolicy;
  /** Whether a successful login clears it (the account's own counters) or only takes the attempt back (the address). */
  resetOnSuccess: boolean;
}

/**
 * The counters of an attempt at `username` from `ip`. The username is taken as typed when it is
 * not a valid one, so unknown and invalid names are throttled like real ones and reveal nothing.
 */
export function loginThrottleKeys(username: string, ip: string): ThrottleKey[] {
  return [
    { key: `ua:${ip}|${username}`, policy: LOGIN_THROTTLE.accountAtAddress, resetOnSuccess: true },
    { key: `user:${username}`, policy: LOGIN_THROTTLE.account, resetOnSuccess: true },
    { key: `ip:${ip}`, policy: LOGIN_THROTTLE.address, resetOnSuccess: false },
  ];
}

/**
 * Seconds to lock after the `attempts`-th counted attempt: none below `lockAfter`, then 1 s, 2 s,
 * 4 s … capped at `maxLockS` (growing delays instead of a hard lockout, which would hand
 * attackers a denial of service).
 */
export function lockSeconds(attempts: number, policy: ThrottlePolicy): number {
  if (attempts < policy.lockAfter) return 0;
  return Math.min(policy.maxLockS, 2 ** Math.min(attempts - policy.lockAfter, 20));
}

/** A stored counter. */
export interface CounterState {
  key: string;
  attempts: number;
  lockedUntilMs: number | null;
  updatedAtMs: number;
}

/** The decision on one attempt. */
export type Admission =
  | { admitted: true; next: CounterState[] }
  | { admitted: false; retryAfterS: number };

/**
 * Decide whether an attempt may be verified, and the counters afterwards. Refused while any
 * counter is locked (counters are left alone, so a locked address cannot push a victim's account
 * counter up). Admitted attempts are counted as failures in advance, and the counter that reaches
 * its limit locks at once: concurrent attempts behind it see the lock before any verify ends. A
 * success gives it back (the account's counters are cleared, the address takes back one attempt:
 * `settleSuccess` in src/db/queries/login-attempts.ts).
 */
export function admitAttempt(keys: readonly ThrottleKey[], stored: readonly CounterState[], nowMs: number): Admission {
  const byKey = new Map(stored.map((s) => [s.key, s]));
  let retryMs = 0;
  for (const { key } of keys) {
    const lockedUntil = byKey.get(key)?.lockedUntilMs ?? null;
    if (lockedUntil !== null && lockedUntil > nowMs) retryMs = Math.max(retryMs, lockedUntil - nowMs);
  }
  if (retryMs > 0) return { admitted: false, retryAfterS: Math.max(1, Math.ceil(retryMs / 1000)) };
  const next = keys.map(({ key, policy }): CounterState => {
    const current = byKey.get(key);
    const idle = current === undefined || nowMs - current.updatedAtMs > COUNTER_IDLE_RESET_S * 1000;
    const attempts = (idle ? 0 : current.attempts) + 1;
    const lock = lockSeconds(attempts, policy);
    return { key, attempts, lockedUntilMs: lock > 0 ? nowMs + lock * 1000 : null, updatedAtMs: nowMs };
  });
  return { admitted: true, next };
}
