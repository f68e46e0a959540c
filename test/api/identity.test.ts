import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createIdentity } from '../../src/engine/auth/index.js';
import { testDatabase } from '../helpers/db.js';
import { as, testApp } from '../helpers/api.js';

const db = await testDatabase();
const app = await testApp(db);
const identity = createIdentity({ pool: db.pool });
const boot = await identity.bootstrap({ adminPassword: 'correct horse battery staple' });
assert.equal(boot.created, true);

async function login(username: string, password: string) {
  return app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } });
}

test('an admin logs in, calls the API with the access token, refreshes, and the old refresh token is then refused', async () => {
  const res = await login('admin', 'correct horse battery staple');
  assert.equal(res.statusCode, 200, res.body);
  const session = res.json<{ accessToken: string; refreshToken: string; tokenType: string }>();
  assert.equal(session.tokenType, 'Bearer');
  const me = await app.inject({ url: '/api/v1/me', headers: { authorization: `Bearer ${session.accessToken}` } });
  assert.equal(me.json<{ kind: string; username: string }>().username, 'admin');
  const refreshed = await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: session.refreshToken } });
  assert.equal(refreshed.statusCode, 200);
  // Within the reuse grace a second refresh is a parallel tab; this replay comes a minute later.
  await db.pool.query(`UPDATE jobplane.refresh_tokens SET used_at = used_at - interval '1 minute' WHERE used_at IS NOT NULL`);
  const reused = await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: session.refreshToken } });
  assert.equal(reused.statusCode, 401);
  assert.equal(reused.json<{ code: string }>().code, 'REFRESH_TOKEN_REUSED');
});

test('a wrong password and an unknown user get the same answer', async () => {
  const wrong = await login('admin', 'not the password at all');
  const unknown = await login('nobody-here', 'not the password at all');
  assert.equal(wrong.statusCode, 401);
  assert.deepEqual([wrong.json<{ code: string }>().code, wrong.json<{ detail: string }>().detail], [unknown.json<{ code: string }>().code, unknown.json<{ detail: string }>().detail]);
});

test('an admin creates a scoped API key that works at once and stops at once when revoked', async () => {
  const { accessToken } = (await login('admin', 'correct horse battery staple')).json<{ accessToken: string }>();
  const auth = { authorization: `Bearer ${accessToken}` };
  const created = await app.inject({ method: 'POST', url: '/api/v1/keys', headers: auth, payload: { name: 'ci', scopes: ['jobs:write'] } });
  assert.equal(created.statusCode, 201, created.body);
  const { id, key, prefix } = created.json<{ id: string; key: string; prefix: string }>();
  assert.ok(key.startsWith(prefix));
  const submit = await app.inject({ method: 'POST', url: '/api/v1/jobs', headers: { 'x-api-key': key }, payload: { task: 'from-key' } });
  assert.equal(submit.statusCode, 201);
  assert.equal(submit.json<{ createdBy: string }>().createdBy, `key:${id}`);
  const forbidden = await app.inject({ url: '/api/v1/users', headers: { 'x-api-key': key } });
  assert.equal(forbidden.statusCode, 403);
  const listed = await app.inject({ url: '/api/v1/keys', headers: auth });
  assert.ok(!JSON.stringify(listed.json()).includes(key), 'the secret is never listed');
  await app.inject({ method: 'POST', url: `/api/v1/keys/${id}/revoke`, headers: auth });
  const after = await app.inject({ method: 'POST', url: '/api/v1/jobs', headers: { authorization: `Bearer ${key}` }, payload: { task: 'x' } });
  assert.equal(after.statusCode, 401);
});

test('users are managed by admins only, and a manager cannot', async () => {
  const { accessToken } = (await login('admin', 'correct horse battery staple')).json<{ accessToken: string }>();
  const auth = { authorization: `Bearer ${accessToken}` };
  const created = await app.inject({ method: 'POST', url: '/api/v1/users', headers: auth, payload: { username: 'mia', password: 'a long enough password', role: 'viewer' } });
  assert.equal(created.statusCode, 201, created.body);
  const mia = (await login('mia', 'a long enough password')).json<{ accessToken: string }>();
  const denied = await app.inject({ method: 'POST', url: '/api/v1/jobs', headers: { authorization: `Bearer ${mia.accessToken}` }, payload: { task: 'x' } });
  assert.equal(denied.statusCode, 403);
  const byManager = await app.inject({ url: '/api/v1/users', headers: as('manager') });
  assert.equal(byManager.statusCode, 403);
  const dup = await app.inject({ method: 'POST', url: '/api/v1/users', headers: auth, payload: { username: 'mia', password: 'a long enough password', role: 'viewer' } });
  assert.equal(dup.json<{ code: string }>().code, 'USERNAME_TAKEN');
});
