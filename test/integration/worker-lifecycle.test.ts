import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CancelError, PermanentError, RetryAfterError } from '../../src/errors/task-errors.js';
import { addJob } from '../../src/engine/submit.js';
import { cancelJob, readJob, readJobLogs } from '../../src/engine/job-service.js';
import { createWorker, type Worker, type WorkerOptions } from '../../src/worker/worker.js';
import { testDatabase } from '../helpers/db.js';
import { deferred, eventually, waitForEvent } from '../helpers/wait.js';

const db = await testDatabase();
function worker(options: Omit<WorkerOptions, 'pool'>): Worker {
  return db.track(createWorker({ pool: db.pool, pollIntervalMs: 200, ...options }));
}

const fast = { backoff: { baseMs: 10, maxMs: 50, jitter: 0 } };

test('a submitted job runs once and stores its result', async () => {
  const w = worker({ tasks: { 'add-1': (p: { a: number; b: number }) => ({ sum: p.a + p.b }) }, queues: ['q-add'] });
  await w.start();
  const job = await addJob(db.pool, { task: 'add-1', queue: 'q-add', payload: { a: 2, b: 3 } });
  await waitForEvent(w.events, 'job:end', (e: { job: { id: string } }) => e.job.id === job.id);
  const row = await readJob(db.pool, { tenantId: null }, job.id);
  assert.equal(row.status, 'completed');
  assert.deepEqual(row.result, { sum: 5 });
  assert.equal(row.attempt, 1);
  assert.ok(row.finishedAt);
});

test('a failing job is retried with backoff and keeps every attempt error', async () => {
  let calls = 0;
  const w = worker({
    tasks: {
      flaky: () => {
        calls += 1;
        if (calls < 3) throw new Error(`boom ${calls}`);
        return 'ok';
      },
    },
    queues: ['q-flaky'],
  });
  await w.start();
  const job = await addJob(db.pool, { task: 'flaky', queue: 'q-flaky', maxAttempts: 5, ...fast });
  const row = await eventually(async () => {
    const r = await readJob(db.pool, { tenantId: null }, job.id);
    return r.status === 'completed' ? r : null;
  });
  assert.equal(row.attempt, 3);
  assert.deepEqual(row.errors.map((e) => e.message), ['boom 1', 'boom 2']);
  assert.deepEqual(row.errors.map((e) => e.attempt), [1, 2]);
});

test('a job fails after its last attempt and a PermanentError fails it at once', async () => {
  const w = worker({
    tasks: {
      always: () => {
        throw new Error('nope');
      },
      fatal: () => {
        throw new PermanentError('bad payload');
      },
    },
    queues: ['q-fail'],
  });
  await w.start();
  const a = await addJob(db.pool, { task: 'always', queue: 'q-fail', maxAttempts: 2, ...fast });
  const b = await addJob(db.pool, { task: 'fatal', queue: 'q-fail', maxAttempts: 5, ...fast });
  const [ra, rb] = await Promise.all(
    [a, b].map((j) =>
      eventually(async () => {
        const r = await readJob(db.pool, { tenantId: null }, j.id);
        return r.status === 'failed' ? r : null;
      }),
    ),
  );
  assert.equal(ra!.attempt, 2);
  assert.equal(ra!.errors.length, 2);
  assert.equal(rb!.attempt, 1);
  assert.equal(rb!.errors[0]!.kind, 'permanent');
});

test('RetryAfterError delays the next attempt by the given time', async () => {
  const starts: number[] = [];
  const w = worker({
    tasks: {
      later: () => {
        starts.push(Date.now());
        if (starts.length === 1) throw new RetryAfterError(400);
        return 'done';
      },
    },
    queues: ['q-later'],
  });
  await w.start();
  const job = await addJob(db.pool, { task: 'later', queue: 'q-later' });
  await eventually(async () => (await readJob(db.pool, { tenantId: null }, job.id)).status === 'completed');
  assert.equal(starts.length, 2);
  assert.ok(starts[1]! - starts[0]! >= 380, `second attempt came after ${starts[1]! - starts[0]!} ms`);
});

test('a CancelError from the handler ends the job as cancelled without retry', async () => {
  const w = worker({ tasks: { quit: () => { throw new CancelError('not needed'); } }, queues: ['q-quit'] });
  await w.start();
  const job = await addJob(db.pool, { task: 'quit', queue: 'q-quit', maxAttempts: 3 });
  const row = await eventually(async () => {
    const r = await readJob(db.pool, { tenantId: null }, job.id);
    return r.status === 'cancelled' ? r : null;
  });
  assert.equal(row.attempt, 1);
});

test('cancelling a queued job cancels it at once and it never runs', async () => {
  let ran = false;
  const job = await addJob(db.pool, { task: 'never', queue: 'q-never', delayMs: 60_000 });
  const change = await cancelJob(db.pool, { tenantId: null }, job.id);
  assert.equal(change.before.status, 'queued');
  assert.equal(change.after.status, 'cancelled');
  const w = worker({ tasks: { never: () => { ran = true; } }, queues: ['q-never'] });
  assert.equal(await w.runOnce(), 0);
  assert.equal(ran, false);
});

test("cancelling a running job fires the handler's signal and the job ends cancelled", async () => {
  const started = deferred();
  let sawAbort = '';
  const w = worker({
    tasks: {
      long: (_p, ctx) =>
        new Promise((_resolve, reject) => {
          started.resolve();
          ctx.signal.addEventListener('abort', () => {
            sawAbort = (ctx.signal.reason as { reason: string }).reason;
            reject(ctx.signal.reason as Error);
          });
        }),
    },
    queues: ['q-long'],
  });
  await w.start();
  const job = await addJob(db.pool, { task: 'long', queue: 'q-long', maxAttempts: 3 });
  await started.promise;
  const change = await cancelJob(db.pool, { tenantId: null }, job.id);
  assert.equal(change.after.status, 'running');
  assert.ok(change.after.cancelRequestedAt);
  const row = await eventually(async () => {
    const r = await readJob(db.pool, { tenantId: null }, job.id);
    return r.status === 'cancelled' ? r : null;
  });
  assert.equal(sawAbort, 'cancelled');
  assert.equal(row.attempt, 1);
});

test('a per-job timeout aborts the handler and the job is retried', async () => {
  let attempts = 0;
  const w = worker({
    tasks: {
      slow: (_p, ctx) => {
        attempts += 1;
        if (attempts > 1) return 'fast enough';
        return new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)));
      },
    },
    queues: ['q-slow'],
  });
  await w.start();
  const job = await addJob(db.pool, { task: 'slow', queue: 'q-slow', timeoutMs: 100, maxAttempts: 3, ...fast });
  const row = await eventually(async () => {
    const r = await readJob(db.pool, { tenantId: null }, job.id);
    return r.status === 'completed' ? r : null;
  });
  assert.equal(row.errors[0]!.kind, 'timeout');
  assert.equal(row.attempt, 2);
});

test('log lines and progress are kept with the job', async () => {
  const w = worker({
    tasks: {
      chatty: (_p, ctx) => {
        ctx.log('first line', { step: 1 });
        ctx.progress(50);
        ctx.log('second line');
        return 'ok';
      },
    },
    queues: ['q-chatty'],
  });
  const job = await addJob(db.pool, { task: 'chatty', queue: 'q-chatty' });
  assert.equal(await w.runOnce(), 1);
  const logs = await readJobLogs(db.pool, { tenantId: null }, job.id);
  assert.deepEqual(logs.map((l) => l.message), ['first line', 'second line']);
  assert.deepEqual(logs[0]!.fields, { step: 1 });
  const row = await readJob(db.pool, { tenantId: null }, job.id);
  assert.equal(row.progress, 50);
  assert.equal(row.status, 'completed');
});

test('higher priority runs first, then earlier due time', async () => {
  const order: string[] = [];
  const w = worker({ tasks: { rec: (p: { n: string }) => void order.push(p.n) }, queues: ['q-prio'], concurrency: 1 });
  await addJob(db.pool, { task: 'rec', queue: 'q-prio', payload: { n: 'low' }, priority: -5 });
  await addJob(db.pool, { task: 'rec', queue: 'q-prio', payload: { n: 'mid-1' } });
  await addJob(db.pool, { task: 'rec', queue: 'q-prio', payload: { n: 'mid-2' } });
  await addJob(db.pool, { task: 'rec', queue: 'q-prio', payload: { n: 'high' }, priority: 10 });
  for (let i = 0; i < 4; i++) await w.runOnce();
  assert.deepEqual(order, ['high', 'mid-1', 'mid-2', 'low']);
});

test('a result that cannot be stored fails the job instead of breaking the batch', async () => {
  const w = worker({ tasks: { nul: () => ({ text: 'a\u0000b' }), fine: () => 'fine' }, queues: ['q-nul'] });
  const bad = await addJob(db.pool, { task: 'nul', queue: 'q-nul' });
  const good = await addJob(db.pool, { task: 'fine', queue: 'q-nul' });
  assert.equal(await w.runOnce(), 2);
  assert.equal((await readJob(db.pool, { tenantId: null }, bad.id)).status, 'failed');
  assert.equal((await readJob(db.pool, { tenantId: null }, good.id)).status, 'completed');
});
