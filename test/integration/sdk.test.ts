import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createJobplane } from '../../src/index.js';
import { testDatabase } from '../helpers/db.js';

const db = await testDatabase();

test("the README's first job runs to completion through the SDK", async () => {
  const jp = await createJobplane({ databaseUrl: db.url });
  db.track({ stop: () => jp.close() });
  const worker = jp.worker({
    tasks: {
      greet: (payload: { name: string }, ctx) => {
        ctx.log(`greeting ${payload.name}`);
        return { message: `hello, ${payload.name}` };
      },
    },
  });
  await worker.start();
  const job = await jp.jobs.add({ task: 'greet', payload: { name: 'Ada' }, maxAttempts: 3 });
  const done = await jp.jobs.waitFor(job.id, { timeoutMs: 10_000 });
  assert.equal(done.status, 'completed');
  assert.deepEqual(done.result, { message: 'hello, Ada' });
  assert.equal((await jp.jobs.logs(job.id))[0]!.message, 'greeting Ada');
  await jp.close();
});

test('queues can be paused, resumed and capped through the SDK', async () => {
  const jp = await createJobplane({ databaseUrl: db.url });
  db.track({ stop: () => jp.close() });
  assert.equal((await jp.queues.pause('sdk-q')).paused, true);
  assert.equal((await jp.queues.setConcurrency('sdk-q', 3)).concurrencyLimit, 3);
  const resumed = await jp.queues.resume('sdk-q');
  assert.equal(resumed.paused, false);
  assert.equal(resumed.concurrencyLimit, 3);
  assert.equal((await jp.queues.setConcurrency('sdk-q', null)).concurrencyLimit, null);
  await assert.rejects(jp.queues.setConcurrency('sdk-q', 0), /between 1 and 1000000/);
  await jp.close();
});
