import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { SignJWT, UnsecuredJWT } from 'jose';
import { isAppError } from '../../src/errors/app-error.js';
import { needsRehash, parsePhc, PASSWORD_PARAMS } from '../../src/engine/auth/passwords.js';
import {
  hashApiKey,
  isWellFormedApiKey,
  looksLikeJwt,
  newApiKey,
  newRefreshToken,
  signAccessToken,
  verifyAccessToken,
  type AccessClaims,
} from '../../src/engine/auth/tokens.js';

const secret = randomBytes(32);
const claims: AccessClaims = { sub: '0190a0b0-0000-7000-8000-000000000001', tid: '00000000-0000-7000-8000-000000000001', role: 'manager', sa: false, tv: 3 };

async function rejectsAsInvalid(token: string): Promise<void> {
  await assert.rejects(verifyAccessToken(secret, token), (error) => isAppError(error, 'TOKEN_INVALID'));
}

function sign(payload: Record<string, unknown>, header: { alg: string; typ?: string } = { alg: 'HS256', typ: 'at+jwt' }) {
  return new SignJWT(payload).setProtectedHeader(header);
}

test('a signed access token verifies and round-trips its claims', async () => {
  const token = await signAccessToken(secret, claims, 900, Date.now());
  assert.deepEqual(await verifyAccessToken(secret, token), claims);
  const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>;
  assert.deepEqual(header, { alg: 'HS256', typ: 'at+jwt' });
});

test('an unsigned alg:none token is rejected', async () => {
  const token = new UnsecuredJWT({ ...claims }).setIssuer('jobplane').setAudience('jobplane-api').setSubject(claims.sub).setExpirationTime('1h').encode();
  await rejectsAsInvalid(token);
});

test('a token whose payload was tampered with is rejected', async () => {
  const [h, p, s] = (await signAccessToken(secret, claims, 900, Date.now())).split('.') as [string, string, string];
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  const forged = Buffer.from(JSON.stringify({ ...payload, role: 'admin', sa: true })).toString('base64url');
  await rejectsAsInvalid(`${h}.${forged}.${s}`);
});

test('a token signed with another secret is rejected', async () => {
  await rejectsAsInvalid(await signAccessToken(randomBytes(32), claims, 900, Date.now()));
});

test('an expired token is rejected beyond the 30 s leeway but accepted within it', async () => {
  const now = Math.floor(Date.now() / 1000);
  const base = () => sign({ tid: claims.tid, role: claims.role, sa: false, tv: 3 }).setIssuer('jobplane').setAudience('jobplane-api').setSubject(claims.sub).setIssuedAt(now - 600);
  await rejectsAsInvalid(await base().setExpirationTime(now - 120).sign(secret));
  assert.equal((await verifyAccessToken(secret, await base().setExpirationTime(now - 5).sign(secret))).sub, claims.sub);
});

test('a token not yet valid (nbf in the future) is rejected', async () => {
  const now = Math.floor(Date.now() / 1000);
  const token = await sign({ tid: claims.tid, role: 'viewer', sa: false, tv: 0 }).setIssuer('jobplane').setAudience('jobplane-api').setSubject(claims.sub).setIssuedAt(now).setNotBefore(now + 300).setExpirationTime(now + 900).sign(secret);
  await rejectsAsInvalid(token);
});

test('wrong audience, wrong issuer, missing typ and wrong typ are each rejected', async () => {
  const body = () => sign({ tid: claims.tid, role: 'viewer', sa: false, tv: 0 }).setSubject(claims.sub).setIssuedAt().setExpirationTime('10m');
  await rejectsAsInvalid(await body().setIssuer('jobplane').setAudience('someone-else').sign(secret));
  await rejectsAsInvalid(await body().setIssuer('evil').setAudience('jobplane-api').sign(secret));
  const noTyp = sign({ tid: claims.tid, role: 'viewer', sa: false, tv: 0 }, { alg: 'HS256' });
  await rejectsAsInvalid(await noTyp.setSubject(claims.sub).setIssuer('jobplane').setAudience('jobplane-api').setIssuedAt().setExpirationTime('10m').sign(secret));
  const refreshTyp = sign({ tid: claims.tid, role: 'viewer', sa: false, tv: 0 }, { alg: 'HS256', typ: 'rt+jwt' });
  await rejectsAsInvalid(await refreshTyp.setSubject(claims.sub).setIssuer('jobplane').setAudience('jobplane-api').setIssuedAt().setExpirationTime('10m').sign(secret));
});

test('a token with an HS512 signature is rejected because the algorithm is pinned', async () => {
  const token = await sign({ tid: claims.tid, role: 'viewer', sa: false, tv: 0 }, { alg: 'HS512', typ: 'at+jwt' }).setSubject(claims.sub).setIssuer('jobplane').setAudience('jobplane-api').setIssuedAt().setExpirationTime('10m').sign(randomBytes(64));
  await rejectsAsInvalid(token);
});

test('a token with claims of the wrong type is rejected', async () => {
  const token = await sign({ tid: claims.tid, role: 'root', sa: 'yes', tv: '1' }).setSubject(claims.sub).setIssuer('jobplane').setAudience('jobplane-api').setIssuedAt().setExpirationTime('10m').sign(secret);
  await rejectsAsInvalid(token);
});

test('garbage and oversized input is rejected without a crash', async () => {
  for (const junk of ['', 'a.b.c', '...', 'x'.repeat(16 * 1024), `${'e'.repeat(8000)}.${'e'.repeat(8000)}.sig`, 'eyJhbGciOiJub25lIn0.e30.']) {
    await rejectsAsInvalid(junk);
  }
});

test('API keys have the documented format, a visible prefix and differ every time', () => {
  const a = newApiKey();
  const b = newApiKey();
  assert.match(a.key, /^jp_live_[A-Za-z0-9]{8}_[A-Za-z0-9]{32}$/);
  assert.ok(a.key.startsWith(`${a.prefix}_`));
  assert.equal(a.prefix.length, 'jp_live_'.length + 8);
  assert.equal(a.last4, a.key.slice(-4));
  assert.notEqual(a.key, b.key);
  assert.ok(isWellFormedApiKey(a.key));
  assert.ok(!isWellFormedApiKey(`${a.key}x`));
  assert.ok(!looksLikeJwt(a.key));
});

test('the API key hash depends on the pepper and is 32 bytes', () => {
  const { key } = newApiKey();
  const h1 = hashApiKey(randomBytes(32), key);
  const h2 = hashApiKey(randomBytes(32), key);
  assert.equal(h1.length, 32);
  assert.notDeepEqual(h1, h2);
});

test('refresh tokens are opaque, prefixed and carry 32 random bytes', () => {
  const token = newRefreshToken();
  assert.match(token, /^jprt_[A-Za-z0-9_-]{43}$/);
  assert.ok(!looksLikeJwt(token));
});

test('PHC strings with other argon2 parameters are flagged for rehash', () => {
  const current = `$argon2id$v=19$m=${PASSWORD_PARAMS.memoryCost},t=2,p=1$c2FsdHNhbHQ$aGFzaA`;
  assert.deepEqual(parsePhc(current), { memoryCost: 19456, timeCost: 2, parallelism: 1 });
  assert.equal(needsRehash(current), false);
  assert.equal(needsRehash('$argon2id$v=19$m=4096,t=3,p=1$c2FsdA$aGFzaA'), true);
  assert.equal(needsRehash('$argon2i$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA'), true);
  assert.equal(needsRehash('$2b$10$abcdefghijklmnopqrstuv'), true);
});
