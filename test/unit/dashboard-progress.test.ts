import assert from 'node:assert/strict';
import { test } from 'node:test';
import { progressView } from '../../dashboard/src/progress.js';

test('{ done, of } as the remote-worker docs report it reads "7 of 10" at 70 %', () => {
  assert.deepEqual(progressView({ done: 7, of: 10 }), { kind: 'percent', percent: 70, text: '7 of 10', message: null });
  assert.deepEqual(progressView({ done: 3, of: 4, message: 'resizing' }), { kind: 'percent', percent: 75, text: '3 of 4', message: 'resizing' });
});

test('a plain number and { percent } are percentages, kept within 0 to 100', () => {
  assert.deepEqual(progressView(42), { kind: 'percent', percent: 42, text: '42 %', message: null });
  assert.equal((progressView(140) as { percent: number }).percent, 100);
  assert.deepEqual(progressView({ percent: 12.6 }), { kind: 'percent', percent: 12.6, text: '13 %', message: null });
  assert.equal((progressView({ done: 12, of: 10 }) as { percent: number }).percent, 100);
});

test('shapes it does not know stay raw JSON', () => {
  for (const value of ['half', [1, 2], { step: 'upload' }, { done: 1, of: 0 }, { done: 'x', of: 10 }, null, Number.NaN]) {
    assert.deepEqual(progressView(value), { kind: 'raw', value }, JSON.stringify(value));
  }
});
