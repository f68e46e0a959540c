import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createIdentity } from '../../src/engine/auth/index.js';
import { as, testApp } from '../helpers/api.js';
import { testDatabase } from '../helpers/db.js';

const db = await testDatabase();
const app = await testApp(db);
const identity = createIdentity({ pool: db.pool });
// The first admin of an installation is the superadmin.
await identity.bootstrap({ adminPassword: 'correct horse battery staple' });

async function bearer(username: string, password: string): Promise<{ authorization: string }> {
  const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } });
  assert.equal(res.statusCode, 200, res.body);
  return { authorization: `Bearer ${res.json<{ accessToken: string }>().accessToken}` };
}

const superadmin = await bearer('admin', 'correct horse battery staple');
const acme = { slug: 'acme', name: 'Acme Ltd', admin: { username: 'acme-admin', password: 'acme admin password 1' } };

test('a superadmin creates a tenant with its first admin, who sees only the new tenant', async () => {
  const created = await app.inject({ method: 'POST', url: '/api/v1/tenants', headers: superadmin, payload: acme });
  assert.equal(created.statusCode, 201, created.body);
  const { tenant, admin } = created.json<{ tenant: { id: string; slug: string; name: string; users: number }; admin: { id: string; tenantId: string; role: string; superadmin: boolean } }>();
  assert.deepEqual([tenant.slug, tenant.name, tenant.users], ['acme', 'Acme Ltd', 1]);
  assert.deepEqual([admin.tenantId, admin.role, admin.superadmin], [tenant.id, 'admin', false]);

  const listed = await app.inject({ url: '/api/v1/tenants', headers: superadmin });
  assert.deepEqual(listed.json<{ tenants: Array<{ slug: string }> }>().tenants.map((t) => t.slug), ['default', 'other', 'acme']);

  // The new admin works in the new tenant only: its jobs, its users, and no one else's.
  const acmeAdmin = await bearer('acme-admin', 'acme admin password 1');
  const job = await app.inject({ method: 'POST', url: '/api/v1/jobs', headers: acmeAdmin, payload: { task: 'noop' } });
  assert.equal(job.statusCode, 201);
  const theirs = await app.inject({ url: '/api/v1/jobs', headers: acmeAdmin });
  assert.deepEqual(theirs.json<{ jobs: Array<{ id: string }> }>().jobs.map((j) => j.id), [job.json<{ id: string }>().id]);
  assert.equal((await app.inject({ url: `/api/v1/jobs/${job.json<{ id: string }>().id}`, headers: superadmin })).statusCode, 404, 'another tenant');
  assert.deepEqual((await app.inject({ url: '/api/v1/users', headers: acmeAdmin })).json<{ users: Array<{ username: string }> }>().users.map((u) => u.username), ['acme-admin']);

  // Both chains record the creation: the creator's and the new tenant's first entry.
  const { rows } = await db.pool.query<{ tenantId: string; seq: string }>(`SELECT tenant_id AS "tenantId", seq::text FROM jobplane.audit_log WHERE action = 'tenant.create' ORDER BY tenant_id`);
  assert.deepEqual(rows.map((r) => r.tenantId).sort(), ['00000000-0000-7000-8000-000000000001', tenant.id].sort());
});

test('only superadmins manage tenants: a tenant admin, a manager and an admin-scoped key get 403', async () => {
  const acmeAdmin = await bearer('acme-admin', 'acme admin password 1');
  for (const headers of [acmeAdmin, as('admin'), as('manager')]) {
    assert.equal((await app.inject({ url: '/api/v1/tenants', headers })).statusCode, 403);
    const post = await app.inject({ method: 'POST', url: '/api/v1/tenants', headers, payload: { ...acme, slug: 'sneaky', admin: { username: 'sneaky-admin', password: 'sneaky password 12' } } });
    assert.equal(post.statusCode, 403);
  }
  const key = await app.inject({ method: 'POST', url: '/api/v1/keys', headers: superadmin, payload: { name: 'all-powerful', scopes: ['admin'] } });
  assert.equal((await app.inject({ url: '/api/v1/tenants', headers: { authorization: `Bearer ${key.json<{ key: string }>().key}` } })).statusCode, 403, 'no key scope grants tenants');
  assert.equal((await db.pool.query(`SELECT 1 FROM jobplane.tenants WHERE slug = 'sneaky'`)).rows.length, 0);
});

test('a taken slug or username is a 409 naming it, and neither the tenant nor the user is left behind', async () => {
  const slugTaken = await app.inject({ method: 'POST', url: '/api/v1/tenants', headers: superadmin, payload: { ...acme, admin: { username: 'second-admin', password: 'second admin password' } } });
  assert.equal(slugTaken.statusCode, 409);
  assert.equal(slugTaken.json<{ code: string }>().code, 'TENANT_SLUG_TAKEN');
  const userTaken = await app.inject({ method: 'POST', url: '/api/v1/tenants', headers: superadmin, payload: { slug: 'globex', name: 'Globex', admin: { username: 'acme-admin', password: 'another password 12' } } });
  assert.equal(userTaken.statusCode, 409);
  assert.equal(userTaken.json<{ code: string }>().code, 'USERNAME_TAKEN');
  const left = await db.pool.query(`SELECT 1 FROM jobplane.tenants WHERE slug = 'globex' UNION ALL SELECT 1 FROM jobplane.users WHERE username = 'second-admin'`);
  assert.equal(left.rows.length, 0, 'one transaction: nothing half-created');
});

test('bad slugs, names and passwords are 400s with a pointer', async () => {
  const cases: Array<[unknown, string]> = [
    [{ ...acme, slug: 'Has Spaces' }, '/slug'],
    [{ ...acme, slug: '-leading-dash' }, '/slug'],
    [{ ...acme, slug: 'x'.repeat(64) }, '/slug'],
    [{ ...acme, slug: 'fine', name: '   ' }, '/name'],
    [{ ...acme, slug: 'fine', admin: { username: 'ok-user', password: 'short' } }, '/admin/password'],
    [{ ...acme, slug: 'fine', admin: { username: 'x', password: 'long enough password' } }, '/admin/username'],
    [{ slug: 'fine', name: 'Fine' }, '/admin'],
  ];
  for (const [payload, pointer] of cases) {
    const res = await app.inject({ method: 'POST', url: '/api/v1/tenants', headers: superadmin, payload: payload as Record<string, unknown> });
    assert.equal(res.statusCode, 400, `${JSON.stringify(payload)}: ${res.body}`);
    const errors = res.json<{ errors?: Array<{ pointer: string }> }>().errors ?? [];
    assert.ok(errors.some((e) => e.pointer.startsWith(pointer)), `${pointer} in ${res.body}`);
  }
});
