import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createJobplane, isAppError, type ErrorCode, type JobSpec, type SubmitPolicy } from '../../src/index.js';
import { as, testApp } from '../helpers/api.js';
import { testDatabase } from '../helpers/db.js';

const db = await testDatabase();
const installation: SubmitPolicy = { checkedTasks: ['fibonacci', 'http'], disabledTasks: ['shell'], payloadPolicy: { allowPrivateNetworks: false } };
const app = await testApp(db, { submitPolicy: installation });
const jp = await createJobplane({ databaseUrl: db.url, submitPolicy: installation });
db.track({ stop: () => jp.close() });

/** What `jp.jobs.add` answers: the AppError's code and field pointers, or 'stored'. */
async function viaSdk(spec: JobSpec): Promise<{ code: ErrorCode | 'stored'; pointers: string[] }> {
  try {
    await jp.jobs.add(spec);
    return { code: 'stored', pointers: [] };
  } catch (error) {
    if (!isAppError(error)) throw error;
    return { code: error.code, pointers: error.errors.map((e) => e.pointer) };
  }
}

/** What `POST /api/v1/jobs` answers, in the same terms. */
async function viaApi(spec: JobSpec): Promise<{ code: string; pointers: string[] }> {
  const res = await app.inject({ method: 'POST', url: '/api/v1/jobs', headers: as('manager'), payload: spec });
  if (res.statusCode < 300) return { code: 'stored', pointers: [] };
  const problem = res.json<{ code: string; errors?: Array<{ pointer: string }> }>();
  return { code: problem.code, pointers: (problem.errors ?? []).map((e) => e.pointer) };
}

const refused: Array<[string, JobSpec, ErrorCode, string[]]> = [
  ['a disabled task', { task: 'shell', payload: { command: ['id'] } }, 'TASK_DISABLED', ['/task']],
  ['a bad built-in payload', { task: 'fibonacci', payload: { n: 'seven' } }, 'VALIDATION_FAILED', ['/payload/n']],
  ['an http target the address policy refuses', { task: 'http', payload: { url: 'http://127.0.0.1:5432/' } }, 'URL_NOT_ALLOWED', ['/payload/url']],
  ['a reference to a secret the tenant does not have', { task: 'send', payload: { token: { $secret: 'no-such-secret' } } }, 'SECRET_REFERENCE_UNKNOWN', ['/payload/token']],
];

for (const [name, spec, code, pointers] of refused) {
  test(`jp.jobs.add refuses ${name} as POST /api/v1/jobs does: ${code} at ${pointers.join(', ')}`, async () => {
    assert.deepEqual(await viaApi(spec), { code, pointers });
    assert.deepEqual(await viaSdk(spec), { code, pointers });
  });
}

test('jp.jobs.addMany checks every job of the list before storing any', async () => {
  await assert.rejects(
    jp.jobs.addMany([{ task: 'fibonacci', queue: 'q-many-checked', payload: { n: 3 } }, { task: 'fibonacci', queue: 'q-many-checked', payload: { n: -1 } }]),
    (error: unknown) => isAppError(error, 'VALIDATION_FAILED') && error.errors[0]?.pointer === '/1/payload/n',
  );
  const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobplane.jobs WHERE queue = 'q-many-checked'`);
  assert.equal(rows[0]!.n, 0);
});

test('jp.jobs.add with an idempotency key that names a different job is IDEMPOTENCY_CONFLICT, as over HTTP', async () => {
  const first = await jp.jobs.add({ task: 'bill', idempotencyKey: 'sdk-invoice-7', payload: { amount: 10 } });
  assert.equal(first.created, true);
  // A true repeat (10 and 10.0 are the same JSON value) still answers with the existing job.
  const again = await jp.jobs.add({ task: 'bill', idempotencyKey: 'sdk-invoice-7', payload: { amount: 10.0 } });
  assert.deepEqual([again.id, again.created], [first.id, false]);
  await assert.rejects(
    jp.jobs.add({ task: 'bill', idempotencyKey: 'sdk-invoice-7', payload: { amount: 11 }, priority: 5 }),
    (error: unknown) => isAppError(error, 'IDEMPOTENCY_CONFLICT') && error.errors.map((e) => e.pointer).join() === '/payload,/priority',
  );
  assert.equal((await jp.jobs.get(first.id)).priority, 0, 'the stored job is unchanged');
});

test('without an installation policy the SDK refuses no task name: its own handlers decide what a task is', async () => {
  const plain = await createJobplane({ databaseUrl: db.url, migrate: false });
  db.track({ stop: () => plain.close() });
  const job = await plain.jobs.add({ task: 'shell', queue: 'q-own-shell', payload: { anything: true } });
  assert.equal(job.created, true);
});

test('a schedule whose job template the installation refuses is refused by jp.schedules as by POST /api/v1/schedules, when created and when changed', async () => {
  const spec = { name: 'nightly-shell', cron: '0 2 * * *', task: 'shell', payload: { command: ['id'] } };
  const api = await app.inject({ method: 'POST', url: '/api/v1/schedules', headers: as('manager'), payload: spec });
  assert.equal(api.json<{ code: string }>().code, 'TASK_DISABLED');
  await assert.rejects(jp.schedules.create(spec), (error: unknown) => isAppError(error) && error.code === 'TASK_DISABLED');
  const created = await jp.schedules.create({ name: 'nightly-fib', cron: '0 2 * * *', task: 'fibonacci', payload: { n: 10 } });
  await assert.rejects(jp.schedules.update(created.id, { payload: { n: 'seven' } }), (error: unknown) => isAppError(error) && error.code === 'VALIDATION_FAILED' && error.errors.some((e) => e.pointer === '/payload/n'));
});
