import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_TENANT_ID } from '../../src/core/tenants.js';
import { createIdentity } from '../../src/engine/auth/index.js';
import { verifyAudit } from '../../src/engine/audit.js';
import { testDatabase } from '../helpers/db.js';
import { as, testApp } from '../helpers/api.js';
import { eventually } from '../helpers/wait.js';

const db = await testDatabase();
const app = await testApp(db);
await createIdentity({ pool: db.pool }).bootstrap({ adminPassword: 'audit recording password' });

test('state-changing requests and logins land in the tenant’s audit chain with actor, target, before/after and request id; failed logins do not', async () => {
  const submitted = await app.inject({ method: 'POST', url: '/api/v1/jobs', headers: as('manager'), payload: { task: 'audited', delayMs: 60_000 } });
  const id = submitted.json<{ id: string }>().id;
  const cancel = await app.inject({ method: 'POST', url: `/api/v1/jobs/${id}/cancel`, headers: as('manager') });
  await app.inject({ method: 'POST', url: '/api/v1/queues/audited-q/pause', headers: as('admin') });
  await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'admin', password: 'wrong password here' } });
  await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'admin', password: 'audit recording password' } });
  const list = await app.inject({ url: '/api/v1/audit?limit=50', headers: as('admin') });
  const entries = list.json<{ entries: Array<{ action: string; actor: string; targetId: string | null; before: { status?: string } | null; after: { status?: string } | null; requestId: string | null; clientIp: string | null }> }>().entries;
  const actions = entries.map((e) => e.action);
  for (const action of ['job.submit', 'job.cancel', 'queue.pause', 'auth.login']) assert.ok(actions.includes(action), `${action} missing from ${actions.join(', ')}`);
  assert.ok(!actions.includes('auth.login_failed'), 'anonymous requests do not write into the chain');
  // They are in the failed-login trail instead, which is written within a second.
  const trail = await eventually(async () => {
    const res = await app.inject({ url: '/api/v1/security/login-failures', headers: as('admin') });
    const failures = res.json<{ failures: Array<{ username: string; reason: string; attempts: number }> }>().failures;
    return failures.length > 0 ? failures : null;
  });
  assert.deepEqual(trail.map((f) => [f.username, f.reason, f.attempts]), [['admin', 'invalid-credentials', 1]]);
  assert.equal((await app.inject({ url: '/api/v1/security/login-failures', headers: as('manager') })).statusCode, 403);
  const cancelled = entries.find((e) => e.action === 'job.cancel')!;
  assert.equal(cancelled.actor, 'user:00000000-0000-7000-8000-0000000000a2');
  assert.equal(cancelled.targetId, id);
  assert.equal(cancelled.before?.status, 'queued');
  assert.equal(cancelled.after?.status, 'cancelled');
  assert.equal(cancelled.requestId, cancel.headers['x-request-id']);
  assert.ok(cancelled.clientIp);
  assert.deepEqual(await verifyAudit(db.pool, DEFAULT_TENANT_ID), { ok: true, checked: entries.length });
});
