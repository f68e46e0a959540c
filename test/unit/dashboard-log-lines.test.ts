import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appendLines, serialReader } from '../../dashboard/src/log-lines.js';

test('lines already shown are not appended again, and only the last ones are kept', () => {
  const a = { id: '1' };
  const b = { id: '2' };
  const c = { id: '3' };
  assert.deepEqual(appendLines([a, b], [b, c]), [a, b, c]);
  assert.deepEqual(appendLines([a], [b, b]), [a, b]);
  assert.deepEqual(appendLines([a, b], [c], 2), [b, c]);
  const same = [a];
  assert.equal(appendLines(same, [a]), same, 'nothing new: the same array, so React skips the render');
});

test('reads asked for while one runs wait for it and collapse into one more read', async () => {
  let running = 0;
  let most = 0;
  let reads = 0;
  const gates: Array<() => void> = [];
  const read = serialReader(async () => {
    running += 1;
    most = Math.max(most, running);
    reads += 1;
    await new Promise<void>((resolve) => gates.push(resolve));
    running -= 1;
  });
  const first = read();
  const second = read();
  const third = read();
  assert.equal(second, third, 'calls during a read share the one read after it');
  gates.shift()!();
  await first;
  await Promise.resolve();
  gates.shift()!();
  await second;
  assert.deepEqual({ reads, most }, { reads: 2, most: 1 });
});

test('a failed read does not stop later ones', async () => {
  let calls = 0;
  const read = serialReader(() => {
    calls += 1;
    return calls === 1 ? Promise.reject(new Error('offline')) : Promise.resolve();
  });
  await read();
  await read();
  assert.equal(calls, 2);
});
