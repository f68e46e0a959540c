import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { SignJWT } from 'jose';
import type { Principal } from '../../src/core/access.js';
import { DEFAULT_TENANT_ID } from '../../src/core/tenants.js';
import { uuidv7 } from '../../src/db/ids.js';
import { createIdentity, hashingStats, RateLimitedError } from '../../src/engine/auth/index.js';
import { isAppError } from '../../src/errors/app-error.js';
import { testDatabase } from '../helpers/db.js';

const db = await testDatabase();
const jwtSecret = randomBytes(32).toString('hex');
const id = createIdentity({ pool: db.pool, jwtSecret });
const PASSWORD = 'correct horse battery staple';
/** Account changes are made as an installation superadmin (the rules for lesser actors are in user-privileges.test.ts). */
const AS_ROOT = { actor: { kind: 'user', id: uuidv7(), tenantId: DEFAULT_TENANT_ID, username: 'root', role: 'admin', superadmin: true } satisfies Principal };

let counter = 0;
/** A fresh user (and a fresh client IP) per test, so throttle counters never leak between tests. */
async function freshUser(role: 'viewer' | 'manager' | 'admin' = 'manager', tenantId = DEFAULT_TENANT_ID) {
  counter += 1;
  const user = await id.createUser(tenantId, { username: `User.${counter}-${randomBytes(3).toString('hex')}`, password: PASSWORD, role });
  return { user, ip: `10.0.${counter}.1` };
}

async function newTenant(): Promise<string> {
  const tenantId = uuidv7();
  await db.pool.query(`INSERT INTO jobplane.tenants (id, slug, name) VALUES ($1, $2, 'Other')`, [tenantId, `t-${randomBytes(4).toString('hex')}`]);
  return tenantId;
}

function code(expected: string) {
  return (error: unknown) => {
    assert.ok(isAppError(error), `expected an AppError, got ${String(error)}`);
    assert.equal(error.code, expected);
    return true;
  };
}

test('a user logs in with the right password and the access token authenticates as that user', async () => {
  const { user, ip } = await freshUser('manager');
  assert.equal(user.username, user.username.toLowerCase());
  assert.ok(!('passwordHash' in user) && !('tokenVersion' in user));
  const session = await id.login(user.username.toUpperCase(), PASSWORD, { ip });
  assert.equal(session.expiresIn, 900);
  assert.equal(session.user.id, user.id);
  assert.ok(session.user.lastLoginAt === null || session.user.lastLoginAt instanceof Date);
  const principal = await id.authenticate(session.accessToken);
  assert.deepEqual(principal, { kind: 'user', id: user.id, tenantId: DEFAULT_TENANT_ID, username: user.username, role: 'manager', superadmin: false } satisfies Principal);
  const { rows } = await db.pool.query<{ h: string }>(`SELECT password_hash AS h FROM jobplane.users WHERE id = $1`, [user.id]);
  assert.match(rows[0]!.h, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
});

test('a wrong password and an unknown user get the same answer and both run an argon2 verify', async () => {
  const { user, ip } = await freshUser();
  const before = hashingStats().verifies;
  const wrong = await id.login(user.username, 'not the password at all', { ip }).catch((e: unknown) => e);
  const afterWrong = hashingStats().verifies;
  const unknown = await id.login('nobody-here', 'not the password at all', { ip: `${ip}0` }).catch((e: unknown) => e);
  const afterUnknown = hashingStats().verifies;
  assert.ok(isAppError(wrong, 'INVALID_CREDENTIALS') && isAppError(unknown, 'INVALID_CREDENTIALS'));
  assert.equal(wrong.message, unknown.message);
  assert.equal(afterWrong - before, 1);
  assert.equal(afterUnknown - afterWrong, 1);
});

test('a disabled user cannot log in and gets the same answer as a wrong password', async () => {
  const { user, ip } = await freshUser();
  await id.updateUser(DEFAULT_TENANT_ID, user.id, { disabled: true }, AS_ROOT);
  await assert.rejects(id.login(user.username, PASSWORD, { ip }), code('INVALID_CREDENTIALS'));
});

test('logins are throttled after five failures at one address with a growing lock, and a success resets the counter', async () => {
  const { user, ip } = await freshUser();
  for (let i = 0; i < 5; i += 1) await assert.rejects(id.login(user.username, 'wrong password!!', { ip }), code('INVALID_CREDENTIALS'));
  // Locked now from this address, even for the right password…
  const locked = await id.login(user.username, PASSWORD, { ip }).catch((e: unknown) => e);
  assert.ok(locked instanceof RateLimitedError && locked.code === 'RATE_LIMITED');
  assert.ok(locked.retryAfterS >= 1 && locked.retryAfterS <= 2);
  // …but not from everywhere: one address cannot lock the owner out of their account.
  await id.login(user.username, PASSWORD, { ip: '192.0.2.77' });
  // That success does not unlock the guessing address. Let its lock run out without sleeping;
  // the next failure there locks for 2 s.
  await db.pool.query(`UPDATE jobplane.login_attempts SET locked_until = now() - interval '1 second' WHERE key LIKE $1`, [`%${user.username}`]);
  await assert.rejects(id.login(user.username, 'wrong password!!', { ip }), code('INVALID_CREDENTIALS'));
  const longer = await id.login(user.username, PASSWORD, { ip }).catch((e: unknown) => e);
  assert.ok(longer instanceof RateLimitedError);
  assert.ok(longer.retryAfterS >= 2 && longer.retryAfterS <= 3);
  await db.pool.query(`UPDATE jobplane.login_attempts SET locked_until = now() - interval '1 second'`);
  await id.login(user.username, PASSWORD, { ip });
  const { rows } = await db.pool.query(`SELECT * FROM jobplane.login_attempts WHERE key IN ($1, $2)`, [`ua:${ip}|${user.username}`, `user:${user.username}`]);
  assert.equal(rows.length, 0, "a success clears the account's own counters");
  for (let i = 0; i < 4; i += 1) await assert.rejects(id.login(user.username, 'wrong password!!', { ip }), code('INVALID_CREDENTIALS'));
  await id.login(user.username, PASSWORD, { ip });
});

test('100 guesses sent at the same instant to two API processes cost only the throttle’s allowance in password verifies', async () => {
  const { user, ip } = await freshUser();
  // A second identity service on the same database stands for a second API process.
  const other = createIdentity({ pool: db.pool, jwtSecret });
  const before = hashingStats().verifies;
  const started = performance.now();
  const guesses = Array.from({ length: 100 }, (_, i) => (i === 60 ? PASSWORD : `wrong guess number ${i}`));
  const answers = await Promise.all(guesses.map((password, i) => (i % 2 === 0 ? id : other).login(user.username, password, { ip }).then(() => 'ok', (e: unknown) => (isAppError(e) ? e.code : String(e)))));
  const elapsedS = (performance.now() - started) / 1000;
  const verifies = hashingStats().verifies - before;
  const tally = answers.reduce<Record<string, number>>((t, a) => ({ ...t, [a]: (t[a] ?? 0) + 1 }), {});
  // Five attempts, then one more each time a lock (1 s, 2 s, 4 s …) runs out while the burst lasts:
  // on a quick machine that is exactly five.
  const allowance = 5 + Math.floor(Math.log2(elapsedS + 1));
  assert.ok(verifies <= allowance, `argon2 verified ${verifies} guesses in ${elapsedS.toFixed(1)} s (allowance ${allowance})`);
  assert.equal((tally.ok ?? 0) + (tally.INVALID_CREDENTIALS ?? 0), verifies, 'only admitted attempts were checked; the right password too, unless it was admitted');
  assert.equal(tally.RATE_LIMITED, 100 - verifies, JSON.stringify(tally));
});

test("guessing other accounts' passwords between logins to one's own still meets the address limit", async () => {
  const mine = await freshUser();
  const victims = await Promise.all([freshUser(), freshUser(), freshUser(), freshUser()]);
  const ip = '203.0.113.9';
  let refusedInRound: number | null = null;
  for (let round = 0; round < 20 && refusedInRound === null; round += 1) {
    for (const victim of victims) {
      const answer = await id.login(victim.user.username, `guess ${round}`, { ip }).catch((e: unknown) => e);
      if (answer instanceof RateLimitedError) refusedInRound = round;
    }
    // The attacker's own, successful login must not wipe the address's count.
    const own = await id.login(mine.user.username, PASSWORD, { ip }).catch((e: unknown) => e);
    if (own instanceof RateLimitedError) refusedInRound ??= round;
  }
  assert.ok(refusedInRound !== null && refusedInRound <= 8, `refused in round ${refusedInRound}`);
});

test('failed and throttled logins land in the bounded failed-login trail, not in the audit chain', async () => {
  const { user, ip } = await freshUser();
  for (let i = 0; i < 7; i += 1) await id.login(user.username, 'wrong password!!', { ip }).catch(() => undefined);
  await id.login('nobody-at-all', 'wrong password!!', { ip }).catch(() => undefined);
  await id.flush();
  const { rows } = await db.pool.query<{ reason: string; attempts: number; user_id: string | null; username: string }>(
    `SELECT reason, attempts, user_id, username FROM jobplane.login_failures WHERE client_ip = $1 ORDER BY username, reason`,
    [ip],
  );
  const mine = rows.filter((r) => r.username === user.username);
  assert.deepEqual(mine.map((r) => [r.reason, r.attempts, r.user_id]), [['invalid-credentials', 5, user.id], ['throttled', 2, user.id]]);
  assert.ok(rows.some((r) => r.username === 'nobody-at-all' && r.user_id === null));
  const audit = await db.pool.query(`SELECT 1 FROM jobplane.audit_log WHERE actor = 'anonymous'`);
  assert.equal(audit.rowCount, 0);
});

test('forged, expired, mis-addressed and malformed credentials are rejected, never crash', async () => {
  const { user, ip } = await freshUser();
  const session = await id.login(user.username, PASSWORD, { ip });
  const [h, p, s] = session.accessToken.split('.') as [string, string, string];
  const none = `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${p}.`;
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  const tampered = `${h}.${Buffer.from(JSON.stringify({ ...payload, role: 'admin', sa: true })).toString('base64url')}.${s}`;
  const key = new TextEncoder().encode(jwtSecret);
  const now = Math.floor(Date.now() / 1000);
  const claims = { tid: DEFAULT_TENANT_ID, role: 'manager', sa: false, tv: 0 };
  const expired = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).setIssuer('jobplane').setAudience('jobplane-api').setSubject(user.id).setIssuedAt(now - 3600).setExpirationTime(now - 600).sign(key);
  const wrongAud = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).setIssuer('jobplane').setAudience('other').setSubject(user.id).setIssuedAt().setExpirationTime('5m').sign(key);
  const sqlSub = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: "../../dev/null' OR 1=1" }).setIssuer('jobplane').setAudience('jobplane-api').setSubject("x' OR '1'='1").setIssuedAt().setExpirationTime('5m').sign(key);
  for (const token of [none, tampered, expired, wrongAud, sqlSub, session.refreshToken, 'a.b.c']) {
    await assert.rejects(id.authenticate(token), code('TOKEN_INVALID'), token.slice(0, 40));
  }
  for (const junk of ['', 'Basic abc', 'x'.repeat(16 * 1024), 'not-a-token']) {
    await assert.rejects(id.authenticate(junk), (e: unknown) => isAppError(e, 'UNAUTHENTICATED') || isAppError(e, 'TOKEN_INVALID'));
  }
  // A well-signed token with a valid shape but made up claims is TOKEN_INVALID too.
  const ghost = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).setIssuer('jobplane').setAudience('jobplane-api').setSubject(uuidv7()).setIssuedAt().setExpirationTime('5m').sign(key);
  await assert.rejects(id.authenticate(ghost), code('TOKEN_INVALID'));
});

test('a refresh rotates the token, and replaying a used one revokes the whole family', async () => {
  const { user, ip } = await freshUser();
  const first = await id.login(user.username, PASSWORD, { ip });
  const second = await id.refresh(first.refreshToken);
  assert.notEqual(second.refreshToken, first.refreshToken);
  assert.equal((await id.authenticate(second.accessToken)).id, user.id);
  // Past the reuse grace (moved back in time rather than waited for), a replay is theft.
  await db.pool.query(`UPDATE jobplane.refresh_tokens SET used_at = used_at - interval '1 minute' WHERE user_id = $1 AND used_at IS NOT NULL`, [user.id]);
  await assert.rejects(id.refresh(first.refreshToken), code('REFRESH_TOKEN_REUSED'));
  // The newer token belonged to the same family and is revoked too.
  await assert.rejects(id.refresh(second.refreshToken), code('TOKEN_INVALID'));
  // Another login (another family) is unaffected.
  const other = await id.login(user.username, PASSWORD, { ip });
  await id.refresh(other.refreshToken);
  await assert.rejects(id.refresh(`jprt_${randomBytes(32).toString('base64url')}`), code('TOKEN_INVALID'));
  await assert.rejects(id.refresh(first.accessToken), code('TOKEN_INVALID'));
});

test('parallel refreshes with the same token (two tabs) each get a session of the same family; none logs the others out', async () => {
  const { user, ip } = await freshUser();
  const session = await id.login(user.username, PASSWORD, { ip });
  const results = await Promise.all([id.refresh(session.refreshToken), id.refresh(session.refreshToken), id.refresh(session.refreshToken)]);
  assert.equal(new Set(results.map((r) => r.refreshToken)).size, 3);
  // The token was consumed exactly once; the others are siblings issued within the grace.
  const { rows } = await db.pool.query<{ n: number; families: number; used: number }>(
    `SELECT count(*)::int AS n, count(DISTINCT family_id)::int AS families, count(used_at)::int AS used FROM jobplane.refresh_tokens WHERE user_id = $1`, [user.id]);
  assert.deepEqual(rows[0], { n: 4, families: 1, used: 1 });
  for (const r of results) assert.equal((await id.authenticate(r.accessToken)).id, user.id);
  for (const r of results) await id.refresh(r.refreshToken);
});

test('logout revokes the session so its refresh token stops working', async () => {
  const { user, ip } = await freshUser();
  const session = await id.login(user.username, PASSWORD, { ip });
  await id.logout(session.refreshToken);
  await assert.rejects(id.refresh(session.refreshToken), code('TOKEN_INVALID'));
  await id.logout('garbage');
});

test('a password change ends existing sessions: old access and refresh tokens fail', async () => {
  const { user, ip } = await freshUser();
  const session = await id.login(user.username, PASSWORD, { ip });
  await id.updateUser(DEFAULT_TENANT_ID, user.id, { password: 'a brand new long password' }, AS_ROOT);
  await assert.rejects(id.authenticate(session.accessToken), code('TOKEN_INVALID'));
  await assert.rejects(id.refresh(session.refreshToken), code('TOKEN_INVALID'));
  await assert.rejects(id.login(user.username, PASSWORD, { ip }), code('INVALID_CREDENTIALS'));
  const fresh = await id.login(user.username, 'a brand new long password', { ip });
  assert.equal((await id.authenticate(fresh.accessToken)).id, user.id);
});

test('a role change applies to existing access tokens at once', async () => {
  const { user, ip } = await freshUser('viewer');
  const session = await id.login(user.username, PASSWORD, { ip });
  await id.updateUser(DEFAULT_TENANT_ID, user.id, { role: 'admin' }, AS_ROOT);
  const principal = await id.authenticate(session.accessToken);
  assert.ok(principal.kind === 'user' && principal.role === 'admin');
});

test('user input is validated and usernames are unique regardless of case', async () => {
  await assert.rejects(id.createUser(DEFAULT_TENANT_ID, { username: 'ab', password: PASSWORD, role: 'viewer' }), code('VALIDATION_FAILED'));
  await assert.rejects(id.createUser(DEFAULT_TENANT_ID, { username: 'has space', password: PASSWORD, role: 'viewer' }), code('VALIDATION_FAILED'));
  await assert.rejects(id.createUser(DEFAULT_TENANT_ID, { username: 'shortpw', password: 'short', role: 'viewer' }), code('VALIDATION_FAILED'));
  await assert.rejects(id.createUser(DEFAULT_TENANT_ID, { username: 'longpw', password: 'x'.repeat(257), role: 'viewer' }), code('VALIDATION_FAILED'));
  await assert.rejects(id.createUser(DEFAULT_TENANT_ID, { username: 'badrole', password: PASSWORD, role: 'root' as 'admin' }), code('VALIDATION_FAILED'));
  await id.createUser(DEFAULT_TENANT_ID, { username: 'Grace.Hopper', password: PASSWORD, role: 'viewer' });
  await assert.rejects(id.createUser(DEFAULT_TENANT_ID, { username: 'GRACE.hopper', password: PASSWORD, role: 'viewer' }), code('USERNAME_TAKEN'));
});

test('users of one tenant are invisible to another', async () => {
  const other = await newTenant();
  const { user } = await freshUser('viewer', other);
  assert.equal((await id.getUser(other, user.id)).id, user.id);
  assert.ok((await id.listUsers(other)).some((u) => u.id === user.id));
  assert.ok(!(await id.listUsers(DEFAULT_TENANT_ID)).some((u) => u.id === user.id));
  await assert.rejects(id.getUser(DEFAULT_TENANT_ID, user.id), code('USER_NOT_FOUND'));
  await assert.rejects(id.updateUser(DEFAULT_TENANT_ID, user.id, { role: 'admin' }, AS_ROOT), code('USER_NOT_FOUND'));
  await assert.rejects(id.deleteUser(DEFAULT_TENANT_ID, user.id, AS_ROOT), code('USER_NOT_FOUND'));
  await assert.rejects(id.getUser(other, 'not-a-uuid'), code('USER_NOT_FOUND'));
  await id.deleteUser(other, user.id, AS_ROOT);
  await assert.rejects(id.getUser(other, user.id), code('USER_NOT_FOUND'));
});

test('an API key authenticates with its scopes until it is revoked, and revocation is immediate', async () => {
  const created = await id.createApiKey(DEFAULT_TENANT_ID, { name: 'producer', scopes: ['jobs:write', 'jobs:read', 'jobs:write'] }, 'user:test');
  assert.match(created.key, /^jp_live_[A-Za-z0-9]{8}_[A-Za-z0-9]{32}$/);
  assert.deepEqual(created.scopes, ['jobs:write', 'jobs:read']);
  assert.equal(created.last4, created.key.slice(-4));
  const principal = await id.authenticate(created.key);
  assert.deepEqual(principal, { kind: 'key', id: created.id, tenantId: DEFAULT_TENANT_ID, prefix: created.prefix, scopes: ['jobs:write', 'jobs:read'] } satisfies Principal);
  const listed = (await id.listApiKeys(DEFAULT_TENANT_ID)).find((k) => k.id === created.id)!;
  assert.ok(listed.lastUsedAt instanceof Date);
  assert.ok(!('key' in listed));
  await id.authenticate(created.key);
  const again = (await id.listApiKeys(DEFAULT_TENANT_ID)).find((k) => k.id === created.id)!;
  assert.equal(again.lastUsedAt!.getTime(), listed.lastUsedAt.getTime(), 'last_used_at is written at most once a minute');
  await id.revokeApiKey(DEFAULT_TENANT_ID, created.id);
  await assert.rejects(id.authenticate(created.key), code('TOKEN_INVALID'));
  await assert.rejects(id.authenticate(`${created.prefix}_${'A'.repeat(32)}`), code('TOKEN_INVALID'));
  await assert.rejects(id.createApiKey(DEFAULT_TENANT_ID, { name: 'x', scopes: ['root' as 'admin'] }, null), code('VALIDATION_FAILED'));
  await assert.rejects(id.createApiKey(DEFAULT_TENANT_ID, { name: 'x', scopes: [] }, null), code('VALIDATION_FAILED'));
  await assert.rejects(id.createApiKey(DEFAULT_TENANT_ID, { name: 'x', scopes: ['worker'], expiresAt: new Date(Date.now() - 1000) }, null), code('VALIDATION_FAILED'));
});

test('an expired API key is rejected', async () => {
  const created = await id.createApiKey(DEFAULT_TENANT_ID, { name: 'short-lived', scopes: ['worker'], expiresAt: new Date(Date.now() + 3_600_000) }, null);
  assert.equal((await id.authenticate(created.key)).kind, 'key');
  await db.pool.query(`UPDATE jobplane.api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [created.id]);
  await assert.rejects(id.authenticate(created.key), code('TOKEN_INVALID'));
});

test("a canary key's plaintext appears in no table", async () => {
  const canary = await id.createApiKey(DEFAULT_TENANT_ID, { name: 'canary', scopes: ['admin'] }, null);
  await id.authenticate(canary.key);
  const secretPart = canary.key.slice(canary.prefix.length + 1);
  const { rows: tables } = await db.pool.query<{ t: string }>(`SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables WHERE schemaname = 'jobplane'`);
  for (const { t } of tables) {
    const { rows } = await db.pool.query<{ j: string }>(`SELECT row_to_json(x)::text AS j FROM ${t} x`);
    for (const { j } of rows) {
      assert.ok(!j.includes(canary.key) && !j.includes(secretPart), `key material found in ${t}`);
    }
  }
});

test('API keys of one tenant cannot be listed or revoked from another', async () => {
  const other = await newTenant();
  const key = await id.createApiKey(other, { name: 'theirs', scopes: ['jobs:read'] }, null);
  assert.ok(!(await id.listApiKeys(DEFAULT_TENANT_ID)).some((k) => k.id === key.id));
  await assert.rejects(id.revokeApiKey(DEFAULT_TENANT_ID, key.id), code('API_KEY_NOT_FOUND'));
  assert.equal((await id.authenticate(key.key)).tenantId, other);
});

test('a second process with no configured secrets signs tokens the first one accepts', async () => {
  const a = createIdentity({ pool: db.pool });
  const b = createIdentity({ pool: db.pool });
  const { user, ip } = await freshUser();
  const session = await a.login(user.username, PASSWORD, { ip });
  assert.equal((await b.authenticate(session.accessToken)).id, user.id);
  await assert.rejects(id.authenticate(session.accessToken), code('TOKEN_INVALID'));
  const key = await a.createApiKey(DEFAULT_TENANT_ID, { name: 'shared-pepper', scopes: ['worker'] }, null);
  assert.equal((await b.authenticate(key.key)).id, key.id);
});

test('bootstrap creates exactly one admin even when called concurrently, and never again', async () => {
  await db.pool.query(`DELETE FROM jobplane.users`);
  const results = await Promise.all([id.bootstrap(), createIdentity({ pool: db.pool }).bootstrap(), id.bootstrap({ adminPassword: 'configured admin password' })]);
  const created = results.filter((r) => r.created);
  assert.equal(created.length, 1);
  const { rows } = await db.pool.query<{ username: string; superadmin: boolean; role: string; tenant_id: string }>(`SELECT username, superadmin, role, tenant_id FROM jobplane.users`);
  assert.deepEqual(rows, [{ username: 'admin', superadmin: true, role: 'admin', tenant_id: DEFAULT_TENANT_ID }]);
  const winner = created[0]!;
  assert.ok(winner.created);
  const password = winner.generatedPassword ?? 'configured admin password';
  const session = await id.login('admin', password, { ip: '198.51.100.9' });
  const principal = await id.authenticate(session.accessToken);
  assert.ok(principal.kind === 'user' && principal.superadmin);
  assert.deepEqual(await id.bootstrap(), { created: false });
});

test('a flood against one account from an address does not lock out the other users behind that address', async () => {
  const { user: target } = await freshUser();
  const { user: colleague } = await freshUser();
  const office = '198.51.100.200';
  await Promise.all(Array.from({ length: 100 }, (_, i) => id.login(target.username, `flood ${i}`, { ip: office }).catch(() => undefined)));
  const session = await id.login(colleague.username, PASSWORD, { ip: office });
  assert.equal(session.user.id, colleague.id);
});
