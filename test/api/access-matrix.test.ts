/**
 * Generated from the OpenAPI inventory, so a new route is covered the moment it exists:
 * - tenant isolation (S1): every route with an {id}, every method, called by another tenant's admin
 *   on this tenant's object → 404 (or 403), never a 2xx, and the object is unchanged;
 * - roles and scopes (S2): every protected route × viewer/manager/admin users and single-scope keys
 *   → 403 exactly when the principal lacks the route's x-permission.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { can, SCOPES, type Permission, type Principal } from '../../src/core/access.js';
import { DEFAULT_TENANT_ID } from '../../src/core/tenants.js';
import { testDatabase } from '../helpers/db.js';
import { as, testApp, TOKENS } from '../helpers/api.js';

const db = await testDatabase();
const app = await testApp(db);
await app.ready();
type Operation = {
  'x-permission'?: Permission;
  parameters?: Array<{ in: string; name: string }>;
  responses?: Record<string, { content?: Record<string, unknown> }>;
};
/** An event stream never ends, so the permitted call gets a bad filter: 400 proves it passed the permission check. */
const streams = (op: Operation): boolean => op.responses?.['200']?.content?.['text/event-stream'] !== undefined;
const doc = app.swagger() as { paths: Record<string, Record<string, Operation>> };
const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method: method.toUpperCase(), op })));

/** Minimal bodies that pass schema validation, so the check reaches the handler. */
function bodyFor(method: string, path: string): unknown {
  if (method === 'GET' || method === 'DELETE') return undefined;
  if (path.endsWith('/reschedule')) return { priority: 1 };
  if (path === '/api/v1/users/{id}') return { role: 'viewer' };
  if (path === '/api/v1/jobs') return { task: 'matrix' };
  if (path === '/api/v1/jobs/batch') return { jobs: [{ task: 'matrix' }] };
  if (path === '/api/v1/schedules' || path === '/api/v1/schedules/preview') return { name: `m-${Math.random().toString(36).slice(2, 8)}`, intervalMs: 60_000, task: 'matrix' };
  if (path === '/api/v1/users') return { username: `u${Math.random().toString(36).slice(2, 8)}`, password: 'long enough password', role: 'viewer' };
  if (path === '/api/v1/keys') return { name: 'k', scopes: ['jobs:read'] };
  if (path.endsWith('/concurrency')) return { limit: 2 };
  return {};
}

test("another tenant's admin gets 404 (or 403) on every route with an id, and nothing changes", async () => {
  const job = (await app.inject({ method: 'POST', url: '/api/v1/jobs', headers: as('admin'), payload: { task: 'mine', delayMs: 60_000 } })).json<{ id: string }>();
  const schedule = (await app.inject({ method: 'POST', url: '/api/v1/schedules', headers: as('admin'), payload: { name: 'iso', intervalMs: 60_000, task: 't' } })).json<{ id: string }>();
  const user = (await app.inject({ method: 'POST', url: '/api/v1/users', headers: as('admin'), payload: { username: 'isolated', password: 'long enough password', role: 'viewer' } })).json<{ id: string }>();
  const key = (await app.inject({ method: 'POST', url: '/api/v1/keys', headers: as('admin'), payload: { name: 'iso', scopes: ['jobs:read'] } })).json<{ id: string }>();
  const idFor = (path: string): string => (path.includes('/schedules/') ? schedule.id : path.includes('/users/') ? user.id : path.includes('/keys/') ? key.id : job.id);
  const withId = operations.filter((o) => o.path.includes('{id}'));
  assert.ok(withId.length >= 15, `inventory has ${withId.length} id routes`);
  for (const { path, method } of withId) {
    const body = bodyFor(method, path);
    const res = await app.inject({ method: method as 'GET', url: path.replace('{id}', idFor(path)), headers: as('other'), ...(body === undefined ? {} : { payload: body as object }) });
    assert.ok([403, 404].includes(res.statusCode), `${method} ${path} answered ${res.statusCode}: ${res.body.slice(0, 120)}`);
  }
  const still = await app.inject({ url: `/api/v1/jobs/${job.id}`, headers: as('admin') });
  assert.equal(still.json<{ status: string }>().status, 'queued');
  assert.equal((await app.inject({ url: `/api/v1/schedules/${schedule.id}`, headers: as('admin') })).statusCode, 200);
});

test('every protected route answers 403 exactly when the role or key scope lacks its permission', async () => {
  const keyPrincipals: Record<string, Principal> = Object.fromEntries(
    SCOPES.map((scope) => [`key-${scope}`, { kind: 'key', id: `00000000-0000-7000-8000-0000000000c${SCOPES.indexOf(scope)}`, tenantId: DEFAULT_TENANT_ID, prefix: 'jp_test', scopes: [scope] }]),
  );
  Object.assign(TOKENS, keyPrincipals);
  const principals = ['viewer', 'manager', 'admin', 'superadmin', ...Object.keys(keyPrincipals)];
  let checked = 0;
  for (const { path, method, op } of operations) {
    const permission = op['x-permission'];
    if (!permission || !path.startsWith('/api/v1')) continue;
    for (const who of principals) {
      const url = path.replace('{id}', '00000000-0000-7000-8000-000000000000').replace('{name}', 'matrix-q') +
        (streams(op) && !path.includes('{id}') ? '?types=no-such-type' : '');
      const body = bodyFor(method, path);
      const res = await app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${who}` }, ...(body === undefined ? {} : { payload: body as object }) });
      const allowed = can(TOKENS[who]!, permission);
      assert.equal(res.statusCode === 403, !allowed, `${who} ${method} ${path} (${permission}) → ${res.statusCode}`);
      assert.ok(res.statusCode < 500, `${who} ${method} ${path} → ${res.statusCode}`);
      checked += 1;
    }
  }
  assert.ok(checked > 200, `checked ${checked} route × principal pairs`);
});
