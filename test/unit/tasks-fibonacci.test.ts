import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PermanentError } from '../../src/errors/index.js';
import { fibonacciTask } from '../../src/worker/tasks/index.js';
import { fakeJobContext } from '../helpers/fake-job-context.js';

function reference(n: number): string {
  let a = 0n;
  let b = 1n;
  for (let i = 0; i < n; i += 1) [a, b] = [b, a + b];
  return a.toString();
}

test('small Fibonacci numbers are exact', async () => {
  const run = fibonacciTask({ maxN: 100_000 });
  const expected: [number, string][] = [[0, '0'], [1, '1'], [2, '1'], [10, '55'], [90, '2880067194370816120']];
  for (const [n, value] of expected) {
    assert.deepEqual(await run({ n }, fakeJobContext().ctx), { n, digits: value.length, value });
  }
});

test('F(1000) has 209 digits and values up to 1000 digits are given in full', async () => {
  const run = fibonacciTask({ maxN: 100_000 });
  const thousand = await run({ n: 1000 }, fakeJobContext().ctx);
  assert.equal(thousand.digits, 209);
  assert.equal(thousand.value, reference(1000));
  // F(4782) is the first Fibonacci number with 1000 digits.
  const full = await run({ n: 4782 }, fakeJobContext().ctx);
  assert.equal(full.digits, 1000);
  assert.equal(full.value, reference(4782));
});

test('longer values are shown as their first and last 20 digits', async () => {
  const result = await fibonacciTask({ maxN: 100_000 })({ n: 10_000 }, fakeJobContext().ctx);
  const decimal = reference(10_000);
  assert.equal(result.digits, decimal.length);
  assert.equal(result.value, `${decimal.slice(0, 20)}…${decimal.slice(-20)}`);
});

test('progress is reported as it goes and ends at 100', async () => {
  const fake = fakeJobContext();
  await fibonacciTask({ maxN: 100_000 })({ n: 100_000 }, fake.ctx);
  assert.ok(fake.progress.length >= 1);
  assert.equal(fake.progress.at(-1), 100);
  const numbers = fake.progress.map(Number);
  assert.deepEqual(numbers, [...numbers].sort((x, y) => x - y), 'progress never goes backwards');
});

test('aborting stops the computation with the abort reason', async () => {
  const fake = fakeJobContext();
  let reason: Error | undefined;
  fake.ctx.progress = (value) => {
    fake.progress.push(value);
    reason ??= fake.abort('cancelled');
  };
  await assert.rejects(fibonacciTask({ maxN: 300_000 })({ n: 300_000 }, fake.ctx), (error) => error === reason);
  assert.equal(fake.progress.length, 1);
  assert.ok(Number(fake.progress[0]) < 100);
});

test('the event loop gets a turn after at most 50 ms of computing, even at n = maxN', async () => {
  // maxN is raised so the computation lasts long enough (hundreds of ms) for a stall to show.
  // Gaps are measured in this process's CPU time, not wall time: on a busy machine the process
  // may be descheduled mid-slice, which lengthens wall-clock gaps without the task hogging the loop.
  const run = fibonacciTask({ maxN: 300_000 });
  let last = process.cpuUsage();
  let worstCpuMs = 0;
  let ticks = 0;
  const cpuSince = (from: NodeJS.CpuUsage): number => {
    const d = process.cpuUsage(from);
    return (d.user + d.system) / 1000;
  };
  const interval = setInterval(() => {
    worstCpuMs = Math.max(worstCpuMs, cpuSince(last));
    last = process.cpuUsage();
    ticks += 1;
  }, 5);
  const started = performance.now();
  try {
    await run({ n: 300_000 }, fakeJobContext().ctx);
  } finally {
    clearInterval(interval);
  }
  worstCpuMs = Math.max(worstCpuMs, cpuSince(last));
  const elapsed = performance.now() - started;
  assert.ok(worstCpuMs < 50, `worst gap ${worstCpuMs.toFixed(1)} ms of CPU over ${elapsed.toFixed(0)} ms, ${ticks} ticks`);
  assert.ok(ticks >= 2, `${ticks} ticks`);
});

test('n above maxN fails permanently', async () => {
  await assert.rejects(fibonacciTask({ maxN: 10 })({ n: 11 }, fakeJobContext().ctx), PermanentError);
});
