/**
 * What the attack battery found accepted: jobs, batches and schedules for the disabled shell task
 * (201, left queued for any worker that enables it later), and schedules whose http payload
 * targets loopback (only the worker refused it, at run time).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testDatabase } from '../helpers/db.js';
import { as, testApp } from '../helpers/api.js';

const db = await testDatabase();
/** As `jobplane start` configures it by default: the built-ins are checked, shell is off. */
const installation = { checkedTasks: ['http', 'fibonacci', 'sleep', 'noop'], disabledTasks: ['shell'], payloadPolicy: { allowPrivateNetworks: false } };
const app = await testApp(db, { submitPolicy: installation });
const post = (url: string, payload: object) => app.inject({ method: 'POST', url, headers: as('manager'), payload });
const shell = { task: 'shell', payload: { command: ['id'] } };
const problem = (res: { json: <T>() => T }) => res.json<{ code: string; errors?: Array<{ pointer: string }> }>();

test('jobs, batches and schedules for a task the installation has not enabled are refused with TASK_DISABLED, and nothing is stored', async () => {
  const job = await post('/api/v1/jobs', shell);
  assert.equal(job.statusCode, 400);
  assert.equal(problem(job).code, 'TASK_DISABLED');
  assert.deepEqual(problem(job).errors?.map((e) => e.pointer), ['/task']);
  const batch = await post('/api/v1/jobs/batch', { jobs: [{ task: 'noop' }, shell] });
  assert.equal(problem(batch).code, 'TASK_DISABLED');
  assert.deepEqual(problem(batch).errors?.map((e) => e.pointer), ['/jobs/1/task']);
  const schedule = await post('/api/v1/schedules', { name: 'nightly-shell', cron: '0 3 * * *', ...shell });
  assert.equal(schedule.statusCode, 400);
  assert.equal(problem(schedule).code, 'TASK_DISABLED');
  const harmless = await post('/api/v1/schedules', { name: 'becomes-shell', cron: '0 3 * * *', task: 'noop' });
  assert.equal(harmless.statusCode, 201, harmless.body);
  const patched = await app.inject({ method: 'PATCH', url: `/api/v1/schedules/${harmless.json<{ id: string }>().id}`, headers: as('manager'), payload: shell });
  assert.equal(problem(patched).code, 'TASK_DISABLED');
  const { rows } = await db.pool.query<{ n: number }>(`SELECT (SELECT count(*) FROM jobplane.jobs WHERE task = 'shell') + (SELECT count(*) FROM jobplane.schedules WHERE task = 'shell') AS n`);
  assert.equal(Number(rows[0]!.n), 0);
});

test('an installation that enables shell accepts its jobs; an app built without a policy refuses them', async () => {
  const enabled = await testApp(db, { submitPolicy: { ...installation, disabledTasks: [] } });
  const res = await enabled.inject({ method: 'POST', url: '/api/v1/jobs', headers: as('manager'), payload: shell });
  assert.equal(res.statusCode, 201, res.body);
  const bare = await testApp(db);
  const refused = await bare.inject({ method: 'POST', url: '/api/v1/jobs', headers: as('manager'), payload: shell });
  assert.equal(problem(refused).code, 'TASK_DISABLED');
});

test('http targets the address policy refuses answer URL_NOT_ALLOWED on submit, schedule create and schedule patch', async () => {
  const loopback = { task: 'http', payload: { url: 'http://127.0.0.1:5432/' } };
  const job = await post('/api/v1/jobs', loopback);
  assert.equal(job.statusCode, 400);
  assert.equal(problem(job).code, 'URL_NOT_ALLOWED');
  assert.deepEqual(problem(job).errors?.map((e) => e.pointer), ['/payload/url']);
  const created = await post('/api/v1/schedules', { name: 'probe-db', intervalMs: 60_000, ...loopback });
  assert.equal(created.statusCode, 400);
  assert.equal(problem(created).code, 'URL_NOT_ALLOWED');
  const fine = await post('/api/v1/schedules', { name: 'public-probe', intervalMs: 60_000, task: 'http', payload: { url: 'https://example.com/health' } });
  assert.equal(fine.statusCode, 201, fine.body);
  const id = fine.json<{ id: string }>().id;
  const patched = await app.inject({ method: 'PATCH', url: `/api/v1/schedules/${id}`, headers: as('manager'), payload: { payload: { url: 'http://[::1]:8080/' } } });
  assert.equal(patched.statusCode, 400);
  assert.equal(problem(patched).code, 'URL_NOT_ALLOWED');
  const stored = await app.inject({ url: `/api/v1/schedules/${id}`, headers: as('viewer') });
  assert.equal(stored.json<{ payload: { url: string } }>().payload.url, 'https://example.com/health', 'the refused patch changed nothing');
  // A URL that is wrong in itself is a validation error, as before.
  const malformed = await post('/api/v1/jobs', { task: 'http', payload: { url: 'ftp://example.com/' } });
  assert.equal(problem(malformed).code, 'VALIDATION_FAILED');
});
