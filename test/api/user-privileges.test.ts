/**
 * Who may act on whose account, over HTTP with real logins (the attack battery's superadmin
 * takeover: a tenant admin set the superadmin's password and then logged in as it).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_TENANT_ID } from '../../src/core/tenants.js';
import { createIdentity } from '../../src/engine/auth/index.js';
import { testDatabase } from '../helpers/db.js';
import { testApp } from '../helpers/api.js';

const db = await testDatabase();
const app = await testApp(db);
const identity = createIdentity({ pool: db.pool });
const ROOT_PASSWORD = 'the superadmin password';
const PASSWORD = 'a long enough password';
await identity.bootstrap({ adminPassword: ROOT_PASSWORD });

let ipCounter = 0;
async function login(username: string, password: string): Promise<Record<string, string>> {
  ipCounter += 1;
  const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password }, remoteAddress: `10.9.0.${ipCounter}` });
  assert.equal(res.statusCode, 200, `login ${username}: ${res.body}`);
  return { authorization: `Bearer ${res.json<{ accessToken: string }>().accessToken}` };
}

async function createUser(as: Record<string, string>, username: string, role: 'viewer' | 'manager' | 'admin'): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/api/v1/users', headers: as, payload: { username, password: PASSWORD, role } });
  assert.equal(res.statusCode, 201, res.body);
  return res.json<{ id: string }>().id;
}

const root = await login('admin', ROOT_PASSWORD);
const rootId = (await app.inject({ url: '/api/v1/me', headers: root })).json<{ id: string }>().id;
await createUser(root, 'alice', 'admin');
const alice = await login('alice', PASSWORD);

function codeOf(res: { json: <T>() => T }): string {
  return res.json<{ code: string }>().code;
}

test('a tenant admin cannot take over the superadmin: new password, disable, demote and delete are refused and change nothing', async () => {
  for (const payload of [{ password: 'attacker chosen password' }, { disabled: true }, { role: 'viewer' }, { superadmin: false }]) {
    const res = await app.inject({ method: 'PATCH', url: `/api/v1/users/${rootId}`, headers: alice, payload });
    assert.equal(res.statusCode, 403, `${JSON.stringify(payload)} → ${res.statusCode} ${res.body}`);
    assert.ok(['TARGET_MORE_PRIVILEGED', 'FORBIDDEN'].includes(codeOf(res)));
  }
  const deleted = await app.inject({ method: 'DELETE', url: `/api/v1/users/${rootId}`, headers: alice });
  assert.equal(deleted.statusCode, 403);
  assert.equal(codeOf(deleted), 'TARGET_MORE_PRIVILEGED');
  const attacker = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'admin', password: 'attacker chosen password' }, remoteAddress: '10.9.1.1' });
  assert.equal(attacker.statusCode, 401, 'the attacker’s password does not open the superadmin');
  const stillRoot = await login('admin', ROOT_PASSWORD);
  assert.equal((await app.inject({ url: '/api/v1/tenants', headers: stillRoot })).statusCode, 200);
  assert.equal((await app.inject({ url: '/api/v1/tenants', headers: alice })).statusCode, 403);
});

test('an admin-scoped API key cannot change the superadmin either', async () => {
  const created = await app.inject({ method: 'POST', url: '/api/v1/keys', headers: alice, payload: { name: 'automation', scopes: ['admin'] } });
  const key = { 'x-api-key': created.json<{ key: string }>().key };
  const res = await app.inject({ method: 'PATCH', url: `/api/v1/users/${rootId}`, headers: key, payload: { password: 'attacker chosen password' } });
  assert.equal(res.statusCode, 403);
  assert.equal(codeOf(res), 'TARGET_MORE_PRIVILEGED');
});

test('admins manage accounts up to their own rank: another admin yes, a role above their own no', async () => {
  const bobId = await createUser(root, 'bob', 'admin');
  const patched = await app.inject({ method: 'PATCH', url: `/api/v1/users/${bobId}`, headers: alice, payload: { role: 'manager' } });
  assert.equal(patched.statusCode, 200, patched.body);
  const manager = await login('bob', PASSWORD);
  const carolId = await createUser(root, 'carol', 'viewer');
  const noAdmin = await app.inject({ method: 'PATCH', url: `/api/v1/users/${carolId}`, headers: manager, payload: { role: 'admin' } });
  assert.equal(noAdmin.statusCode, 403, 'a manager may not manage users at all');
});

test('only a superadmin grants superadmin, and then the first one can step down', async () => {
  const daveId = await createUser(root, 'dave', 'admin');
  const byAdmin = await app.inject({ method: 'PATCH', url: `/api/v1/users/${daveId}`, headers: alice, payload: { superadmin: true } });
  assert.equal(byAdmin.statusCode, 403);
  assert.equal(codeOf(byAdmin), 'FORBIDDEN');
  const byRoot = await app.inject({ method: 'PATCH', url: `/api/v1/users/${daveId}`, headers: root, payload: { superadmin: true } });
  assert.equal(byRoot.statusCode, 200, byRoot.body);
  assert.equal(byRoot.json<{ superadmin: boolean }>().superadmin, true);
  const dave = await login('dave', PASSWORD);
  // Two superadmins now: dave may take the flag from the first, and is then the last one.
  const demote = await app.inject({ method: 'PATCH', url: `/api/v1/users/${rootId}`, headers: dave, payload: { superadmin: false } });
  assert.equal(demote.statusCode, 200, demote.body);
  const last = await app.inject({ method: 'PATCH', url: `/api/v1/users/${daveId}`, headers: dave, payload: { superadmin: false } });
  assert.equal(last.statusCode, 409);
  assert.equal(codeOf(last), 'LAST_SUPERADMIN');
  const lastRole = await app.inject({ method: 'PATCH', url: `/api/v1/users/${daveId}`, headers: dave, payload: { role: 'viewer' } });
  assert.equal(codeOf(lastRole), 'LAST_SUPERADMIN');
  const self = await app.inject({ method: 'DELETE', url: `/api/v1/users/${daveId}`, headers: dave });
  assert.equal(self.statusCode, 403, 'nobody deletes themselves');
  const disableSelf = await app.inject({ method: 'PATCH', url: `/api/v1/users/${daveId}`, headers: dave, payload: { disabled: true } });
  assert.equal(disableSelf.statusCode, 403, 'nobody disables themselves');
  // Give the flag back so the other tests keep their superadmin.
  const back = await app.inject({ method: 'PATCH', url: `/api/v1/users/${rootId}`, headers: dave, payload: { superadmin: true } });
  assert.equal(back.statusCode, 200);
});

test('users change their own password only with the current one, and wrong guesses are throttled', async () => {
  const erinId = await createUser(root, 'erin', 'viewer');
  const erin = await login('erin', PASSWORD);
  const noCurrent = await app.inject({ method: 'POST', url: '/api/v1/me/password', headers: erin, payload: { currentPassword: '', newPassword: 'a new long password' } });
  assert.equal(noCurrent.statusCode, 400);
  const wrong = await app.inject({ method: 'POST', url: '/api/v1/me/password', headers: erin, payload: { currentPassword: 'not my password', newPassword: 'a new long password' }, remoteAddress: '10.9.2.1' });
  assert.equal(wrong.statusCode, 403);
  assert.equal(codeOf(wrong), 'CURRENT_PASSWORD_INVALID');
  const changed = await app.inject({ method: 'POST', url: '/api/v1/me/password', headers: erin, payload: { currentPassword: PASSWORD, newPassword: 'a new long password' }, remoteAddress: '10.9.2.1' });
  assert.equal(changed.statusCode, 204, changed.body);
  assert.equal((await app.inject({ url: '/api/v1/me', headers: erin })).statusCode, 401, 'the old session ended');
  const again = await login('erin', 'a new long password');
  for (let i = 0; i < 5; i += 1) {
    await app.inject({ method: 'POST', url: '/api/v1/me/password', headers: again, payload: { currentPassword: `guess ${i}`, newPassword: 'another long password' }, remoteAddress: '10.9.2.2' });
  }
  const throttled = await app.inject({ method: 'POST', url: '/api/v1/me/password', headers: again, payload: { currentPassword: 'a new long password', newPassword: 'another long password' }, remoteAddress: '10.9.2.2' });
  assert.equal(throttled.statusCode, 429);
  // An admin setting their own password through PATCH needs it too.
  const aliceId = (await app.inject({ url: '/api/v1/me', headers: alice })).json<{ id: string }>().id;
  const selfPatch = await app.inject({ method: 'PATCH', url: `/api/v1/users/${aliceId}`, headers: alice, payload: { password: 'alice new password' } });
  assert.equal(selfPatch.statusCode, 400);
  assert.equal(selfPatch.json<{ errors: Array<{ pointer: string }> }>().errors[0]!.pointer, '/currentPassword');
  // Setting someone else's (lower) password needs no current one.
  const byAdmin = await app.inject({ method: 'PATCH', url: `/api/v1/users/${erinId}`, headers: alice, payload: { password: 'set by the admin!' } });
  assert.equal(byAdmin.statusCode, 200, byAdmin.body);
});

test('the last admin of a tenant cannot demote, disable or remove themselves, and two admins demoting each other at once leave one', async () => {
  const created = await app.inject({
    method: 'POST', url: '/api/v1/tenants', headers: root,
    payload: { slug: 'solo', name: 'Solo', admin: { username: 'solo-admin', password: PASSWORD } },
  });
  assert.equal(created.statusCode, 201, created.body);
  const solo = await login('solo-admin', PASSWORD);
  const soloId = created.json<{ admin: { id: string } }>().admin.id;
  const demote = await app.inject({ method: 'PATCH', url: `/api/v1/users/${soloId}`, headers: solo, payload: { role: 'manager' } });
  assert.equal(demote.statusCode, 409);
  assert.equal(codeOf(demote), 'LAST_ADMIN');
  const secondId = await createUser(solo, 'solo-second', 'admin');
  const second = await login('solo-second', PASSWORD);
  const [a, b] = await Promise.all([
    app.inject({ method: 'PATCH', url: `/api/v1/users/${secondId}`, headers: solo, payload: { role: 'viewer' } }),
    app.inject({ method: 'PATCH', url: `/api/v1/users/${soloId}`, headers: second, payload: { role: 'viewer' } }),
  ]);
  assert.deepEqual([a.statusCode, b.statusCode].sort(), [200, 409], `${a.body} ${b.body}`);
  const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobplane.users WHERE tenant_id = $1 AND role = 'admin'`, [created.json<{ tenant: { id: string } }>().tenant.id]);
  assert.equal(rows[0]!.n, 1);
  assert.notEqual(DEFAULT_TENANT_ID, created.json<{ tenant: { id: string } }>().tenant.id);
});
