/**
 * The CLI's pure helpers: tables, durations, times, colours, progress.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeFailure, EXIT, UsageError } from '../../src/cli/context.js';
import { colorStatus, formatAgo, formatTable, makeColors, parseTime, progressBar, progressPercent, shouldColor, stripAnsi, visibleWidth } from '../../src/cli/format.js';
import { ApiError } from '../../src/client/client.js';

test('a table aligns columns under upper-case headers without trailing blanks', () => {
  const table = formatTable(['id', 'status', 'task'], [
    ['a', 'queued', 'noop'],
    ['bbbb', 'completed', 'http'],
  ]);
  assert.equal(table, ['ID    STATUS     TASK', 'a     queued     noop', 'bbbb  completed  http'].join('\n'));
});

test('colour codes do not count towards column widths', () => {
  const c = makeColors(true);
  const table = formatTable(['status', 'n'], [[colorStatus('failed', c), '1'], ['queued', '2']], c);
  const lines = table.split('\n').map(stripAnsi);
  assert.deepEqual(lines, ['STATUS  N', 'failed  1', 'queued  2']);
  assert.equal(visibleWidth(c.red('abc')), 3);
});

test('times are ISO 8601 or a duration ago', () => {
  const now = new Date('2026-11-22T12:00:00Z');
  assert.equal(parseTime('1h', now), '2026-11-22T11:00:00.000Z');
  assert.equal(parseTime('2026-11-01T08:00:00+01:00', now), '2026-11-01T07:00:00.000Z');
  assert.equal(parseTime('yesterday', now), null);
  assert.equal(parseTime('1700000000', now), null, 'a bare number is no time (an epoch? milliseconds ago?)');
  assert.equal(parseTime('2026-13-45', now), null);
});

test('relative times read as ago or in', () => {
  const now = new Date('2026-11-22T12:00:00Z');
  assert.equal(formatAgo('2026-11-22T11:55:00Z', now), '5m ago');
  assert.equal(formatAgo('2026-11-22T12:00:30Z', now), 'in 30s');
  assert.equal(formatAgo(null, now), '-');
});

test('colour is off with NO_COLOR, --no-color or without a terminal, and FORCE_COLOR turns it on', () => {
  assert.equal(shouldColor({ isTTY: true, env: {}, noColorFlag: false }), true);
  assert.equal(shouldColor({ isTTY: true, env: { NO_COLOR: '1' }, noColorFlag: false }), false);
  assert.equal(shouldColor({ isTTY: true, env: {}, noColorFlag: true }), false);
  assert.equal(shouldColor({ isTTY: false, env: {}, noColorFlag: false }), false);
  assert.equal(shouldColor({ isTTY: false, env: { FORCE_COLOR: '1' }, noColorFlag: false }), true);
  assert.equal(makeColors(false).red('x'), 'x');
});

test('a progress bar is clamped to 0–100 and only numbers 0–100 count as progress', () => {
  assert.equal(progressBar(50, 10), '[#####-----]  50%');
  assert.equal(progressBar(150, 4), '[####] 100%');
  assert.equal(progressPercent(42), 42);
  assert.equal(progressPercent({ percent: 7 }), 7);
  assert.equal(progressPercent('42'), null);
  assert.equal(progressPercent(101), null);
});

test('API problems map to the documented exit codes with the code in the message', () => {
  const failure = (status: number, code: string) => describeFailure(new ApiError(status, { detail: 'no job x', code }), 'http://h');
  assert.deepEqual(failure(404, 'JOB_NOT_FOUND'), { code: EXIT.notFound, message: 'error: no job x (JOB_NOT_FOUND)' });
  assert.equal(failure(403, 'FORBIDDEN').code, 5);
  assert.equal(failure(401, 'UNAUTHENTICATED').code, 5);
  assert.equal(failure(409, 'JOB_NOT_CANCELLABLE').code, 6);
  assert.equal(failure(422, 'X').code, 6);
  assert.equal(failure(400, 'VALIDATION_FAILED').code, 2);
  assert.equal(failure(500, 'INTERNAL').code, 1);
  assert.equal(describeFailure(new UsageError('bad'), 'http://h').code, 2);
  assert.equal(describeFailure(new TypeError('fetch failed'), 'http://h').code, 1);
});
