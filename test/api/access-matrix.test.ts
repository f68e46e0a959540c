/**
 * Generated from the OpenAPI inventory, so a new route is covered the moment it exists:
 * - tenant isolation (docs/decisions.md #15): every route with an {id}, every method, called by another tenant's admin
 *   on this tenant's object → 404 (or 403), never a 2xx, and the object is unchanged;
 * - roles and scopes (#15): every protected route × viewer/manager/admin users and single-scope keys
 *   → 403 exactly when the principal lacks the route's x-permission;
 * - rank (the superadmin takeover): every user and key route that acts on an {id} × actors × targets
 *   of every rank → 403 TARGET_MORE_PRIVILEGED exactly when the target outranks the actor, and then
 *   nothing changes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { can, ROLES, SCOPES, type Permission, type Principal, type Scope } from '../../src/core/access.js';
import { principalRank } from '../../src/core/account-rules.js';
import { createIdentity } from '../../src/engine/auth/index.js';
import { DEFAULT_TENANT_ID } from '../../src/core/tenants.js';
import { testDatabase } from '../helpers/db.js';
import { as, testApp, TOKENS } from '../helpers/api.js';

type Rank = 'viewer' | 'manager' | 'admin' | 'superadmin';

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

test('no principal changes, disables, deletes or revokes an account or key that outranks it, on every user and key route', async () => {
  const identity = createIdentity({ pool: db.pool });
  // A superadmin of its own, so removing a superadmin target never meets the last-superadmin rule.
  await identity.createUser(DEFAULT_TENANT_ID, { username: 'matrix-anchor', password: 'long enough password', role: 'admin', superadmin: true });
  const KEY_SCOPES: Record<Rank, Scope[]> = { viewer: ['jobs:read'], manager: ['jobs:write'], admin: ['admin'], superadmin: ['admin'] };
  let n = 0;
  /** A fresh target of `rank` for a route, so a permitted DELETE or revoke does not affect the next check. */
  async function target(path: string, rank: Rank): Promise<{ id: string; state: () => Promise<string> }> {
    n += 1;
    if (path.startsWith('/api/v1/keys')) {
      const key = await identity.createApiKey(DEFAULT_TENANT_ID, { name: `matrix-${n}`, scopes: KEY_SCOPES[rank] }, null);
      return { id: key.id, state: async () => JSON.stringify((await db.pool.query('SELECT revoked_at, scopes FROM jobplane.api_keys WHERE id = $1', [key.id])).rows) };
    }
    const user = await identity.createUser(DEFAULT_TENANT_ID, { username: `matrix-t${n}`, password: 'long enough password', role: rank === 'superadmin' ? 'admin' : rank, superadmin: rank === 'superadmin' });
    return { id: user.id, state: async () => JSON.stringify((await db.pool.query('SELECT role, superadmin, disabled, password_hash, token_version FROM jobplane.users WHERE id = $1', [user.id])).rows) };
  }
  TOKENS['key-admin'] ??= { kind: 'key', id: '00000000-0000-7000-8000-0000000000c4', tenantId: DEFAULT_TENANT_ID, prefix: 'jp_test', scopes: ['admin'] };
  const actors = ['admin', 'superadmin', 'key-admin'] as const;
  const ranks: Rank[] = ['viewer', 'manager', 'admin', 'superadmin'];
  const routes = operations.filter(({ path, method }) => /^\/api\/v1\/(users|keys)\/\{id\}/.test(path) && method !== 'GET');
  assert.ok(routes.length >= 3, `inventory has ${routes.length} user and key routes that act on an account`);
  let checked = 0;
  for (const { path, method } of routes) {
    for (const who of actors) {
      for (const rank of ranks) {
        if (path.startsWith('/api/v1/keys') && rank === 'superadmin') continue;
        const t = await target(path, rank);
        const before = await t.state();
        // A real change (a new password), not a no-op, so a permitted call would show in the state.
        const body = method === 'PATCH' ? { password: 'a password the actor chose' } : bodyFor(method, path);
        const res = await app.inject({ method: method as 'GET', url: path.replace('{id}', t.id), headers: as(who), ...(body === undefined ? {} : { payload: body as object }) });
        const outranked = (rank === 'superadmin' ? 4 : ROLES.indexOf(rank) + 1) > principalRank(TOKENS[who]!);
        if (outranked) {
          assert.equal(res.statusCode, 403, `${who} ${method} ${path} on a ${rank} → ${res.statusCode} ${res.body.slice(0, 120)}`);
          assert.equal(res.json<{ code: string }>().code, 'TARGET_MORE_PRIVILEGED');
          assert.equal(await t.state(), before, `${who} ${method} ${path} changed a ${rank}`);
        } else {
          assert.ok(res.statusCode < 300, `${who} ${method} ${path} on a ${rank} → ${res.statusCode} ${res.body.slice(0, 120)}`);
        }
        checked += 1;
      }
    }
  }
  // Creating a key: nobody mints one that would act with more power than they have.
  for (const who of actors) {
    for (const rank of ['viewer', 'manager', 'admin'] as const) {
      const res = await app.inject({ method: 'POST', url: '/api/v1/keys', headers: as(who), payload: { name: 'minted', scopes: KEY_SCOPES[rank] } });
      assert.equal(res.statusCode === 403, ROLES.indexOf(rank) + 1 > principalRank(TOKENS[who]!), `${who} mints a ${rank} key → ${res.statusCode}`);
      checked += 1;
    }
  }
  assert.ok(checked >= 30, `checked ${checked} actor × target pairs`);
});
