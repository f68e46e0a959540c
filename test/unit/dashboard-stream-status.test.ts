import assert from 'node:assert/strict';
import { test } from 'node:test';
import { combineStreams, sinceText, streamStatusText } from '../../dashboard/src/stream-status.js';

test('the page is only as live as its worst stream, and was updated when any stream last spoke', () => {
  assert.equal(combineStreams([]), null);
  assert.deepEqual(combineStreams([{ state: 'live', lastDataAt: 5 }, { state: 'reconnecting', lastDataAt: 9 }]), { state: 'reconnecting', lastDataAt: 9 });
  assert.deepEqual(combineStreams([{ state: 'live', lastDataAt: 5 }, { state: 'connecting', lastDataAt: null }]), { state: 'connecting', lastDataAt: 5 });
});

test('the status reads "Live · updated 3 s ago" and says when it is reconnecting', () => {
  assert.deepEqual(streamStatusText({ state: 'live', lastDataAt: 1_000 }, 4_500), { label: 'Live', updated: 'updated 3 s ago' });
  assert.deepEqual(streamStatusText({ state: 'reconnecting', lastDataAt: 0 }, 125_000), { label: 'Reconnecting…', updated: 'updated 2 min ago' });
  assert.deepEqual(streamStatusText({ state: 'connecting', lastDataAt: null }, 0), { label: 'Connecting…', updated: null });
  assert.equal(sinceText(10_000, 0), '0 s ago', 'never in the future');
  assert.equal(sinceText(0, 7_200_000), '2 h ago');
});
