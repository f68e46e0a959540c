/** `jobplane/testing`: createTestJobplane() gives a migrated throwaway database and an inline worker. */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { PermanentError } from '../../src/errors/task-errors.js';
import { createTestJobplane } from '../../src/testing/index.js';
import { findServer } from '../helpers/server.js';

const adminUrl = process.env.JOBPLANE_TEST_ADMIN_URL ?? (await findServer()) ?? undefined;
const seen: string[] = [];
const jp = await createTestJobplane({
  ...(adminUrl ? { adminUrl } : {}),
  tasks: {
    greet: (payload: { name: string }) => {
      seen.push(payload.name);
      return { greeting: `hello ${payload.name}` };
    },
    'fan-out': async (payload: { n: number }) => {
      await jp.addMany(Array.from({ length: payload.n }, (_, i) => ({ task: 'greet', payload: { name: `child-${i}` } })));
    },
    broken: () => {
      throw new PermanentError('not today');
    },
  },
});
after(() => jp.close());

test('runUntilIdle runs every due job inline, and what the handlers add too, then returns', async () => {
  const parent = await jp.add({ task: 'fan-out', payload: { n: 3 } });
  const report = await jp.runUntilIdle();
  assert.equal(report.attempts, 4);
  assert.equal((await jp.getJob(parent.id)).status, 'completed');
  assert.deepEqual([...seen].sort(), ['child-0', 'child-1', 'child-2']);
  assert.deepEqual(await jp.runUntilIdle(), { attempts: 0 }, 'idle: nothing left to run');
});

test('outcomes are recorded as in a deployment: results, permanent failures, jobs not yet due left alone', async () => {
  const ok = await jp.add({ task: 'greet', payload: { name: 'ada' } });
  const failed = await jp.add({ task: 'broken', maxAttempts: 5 });
  const later = await jp.add({ task: 'greet', payload: { name: 'later' }, delayMs: 3_600_000 });
  await jp.runUntilIdle();
  const done = await jp.getJob(ok.id);
  assert.equal(done.status, 'completed');
  assert.deepEqual(done.result, { greeting: 'hello ada' });
  const broken = await jp.getJob(failed.id);
  assert.equal(broken.status, 'failed');
  assert.equal(broken.attempt, 1, 'a PermanentError is not retried');
  assert.notEqual((await jp.getJob(later.id)).status, 'completed');
});

test('the database is migrated and its own: the pool reaches it, and submits are validated', async () => {
  const { rows } = await jp.pool.query<{ db: string }>('SELECT current_database() AS db');
  assert.match(rows[0]!.db, /^jobplane_test_/);
  assert.ok(jp.url.endsWith(`/${rows[0]!.db}`));
  await assert.rejects(jp.add({ task: '' }), /task/);
});

test('close() drops the database', async () => {
  const other = await createTestJobplane(adminUrl ? { adminUrl } : {});
  const name = new URL(other.url).pathname.slice(1);
  await other.close();
  await other.close();
  const { rows } = await jp.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_database WHERE datname = $1', [name]);
  assert.equal(rows[0]!.n, 0);
});
