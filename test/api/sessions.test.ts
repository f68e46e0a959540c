/**
 * Access tokens end with their session (the attack battery: they outlived logout and refresh-token
 * reuse by up to 15 minutes). Two apps on one database stand for two API processes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createIdentity } from '../../src/engine/auth/index.js';
import { RevokedSessions } from '../../src/engine/auth/revocations.js';
import { testDatabase } from '../helpers/db.js';
import { testApp } from '../helpers/api.js';
import { eventually } from '../helpers/wait.js';

const db = await testDatabase();
const PASSWORD = 'session test password';
const revocationsA = db.track(new RevokedSessions({ pool: db.pool }));
const revocationsB = db.track(new RevokedSessions({ pool: db.pool }));
await Promise.all([revocationsA.start(), revocationsB.start()]);
const identityA = createIdentity({ pool: db.pool, revocations: revocationsA });
const identityB = createIdentity({ pool: db.pool, revocations: revocationsB });
const appA = await testApp(db, { identity: identityA, authenticate: (c) => identityA.authenticate(c) });
const appB = await testApp(db, { identity: identityB, authenticate: (c) => identityB.authenticate(c) });
await identityA.bootstrap({ adminPassword: PASSWORD });

async function login(): Promise<{ accessToken: string; refreshToken: string }> {
  const res = await appA.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'admin', password: PASSWORD } });
  assert.equal(res.statusCode, 200, res.body);
  return res.json();
}
const me = (app: typeof appA, token: string) => app.inject({ url: '/api/v1/me', headers: { authorization: `Bearer ${token}` } });

test('logout ends the session’s access tokens at once, on the other API process too', async () => {
  const session = await login();
  const other = await login();
  assert.equal((await me(appB, session.accessToken)).statusCode, 200);
  const out = await appA.inject({ method: 'POST', url: '/api/v1/auth/logout', payload: { refreshToken: session.refreshToken } });
  assert.equal(out.statusCode, 204);
  assert.equal((await me(appA, session.accessToken)).statusCode, 401, 'the process that logged out');
  // The other process hears of it by NOTIFY (or asks the database until its list is current).
  await eventually(async () => (await me(appB, session.accessToken)).statusCode === 401);
  assert.equal((await me(appB, other.accessToken)).statusCode, 200, 'another login of the same user is unaffected');
});

test('a reused refresh token revokes the access tokens of its session', async () => {
  const session = await login();
  const rotated = (await appA.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: session.refreshToken } })).json<{ accessToken: string }>();
  await db.pool.query(`UPDATE jobplane.refresh_tokens SET used_at = used_at - interval '1 minute' WHERE used_at IS NOT NULL`);
  const replay = await appB.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: session.refreshToken } });
  assert.equal(replay.json<{ code: string }>().code, 'REFRESH_TOKEN_REUSED');
  for (const token of [session.accessToken, rotated.accessToken]) {
    assert.equal((await me(appB, token)).statusCode, 401);
    await eventually(async () => (await me(appA, token)).statusCode === 401);
  }
});

test('a current revocation list answers from memory, without reading the database', async () => {
  await eventually(() => Promise.resolve(revocationsB.complete));
  const session = await login();
  await appA.inject({ method: 'POST', url: '/api/v1/auth/logout', payload: { refreshToken: session.refreshToken } });
  const sid = JSON.parse(Buffer.from(session.accessToken.split('.')[1]!, 'base64url').toString()) as { sid: string };
  await eventually(() => revocationsB.isRevoked(sid.sid));
  // With the table out of reach, a query would throw: these answers come from memory.
  await db.pool.query('ALTER TABLE jobplane.revoked_sessions RENAME TO revoked_sessions_away');
  try {
    assert.equal(await revocationsB.isRevoked(sid.sid), true);
    assert.equal(await revocationsB.isRevoked('00000000-0000-7000-8000-000000000001'), false);
  } finally {
    await db.pool.query('ALTER TABLE jobplane.revoked_sessions_away RENAME TO revoked_sessions');
  }
});

test('while its LISTEN connection is down the list asks the database, so a revocation is never missed', async () => {
  const offline = new RevokedSessions({ pool: db.pool });
  const session = await login();
  await appA.inject({ method: 'POST', url: '/api/v1/auth/logout', payload: { refreshToken: session.refreshToken } });
  const { sid } = JSON.parse(Buffer.from(session.accessToken.split('.')[1]!, 'base64url').toString()) as { sid: string };
  assert.equal(offline.complete, false);
  assert.equal(await offline.isRevoked(sid), true);
});
