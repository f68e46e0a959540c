import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InjectOptions } from 'fastify';
import { createJobplane, isAppError } from '../../src/index.js';
import { as, testApp } from '../helpers/api.js';
import { testDatabase } from '../helpers/db.js';

const db = await testDatabase();
const app = await testApp(db);
const jp = await createJobplane({ databaseUrl: db.url });
db.track({ stop: () => jp.close() });

type FieldErrors = Array<{ pointer: string; message: string }>;

async function problemOf(request: InjectOptions): Promise<{ status: number; code: string; detail: string; errors: FieldErrors }> {
  const res = await app.inject(request);
  const body = res.json<{ code: string; detail: string; errors?: FieldErrors }>();
  return { status: res.statusCode, code: body.code, detail: body.detail, errors: body.errors ?? [] };
}

test('a 400 names each field in words, with its JSON pointer and the stable code, never in the validator’s wording', async () => {
  const job = await problemOf({ method: 'POST', url: '/api/v1/jobs', headers: as('manager'), payload: { task: '', priority: 1.5, backoff: { type: 'linear' }, retries: 3 } });
  assert.equal(job.status, 400);
  assert.equal(job.code, 'VALIDATION_FAILED');
  const byPointer = (errors: FieldErrors) => [...errors].sort((a, b) => a.pointer.localeCompare(b.pointer));
  assert.deepEqual(byPointer(job.errors), byPointer([
    { pointer: '/retries', message: 'is not a known field' },
    { pointer: '/task', message: 'must not be empty' },
    { pointer: '/priority', message: 'must be an integer' },
    { pointer: '/backoff/type', message: 'must be one of: exponential, fixed' },
  ]));
  assert.doesNotMatch(job.detail, /NOT|fewer than|must match pattern|anyOf/);

  const search = await problemOf({ url: `/api/v1/jobs?q=${'x'.repeat(201)}`, headers: as('viewer') });
  assert.deepEqual(search.errors, [{ pointer: '/querystring/q', message: 'must be at most 200 characters' }]);

  const schedule = await problemOf({ method: 'POST', url: '/api/v1/schedules', headers: as('manager'), payload: { name: 'nightly', task: 'report', cron: '0 3 * * *', misfirePolicy: 'sometimes', description: null } });
  assert.deepEqual(schedule.errors, [{ pointer: '/misfirePolicy', message: 'must be one of: skip, run-once, catch-up' }]);

  const missing = await problemOf({ method: 'POST', url: '/api/v1/jobs', headers: as('manager'), payload: { queue: 'q' } });
  assert.deepEqual(missing.errors, [{ pointer: '/task', message: 'is required' }]);
});

test('the SDK answers the same mistake with the same pointers and messages as the API', async () => {
  const specs: unknown[] = [
    { task: '' },
    { task: 'x', queue: 'has space', priority: 1001, labels: { 'bad key': 'v' } },
    { task: 'x', backoff: { type: 'linear', factor: 0 }, placement: { policy: 'nearest' } },
    { task: 'x', placement: { zone: 'a', policy: 'greenest' }, runAt: '2026-02-30T00:00:00Z' },
    { task: 'x', timeoutMs: 0, maxAttempts: '3', unknown: true },
  ];
  for (const spec of specs) {
    const api = await problemOf({ method: 'POST', url: '/api/v1/jobs', headers: as('manager'), payload: spec as object });
    const sdk = await jp.jobs.add(spec as never).then(
      () => null,
      (error: unknown) => {
        if (!isAppError(error)) throw error;
        return { code: error.code, errors: [...error.errors] };
      },
    );
    assert.ok(sdk, `the SDK stored ${JSON.stringify(spec)}`);
    assert.equal(sdk.code, api.code, JSON.stringify(spec));
    assert.deepEqual(sdk.errors, api.errors, JSON.stringify(spec));
  }
});
