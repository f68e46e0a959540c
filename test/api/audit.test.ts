import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_TENANT_ID } from '../../src/core/tenants.js';
import { recordAudit } from '../../src/engine/audit.js';
import { as, testApp, TOKENS } from '../helpers/api.js';
import { testDatabase } from '../helpers/db.js';

const db = await testDatabase();
const app = await testApp(db);
// build-app.ts does not mount the audit route yet; register it before the app's first request.

interface Entry { seq: string; at: string; actor: string; action: string; targetId: string | null; after: unknown; hash: string; prevHash: string | null }
interface Page { entries: Entry[]; nextCursor: string | null }

const admin = `user:${TOKENS.admin!.id}`;
for (let i = 0; i < 5; i++) {
  await recordAudit(db.pool, { tenantId: DEFAULT_TENANT_ID, actor: admin, action: 'job.submit', targetType: 'job', targetId: `job-${i}`, after: { i, token: 'CANARY' } });
}
await recordAudit(db.pool, { tenantId: DEFAULT_TENANT_ID, actor: 'key:k1', action: 'schedule.update', targetId: 's-1' });
await recordAudit(db.pool, { tenantId: TOKENS.other!.tenantId, actor: 'system', action: 'job.submit', targetId: 'foreign' });

test('an admin lists the tenant’s audit log newest first, filtered and paged by cursor', async () => {
  const all = await app.inject({ url: '/api/v1/audit', headers: as('admin') });
  assert.equal(all.statusCode, 200, all.body);
  const page = all.json<Page>();
  assert.equal(page.entries.length, 6);
  assert.equal(page.nextCursor, null);
  assert.equal(page.entries[0]!.action, 'schedule.update');
  assert.match(page.entries[0]!.hash, /^[0-9a-f]{64}$/);
  assert.equal(page.entries[0]!.prevHash, page.entries[1]!.hash);
  assert.ok(!Number.isNaN(Date.parse(page.entries[0]!.at)));
  assert.doesNotMatch(all.body, /CANARY/);

  const first = (await app.inject({ url: '/api/v1/audit?action=job.submit&limit=2', headers: as('admin') })).json<Page>();
  assert.deepEqual(first.entries.map((e) => e.targetId), ['job-4', 'job-3']);
  assert.ok(first.nextCursor);
  const second = (await app.inject({ url: `/api/v1/audit?action=job.submit&limit=2&cursor=${first.nextCursor}`, headers: as('admin') })).json<Page>();
  assert.deepEqual(second.entries.map((e) => e.targetId), ['job-2', 'job-1']);
  const third = (await app.inject({ url: `/api/v1/audit?action=job.submit&limit=2&cursor=${second.nextCursor!}`, headers: as('admin') })).json<Page>();
  assert.deepEqual(third.entries.map((e) => e.targetId), ['job-0']);
  assert.equal(third.nextCursor, null);

  const byActor = (await app.inject({ url: '/api/v1/audit?actor=key:k1', headers: as('admin') })).json<Page>();
  assert.deepEqual(byActor.entries.map((e) => e.targetId), ['s-1']);
  const byTarget = (await app.inject({ url: '/api/v1/audit?targetId=job-2', headers: as('admin') })).json<Page>();
  assert.equal(byTarget.entries.length, 1);
  const future = new Date(Date.now() + 60_000).toISOString();
  assert.equal((await app.inject({ url: `/api/v1/audit?since=${future}`, headers: as('admin') })).json<Page>().entries.length, 0);
  assert.equal((await app.inject({ url: `/api/v1/audit?until=${future}`, headers: as('admin') })).json<Page>().entries.length, 6);
});

test('bad query parameters are a 400 with a problem body', async () => {
  for (const q of ['limit=501', 'limit=0', 'cursor=abc', 'since=yesterday', 'tenantId=x']) {
    const res = await app.inject({ url: `/api/v1/audit?${q}`, headers: as('admin') });
    assert.equal(res.statusCode, 400, q);
    assert.equal(res.json<{ code: string }>().code, 'VALIDATION_FAILED', q);
  }
});

test('viewers and managers get 403, anonymous callers 401', async () => {
  for (const who of ['viewer', 'manager'] as const) {
    const res = await app.inject({ url: '/api/v1/audit', headers: as(who) });
    assert.equal(res.statusCode, 403, who);
    assert.equal(res.json<{ code: string }>().code, 'FORBIDDEN');
  }
  assert.equal((await app.inject({ url: '/api/v1/audit' })).statusCode, 401);
});

test('another tenant’s admin sees only its own entries', async () => {
  const res = await app.inject({ url: '/api/v1/audit', headers: as('other') });
  assert.equal(res.statusCode, 200);
  const page = res.json<Page>();
  assert.deepEqual(page.entries.map((e) => e.targetId), ['foreign']);
});
