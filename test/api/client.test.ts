import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError, JobplaneClient } from '../../src/client/client.js';
import { createIdentity } from '../../src/engine/auth/index.js';
import { testDatabase } from '../helpers/db.js';
import { testApp } from '../helpers/api.js';

const db = await testDatabase();
const app = await testApp(db);
await createIdentity({ pool: db.pool }).bootstrap({ adminPassword: 'client test password' });
const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });

test('the typed client drives the API over real HTTP: login, jobs, schedules, keys', async () => {
  const client = new JobplaneClient({ baseUrl });
  await client.login('admin', 'client test password');
  assert.equal((await client.me()).username, 'admin');
  const job = await client.jobs.submit({ task: 'email', payload: { to: 'x@y.z' } }, { idempotencyKey: 'k-1' });
  assert.equal((await client.jobs.get(job.id)).status, 'queued');
  assert.equal((await client.jobs.submit({ task: 'email', payload: { to: 'x@y.z' } }, { idempotencyKey: 'k-1' })).id, job.id);
  assert.equal((await client.jobs.list({ status: 'queued' })).jobs.length, 1);
  assert.equal((await client.jobs.cancel(job.id)).status, 'cancelled');
  const schedule = await client.schedules.create({ name: 'hourly', cron: '0 * * * *', task: 'report' });
  assert.equal((await client.schedules.preview(schedule.id, 2)).fireTimes.length, 2);
  const { key, id } = await client.keys.create({ name: 'producer', scopes: ['jobs:write'] });
  const producer = new JobplaneClient({ baseUrl, token: key });
  assert.equal((await producer.jobs.submit({ task: 'from-key' })).createdBy, `key:${id}`);
  await client.keys.revoke(id);
  await assert.rejects(producer.jobs.submit({ task: 'x' }), (error: unknown) => error instanceof ApiError && error.status === 401 && error.code === 'TOKEN_INVALID');
});

test('API errors arrive as ApiError with the stable code and field pointers', async () => {
  const client = new JobplaneClient({ baseUrl });
  await client.login('admin', 'client test password');
  await assert.rejects(client.jobs.submit({ task: 'x', runAt: '2026-02-30T00:00:00Z' }), (error: unknown) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.code, 'VALIDATION_FAILED');
    assert.deepEqual((error.problem.errors as Array<{ pointer: string }>)[0]!.pointer, '/runAt');
    return true;
  });
  await assert.rejects(client.jobs.get('00000000-0000-7000-8000-000000000000'), (error: unknown) => error instanceof ApiError && error.code === 'JOB_NOT_FOUND');
});

test('the typed client follows a job live through its event stream', async () => {
  const client = new JobplaneClient({ baseUrl });
  await client.login('admin', 'client test password');
  const job = await client.jobs.submit({ task: 'email', payload: { to: 'live@y.z' }, delayMs: 60_000 });
  const controller = new AbortController();
  const seen: string[] = [];
  for await (const event of client.events({ jobId: job.id, signal: controller.signal })) {
    seen.push(`${event.type}:${String(event.data.status)}`);
    if (seen.length === 1) await client.jobs.cancel(job.id);
    if (event.data.status === 'cancelled') controller.abort();
  }
  assert.deepEqual(seen, ['job:queued', 'job:cancelled']);
  await assert.rejects(async () => {
    for await (const _ of client.events({ types: 'nonsense' })) break;
  }, (error: unknown) => error instanceof ApiError && error.status === 400);
});
