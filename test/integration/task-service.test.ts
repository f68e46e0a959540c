/**
 * The submit-time task check asks the database once per task per second, not once per submit,
 * and still warns at once about a task no live worker handles.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_TENANT_ID } from '../../src/core/tenants.js';
import type { Queryable } from '../../src/db/pool.js';
import { uuidv7 } from '../../src/db/ids.js';
import { registerWorker } from '../../src/db/queries/workers.js';
import { createTaskService, HANDLED_TASK_CACHE_MS } from '../../src/engine/task-service.js';
import { testDatabase } from '../helpers/db.js';

const db = await testDatabase();

/** The test database, counting the statements sent through it. */
function counted(): { db: Queryable; count: () => number } {
  let n = 0;
  const wrapped = {
    query: (...args: Parameters<Queryable['query']>) => {
      n += 1;
      return db.pool.query(...(args as [string])) as ReturnType<Queryable['query']>;
    },
  } as Queryable;
  return { db: wrapped, count: () => n };
}

test('a handled task is looked up once per second however many submits name it; an unknown one every time', async () => {
  await registerWorker(db.pool, { id: uuidv7(), tenantId: null, name: 'w', kind: 'in-process', zone: null, tasks: ['resize'], queues: null, labels: null, concurrency: 1, hostname: null, pid: null, version: null });
  let now = 1_000_000;
  const { db: queryable, count } = counted();
  const tasks = createTaskService({ db: queryable, workerStaleMs: 45_000, clock: { nowMs: () => now } });
  for (let i = 0; i < 5; i++) assert.deepEqual(await tasks.check(DEFAULT_TENANT_ID, [{ pointer: '', task: 'resize' }]), []);
  assert.equal(count(), 1, 'one lookup for five submits of a handled task');
  now += HANDLED_TASK_CACHE_MS;
  await tasks.check(DEFAULT_TENANT_ID, [{ pointer: '', task: 'resize' }]);
  assert.equal(count(), 2, 'looked up again once the second is over');
  for (let i = 0; i < 3; i++) assert.equal((await tasks.check(DEFAULT_TENANT_ID, [{ pointer: '', task: 'nobody-runs-this' }]))[0]?.code, 'TASK_UNKNOWN');
  assert.equal(count(), 5, 'an unknown task is never taken from the cache');
});
