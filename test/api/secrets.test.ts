/**
 * /api/v1/secrets through app.inject against a real database: roles and key scopes, tenant
 * isolation, audit entries without values, bad input as 400 problem JSON, and the submit-time
 * reference check.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { DEFAULT_TENANT_ID } from '../../src/core/tenants.js';
import type { Queryable } from '../../src/db/pool.js';
import { assertSecretRefsExist } from '../../src/engine/secrets/index.js';
import { isAppError } from '../../src/errors/index.js';
import { as, testApp, TOKENS } from '../helpers/api.js';
import { testDatabase } from '../helpers/db.js';

const db = await testDatabase();
const app = await testApp(db);
const OTHER_TENANT = TOKENS.other!.tenantId;
/** A value that must never come back: every answer of this file is checked for it. */
const CANARY = 'canary-7f3a9c1e-do-not-leak';
const answers: string[] = [];

type Method = 'GET' | 'PUT' | 'DELETE' | 'POST';
async function call(method: Method, url: string, headers: Record<string, string>, payload?: unknown): Promise<LightMyRequestResponse> {
  const res = await app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
  answers.push(`${JSON.stringify(res.headers)}\n${res.body}`);
  return res;
}

interface SecretView {
  name: string;
  description: string | null;
  keyId: string;
  set: true;
  createdBy: string | null;
  updatedBy: string | null;
  createdAt: string;
  updatedAt: string;
}

test('a viewer may not see secrets, a manager lists them read-only, an admin sets and deletes them', async () => {
  assert.equal((await call('GET', '/api/v1/secrets', as('viewer'))).statusCode, 403);
  const created = await call('PUT', '/api/v1/secrets/stripe-key', as('admin'), { value: CANARY, description: 'Stripe live key' });
  assert.equal(created.statusCode, 201, created.body);
  const view = created.json<SecretView>();
  assert.equal(view.name, 'stripe-key');
  assert.equal(view.description, 'Stripe live key');
  assert.equal(view.set, true);
  assert.equal(view.createdBy, `user:${TOKENS.admin!.id}`);
  assert.deepEqual(Object.keys(view).sort(), ['createdAt', 'createdBy', 'description', 'keyId', 'name', 'set', 'updatedAt', 'updatedBy']);

  const listed = await call('GET', '/api/v1/secrets', as('manager'));
  assert.equal(listed.statusCode, 200);
  assert.deepEqual(listed.json<{ secrets: SecretView[] }>().secrets.map((s) => s.name), ['stripe-key']);
  assert.equal((await call('PUT', '/api/v1/secrets/stripe-key', as('manager'), { value: 'manager-value' })).statusCode, 403);
  assert.equal((await call('DELETE', '/api/v1/secrets/stripe-key', as('manager'))).statusCode, 403);
  assert.equal((await call('PUT', '/api/v1/secrets/x1', as('viewer'), { value: 'viewer-value' })).statusCode, 403);

  const replaced = await call('PUT', '/api/v1/secrets/stripe-key', as('superadmin'), { value: `${CANARY}-v2` });
  assert.equal(replaced.statusCode, 200, replaced.body);
  const after = replaced.json<SecretView>();
  assert.equal(after.description, 'Stripe live key', 'an omitted description is kept');
  assert.equal(after.createdBy, `user:${TOKENS.admin!.id}`);
  assert.equal(after.updatedBy, `user:${TOKENS.superadmin!.id}`);
  const cleared = await call('PUT', '/api/v1/secrets/stripe-key', as('admin'), { value: `${CANARY}-v3`, description: '' });
  assert.equal(cleared.json<SecretView>().description, null);

  assert.equal((await call('DELETE', '/api/v1/secrets/stripe-key', as('admin'))).statusCode, 204);
  assert.deepEqual((await call('GET', '/api/v1/secrets', as('admin'))).json<{ secrets: unknown[] }>().secrets, []);
  const again = await call('DELETE', '/api/v1/secrets/stripe-key', as('admin'));
  assert.equal(again.statusCode, 404);
  assert.equal(again.json<{ code: string }>().code, 'SECRET_NOT_FOUND');
});

test('an API key with the admin scope manages secrets; a jobs:read key may not even list them', async () => {
  const adminKey = (await call('POST', '/api/v1/keys', as('admin'), { name: 'secrets-admin', scopes: ['admin'] })).json<{ key: string; id: string }>();
  const readKey = (await call('POST', '/api/v1/keys', as('admin'), { name: 'reader', scopes: ['jobs:read'] })).json<{ key: string }>();
  const set = await call('PUT', '/api/v1/secrets/from-key', { 'x-api-key': adminKey.key }, { value: CANARY });
  assert.equal(set.statusCode, 201, set.body);
  assert.equal(set.json<SecretView>().createdBy, `key:${adminKey.id}`);
  assert.equal((await call('GET', '/api/v1/secrets', { authorization: `Bearer ${adminKey.key}` })).statusCode, 200);
  assert.equal((await call('GET', '/api/v1/secrets', { 'x-api-key': readKey.key })).statusCode, 403);
  assert.equal((await call('DELETE', '/api/v1/secrets/from-key', { 'x-api-key': adminKey.key })).statusCode, 204);
});

test("another tenant sees none of this tenant's secrets, cannot delete them, and its own of the same name is separate", async () => {
  assert.equal((await call('PUT', '/api/v1/secrets/shared-name', as('admin'), { value: CANARY, description: 'ours' })).statusCode, 201);
  assert.deepEqual((await call('GET', '/api/v1/secrets', as('other'))).json<{ secrets: unknown[] }>().secrets, []);
  const stolen = await call('DELETE', '/api/v1/secrets/shared-name', as('other'));
  assert.equal(stolen.statusCode, 404);
  assert.equal(stolen.json<{ code: string }>().code, 'SECRET_NOT_FOUND');
  const theirs = await call('PUT', '/api/v1/secrets/shared-name', as('other'), { value: 'theirs-value', description: 'theirs' });
  assert.equal(theirs.statusCode, 201, 'a name taken in another tenant is free in this one');
  const ours = (await call('GET', '/api/v1/secrets', as('admin'))).json<{ secrets: SecretView[] }>().secrets;
  assert.deepEqual(ours.map((s) => [s.name, s.description]), [['shared-name', 'ours']]);
});

test('bad names, values and bodies are 400 problem JSON (never 5xx), and echo no value', async () => {
  const names = ['bad%20name', '-leading', '.dot', 'a'.repeat(129), '%00', 'x%2Fy', encodeURIComponent('ä')];
  for (const name of names) {
    const res = await call('PUT', `/api/v1/secrets/${name}`, as('admin'), { value: CANARY });
    assert.equal(res.statusCode, 400, `${name}: ${res.body}`);
    assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(res.json<{ code: string }>().code, 'VALIDATION_FAILED');
    assert.equal((await call('DELETE', `/api/v1/secrets/${name}`, as('admin'))).statusCode, 400, name);
  }
  assert.equal((await call('PUT', `/api/v1/secrets/${'a'.repeat(128)}`, as('admin'), { value: CANARY })).statusCode, 201, 'a 128-character name is fine');
  const bodies: Array<[string, unknown, string]> = [
    ['empty value', { value: '' }, '/value'],
    ['number', { value: 12345678 }, '/value'],
    ['missing value', { description: 'no value' }, '/value'],
    ['unknown field', { value: CANARY, scope: 'all' }, '/scope'],
    ['too many bytes', { value: 'é'.repeat(40_000) }, '/value'],
    ['too many characters', { value: 'x'.repeat(65_537) }, '/value'],
    ['lone surrogate', { value: `${CANARY}\ud800` }, '/value'],
    ['long description', { value: CANARY, description: 'd'.repeat(501) }, '/description'],
    ['array body', [CANARY], '/'],
  ];
  for (const [label, body, pointer] of bodies) {
    const res = await call('PUT', '/api/v1/secrets/valid-name', as('admin'), body);
    assert.equal(res.statusCode, 400, `${label}: ${res.body}`);
    const problem = res.json<{ code: string; errors?: Array<{ pointer: string }> }>();
    assert.equal(problem.code, 'VALIDATION_FAILED', label);
    if (pointer !== '/') assert.ok(problem.errors?.some((e) => e.pointer === pointer), `${label}: ${res.body}`);
  }
  const raw = await app.inject({ method: 'PUT', url: '/api/v1/secrets/valid-name', headers: { ...as('admin'), 'content-type': 'application/json' }, payload: `{"value": "${CANARY}", oops` });
  answers.push(raw.body);
  assert.equal(raw.statusCode, 400);
  const text = await app.inject({ method: 'PUT', url: '/api/v1/secrets/valid-name', headers: { ...as('admin'), 'content-type': 'text/plain' }, payload: CANARY });
  answers.push(text.body);
  assert.equal(text.statusCode, 415);
  assert.equal((await call('GET', '/api/v1/secrets', as('admin'))).json<{ secrets: SecretView[] }>().secrets.some((s) => s.name === 'valid-name'), false);
});

test('every change is audited with metadata only: the value is in no audit row and in no answer', async () => {
  await call('PUT', '/api/v1/secrets/audited', as('admin'), { value: CANARY, description: 'first' });
  await call('PUT', '/api/v1/secrets/audited', as('admin'), { value: `${CANARY}-2` });
  await call('DELETE', '/api/v1/secrets/audited', as('admin'));
  const { rows } = await db.pool.query<{ action: string; target_type: string; target_id: string; before: SecretView | null; after: SecretView | null; row: string }>(
    `SELECT action, target_type, target_id, before, after, to_jsonb(a)::text AS row FROM jobplane.audit_log a WHERE target_id = 'audited' ORDER BY seq`,
  );
  assert.deepEqual(rows.map((r) => [r.action, r.target_type]), [['secret.set', 'secret'], ['secret.set', 'secret'], ['secret.delete', 'secret']]);
  assert.equal(rows[0]!.before, null);
  assert.equal(rows[0]!.after?.description, 'first');
  assert.equal(rows[1]!.before?.description, 'first');
  assert.equal(rows[2]!.before?.name, 'audited');
  const everyAudit = await db.pool.query<{ dump: string }>(`SELECT string_agg(to_jsonb(a)::text, E'\\n') AS dump FROM jobplane.audit_log a`);
  assert.ok(everyAudit.rows[0]!.dump.includes('secret.set'));
  assert.ok(!everyAudit.rows[0]!.dump.includes(CANARY), 'no audit row holds a value');
  assert.ok(answers.length > 30);
  for (const answer of answers) assert.ok(!answer.includes(CANARY), `an answer leaked the value: ${answer.slice(0, 200)}`);
});

test('assertSecretRefsExist names each unknown reference with its full pointer, in one query', async () => {
  await call('PUT', '/api/v1/secrets/known', as('admin'), { value: CANARY });
  let queries = 0;
  const counting: Queryable = { query: (text: never, values?: unknown[]) => ((queries += 1), db.pool.query(text, values)) } as unknown as Queryable;
  const items = [
    { pointer: '/payload', payload: { headers: { authorization: { $secret: 'missing' }, 'x-ok': { $secret: 'known' } } } },
    { pointer: '/jobs/1/payload', payload: [{ $secret: 'also-missing' }, { $secret: 'missing' }] },
  ];
  await assert.rejects(assertSecretRefsExist(counting, DEFAULT_TENANT_ID, items), (error: unknown) => {
    assert.ok(isAppError(error, 'SECRET_REFERENCE_UNKNOWN'));
    assert.equal(error.status, 422);
    assert.deepEqual(error.errors.map((e) => e.pointer), ['/payload/headers/authorization', '/jobs/1/payload/0', '/jobs/1/payload/1']);
    assert.match(error.message, /"missing"/);
    return true;
  });
  assert.equal(queries, 1);
  await assertSecretRefsExist(counting, DEFAULT_TENANT_ID, [{ pointer: '/payload', payload: { a: { $secret: 'known' } } }]);
  queries = 0;
  await assertSecretRefsExist(counting, DEFAULT_TENANT_ID, [{ pointer: '/payload', payload: { plain: 'payload', n: [1, 2] } }]);
  assert.equal(queries, 0, 'no query without references');
  await assert.rejects(assertSecretRefsExist(db.pool, OTHER_TENANT, [{ pointer: '/payload', payload: { $secret: 'known' } }]), (error: unknown) => isAppError(error, 'SECRET_REFERENCE_UNKNOWN'), "another tenant's secret does not count");
  await assert.rejects(
    assertSecretRefsExist(db.pool, DEFAULT_TENANT_ID, [{ pointer: '/payload', payload: { a: { $secret: 'known', b: 1 }, c: { $secret: 3 } } }]),
    (error: unknown) => isAppError(error, 'VALIDATION_FAILED') && error.errors.map((e) => e.pointer).join() === '/payload/a,/payload/c/$secret',
  );
});
