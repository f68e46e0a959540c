/**
 * Inline credentials in payloads (the attack battery: an http job's Authorization, Cookie and
 * X-Api-Key headers came back in clear to viewers and jobs:read keys, and sat in the job.submit
 * audit entry). They stay with the worker and are shown to nobody.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testDatabase } from '../helpers/db.js';
import { as, testApp, TOKENS } from '../helpers/api.js';
import { DEFAULT_TENANT_ID } from '../../src/core/tenants.js';

const db = await testDatabase();
const app = await testApp(db);
TOKENS['reader-key'] = { kind: 'key', id: '00000000-0000-7000-8000-0000000000d1', tenantId: DEFAULT_TENANT_ID, prefix: 'jp_test', scopes: ['jobs:read'] };
const CANARY = 'Bearer canary-7f3e9a1b';
const headers = { authorization: CANARY, Cookie: 'session=canary-cookie', 'x-api-key': 'canary-key-42', accept: 'application/json' };

test('viewers, jobs:read keys, lists, searches and the audit log see [redacted] where an inline credential was', async () => {
  const submitted = await app.inject({ method: 'POST', url: '/api/v1/jobs', headers: as('manager'), payload: { task: 'http', payload: { url: 'https://example.com/hook', headers }, delayMs: 60_000 } });
  assert.equal(submitted.statusCode, 201, submitted.body);
  const { id } = submitted.json<{ id: string }>();
  const reads = [
    submitted.body,
    (await app.inject({ url: `/api/v1/jobs/${id}`, headers: as('viewer') })).body,
    (await app.inject({ url: `/api/v1/jobs/${id}`, headers: as('reader-key') })).body,
    (await app.inject({ url: '/api/v1/jobs?limit=10', headers: as('viewer') })).body,
    (await app.inject({ url: '/api/v1/audit?limit=10', headers: as('admin') })).body,
  ];
  for (const body of reads) {
    for (const secret of ['canary-7f3e9a1b', 'canary-cookie', 'canary-key-42']) assert.ok(!body.includes(secret), `${secret} shown in ${body.slice(0, 200)}`);
  }
  const job = JSON.parse(reads[1]!) as { payload: { headers: Record<string, string> } };
  assert.deepEqual(job.payload.headers, { authorization: '[redacted]', Cookie: '[redacted]', 'x-api-key': '[redacted]', accept: 'application/json' });
  // Search cannot confirm a guessed value either, while the rest of the payload stays searchable.
  const search = async (q: string) => (await app.inject({ url: `/api/v1/jobs?q=${encodeURIComponent(q)}`, headers: as('viewer') })).json<{ jobs: unknown[] }>().jobs.length;
  assert.equal(await search('canary-7f3e9a1b'), 0);
  assert.equal(await search('example.com/hook'), 1);
  // The worker still gets the value: it is stored as submitted.
  const { rows } = await db.pool.query<{ payload: { headers: Record<string, string> } }>('SELECT payload FROM jobplane.jobs WHERE id = $1', [id]);
  assert.equal(rows[0]!.payload.headers.authorization, CANARY);
});

test('a schedule shows [redacted] too, and saving a payload edited from that read keeps the stored credential', async () => {
  const created = await app.inject({ method: 'POST', url: '/api/v1/schedules', headers: as('manager'), payload: { name: 'hook', intervalMs: 60_000, task: 'http', payload: { url: 'https://example.com/a', headers } } });
  assert.equal(created.statusCode, 201, created.body);
  assert.ok(!created.body.includes('canary'));
  const shown = created.json<{ id: string; payload: { url: string; headers: Record<string, string> } }>();
  // The dashboard's editor sends back what it was shown, with the URL changed.
  const patched = await app.inject({ method: 'PATCH', url: `/api/v1/schedules/${shown.id}`, headers: as('manager'), payload: { payload: { ...shown.payload, url: 'https://example.com/b' } } });
  assert.equal(patched.statusCode, 200, patched.body);
  const { rows } = await db.pool.query<{ payload: { url: string; headers: Record<string, string> } }>('SELECT payload FROM jobplane.schedules WHERE id = $1', [shown.id]);
  assert.equal(rows[0]!.payload.url, 'https://example.com/b');
  assert.equal(rows[0]!.payload.headers.authorization, CANARY, 'not overwritten with [redacted]');
  // A new value does replace it.
  await app.inject({ method: 'PATCH', url: `/api/v1/schedules/${shown.id}`, headers: as('manager'), payload: { payload: { ...shown.payload, headers: { ...shown.payload.headers, authorization: 'Bearer new' } } } });
  const again = await db.pool.query<{ payload: { headers: Record<string, string> } }>('SELECT payload FROM jobplane.schedules WHERE id = $1', [shown.id]);
  assert.equal(again.rows[0]!.payload.headers.authorization, 'Bearer new');
});
