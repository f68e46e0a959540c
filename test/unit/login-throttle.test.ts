import assert from 'node:assert/strict';
import { test } from 'node:test';
import { admitAttempt, COUNTER_IDLE_RESET_S, LOGIN_THROTTLE, lockSeconds, loginThrottleKeys, type CounterState } from '../../src/core/login-throttle.js';

const T0 = Date.parse('2026-12-02T10:00:00Z');

/** Run `n` admitted attempts through the rule, as the database would between them. */
function attempts(n: number, keys = loginThrottleKeys('ann', '192.0.2.1'), start: CounterState[] = [], everyMs = 0): { state: CounterState[]; admitted: number; refusedAt: number | null } {
  let state = start;
  let admitted = 0;
  for (let i = 0; i < n; i += 1) {
    const decision = admitAttempt(keys, state, T0 + i * everyMs);
    if (!decision.admitted) return { state, admitted, refusedAt: i };
    admitted += 1;
    state = decision.next;
  }
  return { state, admitted, refusedAt: null };
}

test('the lock grows exponentially from the limit and is capped at the policy maximum', () => {
  const strict = LOGIN_THROTTLE.accountAtAddress;
  assert.deepEqual([1, 4, 5, 6, 7, 8].map((n) => lockSeconds(n, strict)), [0, 0, 1, 2, 4, 8]);
  assert.equal(lockSeconds(15, strict), 900);
  assert.equal(lockSeconds(10_000, strict), 900);
});

test('a burst of simultaneous attempts on one account is cut off at the limit before any is verified', () => {
  // 100 attempts in the same millisecond: each is counted before its password is checked.
  const { admitted, refusedAt } = attempts(100);
  assert.equal(admitted, LOGIN_THROTTLE.accountAtAddress.lockAfter);
  assert.equal(refusedAt, 5);
});

test('a refused attempt changes no counter, so a locked address cannot push a victim account up', () => {
  const { state } = attempts(5);
  const refused = admitAttempt(loginThrottleKeys('ann', '192.0.2.1'), state, T0 + 10);
  assert.equal(refused.admitted, false);
  assert.ok(!refused.admitted && refused.retryAfterS === 1);
});

test('guesses spread over many addresses meet the softer account limit', () => {
  let state: CounterState[] = [];
  let admitted = 0;
  for (let i = 0; i < 200; i += 1) {
    const decision = admitAttempt(loginThrottleKeys('ann', `198.51.100.${i}`), state, T0);
    if (!decision.admitted) break;
    admitted += 1;
    // Keep every counter seen so far, as the table does.
    state = [...state.filter((s) => !decision.next.some((n) => n.key === s.key)), ...decision.next];
  }
  assert.equal(admitted, LOGIN_THROTTLE.account.lockAfter);
});

test('an idle counter starts again, so no lock is permanent', () => {
  const { state } = attempts(5);
  const later = admitAttempt(loginThrottleKeys('ann', '192.0.2.1'), state, T0 + (COUNTER_IDLE_RESET_S + 1) * 1000);
  assert.ok(later.admitted);
  assert.ok(later.next.every((c) => c.attempts === 1 && c.lockedUntilMs === null));
});
