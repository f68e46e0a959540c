import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allowedTransitionPairs, isNotOlder, lifecycleStep, type JobStatus } from '../../src/core/job-states.js';

test('every transition but a manual retry moves a job strictly forward in its life', () => {
  // Attempt numbers as the engine sets them: a claim (→ running) adds one, nothing else does.
  for (const [from, to] of allowedTransitionPairs()) {
    const attemptBefore = 2;
    const attemptAfter = to === 'running' ? attemptBefore + 1 : attemptBefore;
    const before = lifecycleStep(from, attemptBefore);
    const after = lifecycleStep(to, attemptAfter);
    const manualRetry = (from === 'failed' || from === 'cancelled') && to === 'queued';
    const reschedule = (from === 'queued' || from === 'scheduled') && (to === 'queued' || to === 'scheduled' || to === 'cancelled');
    if (manualRetry || reschedule) assert.equal(after, before, `${from} → ${to}`);
    else assert.ok(after > before, `${from} → ${to}: ${before} then ${after}`);
  }
});

test('a late "running" event does not undo a completion the list already shows', () => {
  const row = { status: 'completed' as JobStatus, attempt: 1 };
  assert.equal(isNotOlder(row, { status: 'running', attempt: 1 }), false);
  assert.equal(isNotOlder(row, { status: 'completed', attempt: 1 }), true);
  assert.equal(isNotOlder({ status: 'running', attempt: 1 }, { status: 'queued', attempt: 1 }), true, 'a failed attempt requeued');
  assert.equal(isNotOlder({ status: 'queued', attempt: 1 }, { status: 'running', attempt: 1 }), false, 'the first attempt, seen after its retry was queued');
  assert.equal(isNotOlder({ status: 'queued', attempt: 0 }, { status: 'running', attempt: 1 }), true);
});
