import assert from 'node:assert/strict';
import { test } from 'node:test';
import { duration } from '../../src/cli/command.js';
import { loadConfig } from '../../src/config/index.js';
import { parseDuration } from '../../src/core/duration.js';

test('a bare whole number is milliseconds, a unit or a sum of units is converted, and anything else is refused', () => {
  assert.equal(parseDuration('1500'), 1500);
  assert.equal(parseDuration(' 0 '), 0);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('30 s'), 30_000);
  assert.equal(parseDuration('1.5m'), 90_000);
  assert.equal(parseDuration('2d'), 172_800_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('1w'), 604_800_000);
  for (const bad of ['', 'soon', '1.5', '-5', '5x', '5 minutes', 'ms', '1h-30m']) assert.equal(parseDuration(bad), null, bad);
});

test('a setting and a CLI flag read the same duration text the same way, bare numbers included', () => {
  for (const [text, ms] of [['1500', 1500], ['5s', 5000], ['1h30m', 5_400_000]] as const) {
    assert.equal(loadConfig({ JOBPLANE_LEASE: text }).leaseMs, ms, `setting ${text}`);
    assert.equal(duration({ timeout: text }, 'timeout'), ms, `flag ${text}`);
  }
});
