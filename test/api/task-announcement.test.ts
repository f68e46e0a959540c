/**
 * Workers announce the tasks they handle; GET /api/v1/tasks lists them, and a submit for a task no
 * live worker handles is answered with a TASK_UNKNOWN warning (or, with the tenant's strictTasks
 * setting, refused with 422 TASK_UNKNOWN) instead of sitting queued without a word.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createWorker } from '../../src/worker/worker.js';
import { as, testApp } from '../helpers/api.js';
import { testDatabase } from '../helpers/db.js';

const db = await testDatabase();
const app = await testApp(db);
const post = (url: string, payload: object, who: 'admin' | 'manager' | 'other' = 'manager') => app.inject({ method: 'POST', url, headers: as(who), payload });
const tasks = async (who: 'viewer' | 'other' = 'viewer') => (await app.inject({ url: '/api/v1/tasks', headers: as(who) })).json<{ tasks: Array<{ task: string; workers: number; zones: string[] }> }>().tasks;

async function workerKey(who: 'admin' | 'other'): Promise<string> {
  const res = await post('/api/v1/keys', { name: 'announcer', scopes: ['worker'] }, who);
  assert.equal(res.statusCode, 201, res.body);
  return res.json<{ key: string }>().key;
}

async function registerRemote(key: string, body: { tasks: string[]; zone?: string }): Promise<void> {
  const res = await app.inject({ method: 'POST', url: '/api/v1/worker/register', headers: { 'x-api-key': key }, payload: { name: 'remote', capacity: 2, ...body } });
  assert.equal(res.statusCode, 201, res.body);
}

test('a submit for a task no live worker handles is stored and answered with a TASK_UNKNOWN warning', async () => {
  const res = await post('/api/v1/jobs', { task: 'nobody-runs-this', delayMs: 3_600_000 });
  assert.equal(res.statusCode, 201, res.body);
  const job = res.json<{ id: string; warnings?: unknown }>();
  assert.deepEqual(job.warnings, [{ code: 'TASK_UNKNOWN', message: 'no live worker handles task "nobody-runs-this"', task: 'nobody-runs-this' }]);
  const stored = await app.inject({ url: `/api/v1/jobs/${job.id}`, headers: as('viewer') });
  assert.equal(stored.statusCode, 200);
  const batch = await post('/api/v1/jobs/batch', { jobs: [{ task: 'ghost-a' }, { task: 'ghost-a' }, { task: 'ghost-b' }] });
  assert.equal(batch.statusCode, 201, batch.body);
  assert.deepEqual(batch.json<{ warnings?: Array<{ task: string }> }>().warnings?.map((w) => w.task), ['ghost-a', 'ghost-b']);
});

test('remote and in-process workers announce their tasks: GET /api/v1/tasks lists them per tenant with worker counts and zones', async () => {
  await registerRemote(await workerKey('admin'), { tasks: ['email', 'resize'], zone: 'eu-1' });
  await registerRemote(await workerKey('admin'), { tasks: ['email'], zone: 'us-1' });
  await registerRemote(await workerKey('other'), { tasks: ['others-only'] });
  const inProcess = db.track(createWorker({ pool: db.pool, pollIntervalMs: 60_000, queues: ['announce-only'], tasks: { email: () => undefined, 'in-process-task': () => undefined } }));
  await inProcess.start();
  assert.deepEqual(await tasks(), [
    { task: 'email', workers: 3, zones: ['eu-1', 'us-1'] },
    { task: 'in-process-task', workers: 1, zones: [] },
    { task: 'resize', workers: 1, zones: ['eu-1'] },
  ]);
  // A tenant-less in-process worker serves every tenant; the other tenant's remote worker only its own.
  assert.deepEqual((await tasks('other')).map((t) => t.task), ['email', 'in-process-task', 'others-only']);
  const handled = await post('/api/v1/jobs', { task: 'email', queue: 'announce-only', delayMs: 3_600_000 });
  assert.equal(handled.statusCode, 201, handled.body);
  assert.equal(handled.json<{ warnings?: unknown }>().warnings, undefined, 'no warning for a task a live worker handles');
  const foreign = await post('/api/v1/jobs', { task: 'others-only' });
  assert.equal(foreign.json<{ warnings?: Array<{ task: string }> }>().warnings?.[0]?.task, 'others-only', "another tenant's worker does not handle this tenant's jobs");
  await inProcess.stop();
  assert.equal((await tasks()).find((t) => t.task === 'in-process-task'), undefined, 'a stopped worker is not live');
});

test('with strictTasks on, a submit for a task no live worker handles is a 422 TASK_UNKNOWN and nothing is stored', async () => {
  assert.deepEqual((await app.inject({ url: '/api/v1/settings', headers: as('viewer') })).json(), { strictTasks: false });
  const refused = await app.inject({ method: 'PATCH', url: '/api/v1/settings', headers: as('manager'), payload: { strictTasks: true } });
  assert.equal(refused.statusCode, 403, 'only admins change tenant settings');
  const changed = await app.inject({ method: 'PATCH', url: '/api/v1/settings', headers: as('admin'), payload: { strictTasks: true } });
  assert.equal(changed.statusCode, 200, changed.body);
  assert.deepEqual(changed.json(), { strictTasks: true });
  const job = await post('/api/v1/jobs', { task: 'strictly-unknown' });
  assert.equal(job.statusCode, 422, job.body);
  const problem = job.json<{ code: string; errors: Array<{ pointer: string; message: string }> }>();
  assert.equal(problem.code, 'TASK_UNKNOWN');
  assert.deepEqual(problem.errors, [{ pointer: '/task', message: 'no live worker handles task "strictly-unknown"' }]);
  const batch = await post('/api/v1/jobs/batch', { jobs: [{ task: 'email' }, { task: 'strictly-unknown' }] });
  assert.equal(batch.statusCode, 422, batch.body);
  assert.deepEqual(batch.json<{ errors: Array<{ pointer: string }> }>().errors.map((e) => e.pointer), ['/jobs/1/task']);
  const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobplane.jobs WHERE task = 'strictly-unknown'`);
  assert.equal(rows[0]!.n, 0);
  // The setting is the tenant's own: another tenant still gets a warning.
  const other = await post('/api/v1/jobs', { task: 'strictly-unknown' }, 'other');
  assert.equal(other.statusCode, 201, other.body);
  const audit = await app.inject({ url: '/api/v1/audit?action=tenant.settings', headers: as('admin') });
  assert.match(audit.body, /tenant\.settings/);
});
