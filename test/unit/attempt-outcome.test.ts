import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideExpiredLease, decideReportedFailure, finalStatus, REPORT_KINDS } from '../../src/core/attempt-outcome.js';

const ctx = { workerId: 'w-1', nowIso: '2026-01-01T00:00:00.000Z', random: () => 0.5 };
const job = (attempt: number, maxAttempts: number) => ({ attempt, attemptBase: 0, maxAttempts, backoff: { type: 'fixed' as const, baseMs: 1000, jitter: 0 } });

test('a reported failure retries after retryAfterMs or the backoff while attempts are left, and fails on the last attempt', () => {
  assert.deepEqual(
    [decideReportedFailure(job(1, 3), { message: 'x', retryAfterMs: 5 }, false, ctx)].map((o) => [o.kind, 'delayMs' in o ? o.delayMs : null]),
    [['retry', 5]],
  );
  const backoff = decideReportedFailure(job(2, 3), { message: 'x' }, false, ctx);
  assert.equal(backoff.kind, 'retry');
  assert.equal(backoff.kind === 'retry' ? backoff.delayMs : 0, 1000);
  assert.equal(decideReportedFailure(job(3, 3), { message: 'x' }, false, ctx).kind, 'failed');
});

test('a reported failure that is not retryable fails at once, and one stopped by a cancel ends cancelled', () => {
  const permanent = decideReportedFailure(job(1, 5), { message: 'bad', retryable: false }, false, ctx);
  assert.deepEqual([permanent.kind, permanent.error.kind], ['failed', 'permanent']);
  const cancelled = decideReportedFailure(job(1, 5), { message: 'stop', retryable: false }, true, ctx);
  assert.deepEqual([cancelled.kind, cancelled.error.kind], ['cancelled', 'cancelled']);
});

test("a reported failure keeps the worker's name and stack, bounded, and an empty message reads 'unknown error'", () => {
  const { error } = decideReportedFailure(job(1, 1), { message: '', name: 'IOError', stack: 's'.repeat(10_000) }, false, ctx);
  assert.equal(error.message, 'unknown error');
  assert.equal(error.name, 'IOError');
  assert.equal(error.stack?.length, 8192);
  assert.deepEqual([error.attempt, error.workerId, error.at], [1, 'w-1', ctx.nowIso]);
});

test('an expired lease re-queues the job while attempts are left, fails it on the last one, and cancels it when a cancel was requested', () => {
  const expired = (attempt: number, cancelRequested: boolean) => ({ attempt, attemptBase: 0, maxAttempts: 2, workerId: 'w-1', cancelRequested });
  assert.equal(decideExpiredLease(expired(1, false), ctx.nowIso).status, 'queued');
  assert.equal(decideExpiredLease(expired(2, false), ctx.nowIso).status, 'failed');
  assert.equal(decideExpiredLease(expired(1, true), ctx.nowIso).status, 'cancelled');
  assert.equal(decideExpiredLease(expired(2, true), ctx.nowIso).error.kind, 'lease-expired');
});

test('a requested cancel wins over every report but a completion', () => {
  for (const kind of REPORT_KINDS) assert.equal(finalStatus(kind, true), kind === 'completed' ? 'completed' : 'cancelled');
  assert.deepEqual(REPORT_KINDS.map((k) => finalStatus(k, false)), ['completed', 'queued', 'failed', 'cancelled', 'queued']);
});
