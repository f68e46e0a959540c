import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normaliseFailureMessage } from '../../src/core/failures.js';
import { DEFAULT_TENANT_ID } from '../../src/core/tenants.js';
import { uuidv7 } from '../../src/db/ids.js';
import { retryFailureGroup } from '../../src/engine/failure-service.js';
import { as, TOKENS, testApp } from '../helpers/api.js';
import { testDatabase } from '../helpers/db.js';

const db = await testDatabase();
const app = await testApp(db);
const OTHER_TENANT = TOKENS.other!.tenantId;

interface Group {
  task: string;
  message: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
  sampleJobId: string;
  sampleMessage: string;
  kind: string | null;
  queues: string[];
}

const HOUR = 3_600_000;

/** Insert a finished job directly: created `ageMs` ago, finished `finishedAgoMs` ago, last error `message`. */
async function insertJob(o: {
  task: string;
  message?: string;
  kind?: string;
  status?: 'failed' | 'completed';
  queue?: string;
  tenantId?: string;
  ageMs?: number;
  finishedAgoMs?: number;
}): Promise<string> {
  const now = Date.now();
  const created = now - (o.ageMs ?? HOUR);
  const id = uuidv7(created);
  const errors = o.status === 'completed' ? [] : [
    { attempt: 1, kind: 'error', message: 'an earlier attempt, not the group key', workerId: 'w1', at: new Date(created).toISOString() },
    { attempt: 2, kind: o.kind ?? 'error', message: o.message ?? 'boom', workerId: 'w1', at: new Date(now - (o.finishedAgoMs ?? 0)).toISOString() },
  ];
  await db.pool.query(
    `INSERT INTO jobplane.jobs (id, tenant_id, queue, task, status, attempt, max_attempts, errors, created_at, started_at, finished_at)
     VALUES ($1, $2, $3, $4, $5, 2, 2, $6, $7, $7, $8)`,
    [id, o.tenantId ?? DEFAULT_TENANT_ID, o.queue ?? 'default', o.task, o.status ?? 'failed', JSON.stringify(errors), new Date(created), new Date(now - (o.finishedAgoMs ?? 0))],
  );
  return id;
}

async function groups(query: string, who: keyof typeof TOKENS = 'viewer'): Promise<Group[]> {
  const res = await app.inject({ url: `/api/v1/failures${query}`, headers: as(who) });
  assert.equal(res.statusCode, 200, res.body);
  return res.json<{ groups: Group[] }>().groups;
}

async function statusOf(id: string): Promise<{ status: string; attempt: number; attemptBase: number }> {
  const { rows } = await db.pool.query<{ status: string; attempt: number; attemptBase: number }>(
    `SELECT status, attempt, attempt_base AS "attemptBase" FROM jobplane.jobs WHERE id = $1`, [id]);
  return rows[0]!;
}

test('messages are normalised so ids, timestamps and long numbers do not split a group; short numbers do', () => {
  assert.equal(normaliseFailureMessage('job 0193a3b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b not found'), 'job <uuid> not found');
  assert.equal(normaliseFailureMessage('order 123456 at 2026-11-22T23:50:13.123Z'), 'order <n> at <time>');
  assert.equal(normaliseFailureMessage('sha deadbeefdeadbeef0123 mismatch'), 'sha <hex> mismatch');
  assert.equal(normaliseFailureMessage('host aaaaaaaaaaaaaaaaaaaa.example'), 'host aaaaaaaaaaaaaaaaaaaa.example');
  assert.equal(normaliseFailureMessage('HTTP 503 from 10.0.0.1:8080'), 'HTTP 503 from 10.0.0.1:<n>');
  assert.notEqual(normaliseFailureMessage('HTTP 503'), normaliseFailureMessage('HTTP 404'));
});

test('the database normalises exactly as normaliseFailureMessage does', async () => {
  const samples = [
    'job 0193A3B4-5C6D-7E8F-9A0B-1C2D3E4F5A6B not found at 2026-11-22 23:50:13+01:00',
    'sha deadbeefdeadbeef0123 and aaaaaaaaaaaaaaaaaaaa, 12345678901234567890, port 8080, HTTP 503',
    '', 'ünïcödé 1234 ✓',
  ];
  for (const [i, message] of samples.entries()) await insertJob({ task: `n-task-${i}`, message });
  const list = await groups('');
  for (const [i, message] of samples.entries()) {
    assert.equal(list.find((g) => g.task === `n-task-${i}`)?.message, normaliseFailureMessage(message), message);
  }
});

test('failed jobs are grouped by task and normalised last error with counts, first/last seen and a sample', async () => {
  const a1 = await insertJob({ task: 'g-charge', message: 'card declined for order 12345', finishedAgoMs: 3 * HOUR, queue: 'billing' });
  await insertJob({ task: 'g-charge', message: 'card declined for order 67890', finishedAgoMs: 2 * HOUR, queue: 'billing' });
  const a3 = await insertJob({ task: 'g-charge', message: 'card declined for order 55555', finishedAgoMs: 1 * HOUR, kind: 'permanent', queue: 'default' });
  await insertJob({ task: 'g-charge', message: 'HTTP 503', finishedAgoMs: 0.5 * HOUR });
  await insertJob({ task: 'g-mail', message: 'HTTP 503', finishedAgoMs: 1 * HOUR });
  await insertJob({ task: 'g-charge', status: 'completed' });
  // Created 10 days ago: outside the default 7-day window.
  await insertJob({ task: 'g-charge', message: 'HTTP 503', ageMs: 240 * HOUR, finishedAgoMs: 239 * HOUR });

  // Largest group first; equal counts by the most recent failure.
  const list = (await groups('')).filter((g) => g.task.startsWith('g-'));
  assert.deepEqual(list.map((g) => [g.task, g.message, g.count]), [
    ['g-charge', 'card declined for order <n>', 3],
    ['g-charge', 'HTTP 503', 1],
    ['g-mail', 'HTTP 503', 1],
  ]);
  const cards = list[0]!;
  assert.equal(cards.sampleJobId, a3);
  assert.equal(cards.sampleMessage, 'card declined for order 55555');
  assert.equal(cards.kind, 'permanent');
  assert.deepEqual(cards.queues, ['billing', 'default']);
  const first = (await db.pool.query<{ f: Date }>(`SELECT finished_at AS f FROM jobplane.jobs WHERE id = $1`, [a1])).rows[0]!.f;
  assert.equal(cards.firstSeen, first.toISOString());
  assert.ok(Date.parse(cards.lastSeen) - Date.parse(cards.firstSeen) > 1.9 * HOUR);

  // Filters: task, queue, and a wider window that takes in the old job.
  assert.deepEqual((await groups('?task=g-mail')).map((g) => g.task), ['g-mail']);
  const billing = await groups('?queue=billing&task=g-charge');
  assert.deepEqual(billing.map((g) => g.count), [2]);
  const wide = await groups(`?task=g-charge&since=${new Date(Date.now() - 30 * 24 * HOUR).toISOString()}`);
  assert.equal(wide.find((g) => g.message === 'HTTP 503')?.count, 2);
  assert.deepEqual(await groups(`?task=g-charge&since=${new Date(Date.now() + HOUR).toISOString()}`), []);
});

test('another tenant sees none of these groups and cannot retry them', async () => {
  const id = await insertJob({ task: 't-iso', message: 'mine only' });
  assert.deepEqual((await groups('?task=t-iso', 'other')), []);
  const res = await app.inject({ method: 'POST', url: '/api/v1/failures/retry', headers: as('other'), payload: { task: 't-iso', message: 'mine only' } });
  assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual(res.json(), { retried: 0, more: false });
  assert.equal((await statusOf(id)).status, 'failed');
  // And the other tenant's own failures are its own.
  await insertJob({ task: 't-iso', message: 'mine only', tenantId: OTHER_TENANT });
  assert.equal((await groups('?task=t-iso', 'other'))[0]?.count, 1);
  assert.equal((await groups('?task=t-iso', 'viewer'))[0]?.count, 1);
});

test('a viewer may list failures but not retry them (403)', async () => {
  const id = await insertJob({ task: 'v-task', message: 'nope' });
  const res = await app.inject({ method: 'POST', url: '/api/v1/failures/retry', headers: as('viewer'), payload: { task: 'v-task', message: 'nope' } });
  assert.equal(res.statusCode, 403);
  assert.equal(res.json<{ code: string }>().code, 'FORBIDDEN');
  assert.equal((await statusOf(id)).status, 'failed');
  const anon = await app.inject({ url: '/api/v1/failures' });
  assert.equal(anon.statusCode, 401);
});

test('retrying a group requeues exactly its jobs with a fresh run, leaves other groups alone, and is audited', async () => {
  const inGroup = [
    await insertJob({ task: 'r-task', message: 'timeout talking to shard 1001' }),
    await insertJob({ task: 'r-task', message: 'timeout talking to shard 2002' }),
  ];
  const otherMessage = await insertJob({ task: 'r-task', message: 'disk full' });
  const otherTask = await insertJob({ task: 'r-other', message: 'timeout talking to shard 1001' });
  const otherTenant = await insertJob({ task: 'r-task', message: 'timeout talking to shard 3003', tenantId: OTHER_TENANT });
  const old = await insertJob({ task: 'r-task', message: 'timeout talking to shard 4004', ageMs: 240 * HOUR, finishedAgoMs: 200 * HOUR });

  const group = (await groups('?task=r-task')).find((g) => g.message.startsWith('timeout'))!;
  assert.equal(group.count, 2);
  const res = await app.inject({ method: 'POST', url: '/api/v1/failures/retry', headers: as('manager'), payload: { task: group.task, message: group.message } });
  assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual(res.json(), { retried: 2, more: false });
  for (const id of inGroup) {
    const row = await statusOf(id);
    assert.equal(row.status, 'queued');
    assert.equal(row.attemptBase, row.attempt);
  }
  for (const id of [otherMessage, otherTask, otherTenant, old]) assert.equal((await statusOf(id)).status, 'failed', id);
  assert.deepEqual((await groups('?task=r-task')).map((g) => g.message), ['disk full']);

  const { rows } = await db.pool.query<{ after: { task: string; message: string; count: number } }>(
    `SELECT after FROM jobplane.audit_log WHERE action = 'job.retry_group' AND tenant_id = $1 ORDER BY seq DESC LIMIT 1`, [DEFAULT_TENANT_ID]);
  assert.equal(rows[0]?.after.task, 'r-task');
  assert.equal(rows[0]?.after.message, 'timeout talking to shard <n>');
  assert.equal(rows[0]?.after.count, 2);

  // Again: nothing left in the group.
  const again = await app.inject({ method: 'POST', url: '/api/v1/failures/retry', headers: as('manager'), payload: { task: group.task, message: group.message } });
  assert.deepEqual(again.json(), { retried: 0, more: false });
});

test('a group larger than one call is retried in bounded calls, answering more: true until done', async () => {
  for (let i = 0; i < 5; i++) await insertJob({ task: 'm-task', message: `flaky ${1000 + i}` });
  const call = () => retryFailureGroup(db.pool, DEFAULT_TENANT_ID, { task: 'm-task', message: 'flaky <n>' }, { limit: 2 });
  const seen: Array<[number, boolean]> = [];
  for (let i = 0; i < 3; i++) {
    const { changes, more } = await call();
    seen.push([changes.length, more]);
    assert.ok(changes.every((c) => c.status === 'queued' && c.task === 'm-task' && c.tenantId === DEFAULT_TENANT_ID));
  }
  assert.deepEqual(seen, [[2, true], [2, true], [1, false]]);
});

test('bad input is a 400 VALIDATION_FAILED problem, never a 5xx', async () => {
  const cases: Array<{ name: string; method?: 'GET' | 'POST'; url?: string; payload?: unknown }> = [
    { name: 'since not a date', url: '/api/v1/failures?since=yesterday' },
    { name: 'impossible since', url: '/api/v1/failures?since=2026-02-30T00:00:00Z' },
    { name: 'unknown parameter', url: '/api/v1/failures?status=failed' },
    { name: 'empty task', url: '/api/v1/failures?task=' },
    { name: 'NUL in task', url: '/api/v1/failures?task=a%00b' },
    { name: 'missing message', method: 'POST', payload: { task: 'x' } },
    { name: 'extra field', method: 'POST', payload: { task: 'x', message: 'y', tenantId: OTHER_TENANT } },
    { name: 'message not a string', method: 'POST', payload: { task: 'x', message: 5 } },
    { name: 'NUL in message', method: 'POST', payload: { task: 'x', message: 'a\u0000b' } },
    { name: 'bad since in body', method: 'POST', payload: { task: 'x', message: 'y', since: '2026-13-01T00:00:00Z' } },
  ];
  for (const c of cases) {
    const res = await app.inject({
      method: c.method ?? 'GET',
      url: c.url ?? '/api/v1/failures/retry',
      headers: as('manager'),
      ...(c.payload !== undefined ? { payload: c.payload as object } : {}),
    });
    assert.equal(res.statusCode, 400, `${c.name}: ${res.body.slice(0, 200)}`);
    const problem = res.json<{ code: string; errors?: Array<{ pointer: string }> }>();
    assert.equal(problem.code, 'VALIDATION_FAILED', c.name);
  }
});
