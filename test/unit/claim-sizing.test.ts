import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClaimSizer, DEFAULT_MAX_AHEAD } from '../../src/core/claim-sizing.js';
import { CLAIM_SIZES, claimSizeFor } from '../../src/db/queries/jobs.js';

const idle = { running: 0, buffered: 0 };

test('before any handler has run, auto prefetch holds one extra job per slot', () => {
  const sizer = new ClaimSizer({ concurrency: 10, prefetch: 'auto' });
  assert.equal(sizer.ahead(), 10);
  assert.equal(sizer.claimSize(idle), 20);
});

test('short handlers get a large buffer, bounded by maxAhead; handlers of a second or more get none', () => {
  const fast = new ClaimSizer({ concurrency: 10, prefetch: 'auto' });
  for (let i = 0; i < 50; i++) fast.observeHandler(0.2);
  assert.equal(fast.ahead(), DEFAULT_MAX_AHEAD);

  const medium = new ClaimSizer({ concurrency: 10, prefetch: 'auto' });
  medium.observeHandler(10);
  // 10 slots finish 50 jobs in 50 ms at 10 ms each.
  assert.ok(Math.abs(medium.ahead() - 50) <= 1, `ahead ${medium.ahead()}`);

  const slow = new ClaimSizer({ concurrency: 10, prefetch: 'auto' });
  for (let i = 0; i < 200; i++) slow.observeHandler(1500);
  assert.equal(slow.ahead(), 0);
  assert.equal(slow.capacity(), 10);
});

test('the handler average follows a change of duration within a few hundred jobs, not at once', () => {
  const sizer = new ClaimSizer({ concurrency: 4, prefetch: 'auto' });
  for (let i = 0; i < 300; i++) sizer.observeHandler(1);
  sizer.observeHandler(5000);
  assert.ok(sizer.ahead() > 0, 'one slow job does not empty the buffer');
  for (let i = 0; i < 300; i++) sizer.observeHandler(5000);
  assert.equal(sizer.ahead(), 0);
});

test('behind a backlog, a worker whose slots are busy waits until half its capacity is free, then claims it all', () => {
  const sizer = new ClaimSizer({ concurrency: 10, prefetch: 'auto' });
  for (let i = 0; i < 100; i++) sizer.observeHandler(1); // ahead = 10 × 50 = 250 → capacity 260
  sizer.observeClaim(128, 128);
  assert.equal(sizer.behind, true);
  assert.equal(sizer.claimSize({ running: 10, buffered: 200 }), 0);
  assert.equal(sizer.claimSize({ running: 10, buffered: 120 }), 130);
});

test('a slot that is idle is always filled, backlog or not', () => {
  const sizer = new ClaimSizer({ concurrency: 10, prefetch: 'auto' });
  for (let i = 0; i < 100; i++) sizer.observeHandler(1);
  sizer.observeClaim(128, 128);
  assert.equal(sizer.claimSize({ running: 9, buffered: 0 }), 251);
  sizer.observeClaim(128, 3);
  assert.equal(sizer.behind, false);
  assert.equal(sizer.claimSize({ running: 10, buffered: 240 }), 10, 'without a backlog any room is claimed when asked');
});

test('a fixed prefetch is used as given, and 0 claims only for free slots', () => {
  const fixed = new ClaimSizer({ concurrency: 5, prefetch: 7 });
  for (let i = 0; i < 100; i++) fixed.observeHandler(5000);
  assert.equal(fixed.ahead(), 7);
  assert.equal(fixed.claimSize({ running: 5, buffered: 6 }), 1, 'without a backlog any room is claimed');
  fixed.observeClaim(6, 6);
  assert.equal(fixed.claimSize({ running: 5, buffered: 6 }), 0, 'behind a backlog, a busy worker waits for half its capacity');
  assert.equal(fixed.claimSize({ running: 5, buffered: 1 }), 6);
  const none = new ClaimSizer({ concurrency: 5, prefetch: 0 });
  none.observeClaim(3, 3);
  assert.equal(none.claimSize({ running: 2, buffered: 0 }), 3);
  assert.equal(none.claimSize({ running: 5, buffered: 0 }), 0);
});

test('claim sizes round down to a size with its own prepared statement, losing at most a third', () => {
  assert.equal(claimSizeFor(0), 0);
  assert.equal(claimSizeFor(1), 1);
  assert.equal(claimSizeFor(5), 4);
  assert.equal(claimSizeFor(130), 128);
  assert.equal(claimSizeFor(10_000), 512);
  for (let n = 1; n <= 512; n++) {
    const size = claimSizeFor(n);
    assert.ok(CLAIM_SIZES.includes(size) && size <= n && size > (n * 2) / 3 - 1, `size ${size} for ${n}`);
  }
});
