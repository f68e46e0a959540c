import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateBuiltinPayload } from '../../src/core/builtin-payloads.js';
import {
  findSecretRefs,
  hasSecretRefs,
  isSecretRef,
  REDACTED,
  redactSecretValues,
  redactSecretValuesDeep,
  resolveSecretRefs,
  SECRET_NAME_PATTERN,
  secretRedactor,
  validateSecretRefs,
} from '../../src/core/secret-refs.js';
import { isAppError } from '../../src/errors/index.js';

test('secret names are ASCII letters, digits, _ . - starting alphanumeric, at most 128 characters', () => {
  for (const good of ['a', 'STRIPE_KEY', 'db.password', 'x-1', '9lives', 'a'.repeat(128)]) assert.ok(SECRET_NAME_PATTERN.test(good), good);
  for (const bad of ['', '-a', '.a', '_a', 'a b', 'a/b', 'a:b', 'ä', 'a'.repeat(129), 'a\n']) assert.ok(!SECRET_NAME_PATTERN.test(bad), JSON.stringify(bad));
});

test('findSecretRefs lists every reference with an RFC 6901 pointer, in document order', () => {
  const payload = {
    url: 'https://example.com',
    headers: { authorization: { $secret: 'api-token' }, 'x/y~z': { $secret: 'odd.key' } },
    list: [{ $secret: 'first' }, 'plain', [{ $secret: 'nested' }]],
  };
  assert.deepEqual(findSecretRefs(payload), [
    { pointer: '/headers/authorization', name: 'api-token' },
    { pointer: '/headers/x~1y~0z', name: 'odd.key' },
    { pointer: '/list/0', name: 'first' },
    { pointer: '/list/2/0', name: 'nested' },
  ]);
  assert.deepEqual(findSecretRefs({ $secret: 'top' }), [{ pointer: '', name: 'top' }]);
  assert.deepEqual(findSecretRefs({ a: 1, b: 'x', c: null }), []);
  assert.deepEqual(findSecretRefs('a string'), []);
});

test('a reference is an object with exactly one key $secret naming a secret', () => {
  assert.ok(isSecretRef({ $secret: 'x' }));
  assert.ok(!isSecretRef({ $secret: 'x', other: 1 }));
  assert.ok(!isSecretRef({ $secret: 5 }));
  assert.ok(!isSecretRef({ $secret: 'bad name' }));
  assert.ok(!isSecretRef([{ $secret: 'x' }]));
  assert.ok(!isSecretRef({ secret: 'x' }));
});

test('validateSecretRefs points at malformed references: extra keys, a non-string or a bad name', () => {
  const errors = validateSecretRefs({
    a: { $secret: 'ok' },
    b: { $secret: 'x', also: 1 },
    c: { $secret: 42 },
    d: [{ $secret: 'has space' }],
    e: { $secret: null },
  });
  assert.deepEqual(errors.map((e) => e.pointer), ['/b', '/c/$secret', '/d/0/$secret', '/e/$secret']);
  assert.match(errors[0]!.message, /only key/);
  assert.match(errors[1]!.message, /string/);
  assert.match(errors[2]!.message, /secret name/);
  assert.deepEqual(validateSecretRefs({ headers: { authorization: { $secret: 'token' } } }), []);
});

test('hasSecretRefs finds well-formed and malformed references alike, and nothing in plain payloads', () => {
  assert.equal(hasSecretRefs({ n: 10 }), false);
  assert.equal(hasSecretRefs(null), false);
  assert.equal(hasSecretRefs('{"$secret": "x"}'), false, 'a string that looks like one is not a reference');
  assert.equal(hasSecretRefs({ a: [1, 2, { b: { $secret: 'x' } }] }), true);
  assert.equal(hasSecretRefs({ a: { $secret: 7 } }), true, 'malformed ones must reach validation too');
  assert.equal(hasSecretRefs([[[{ $secret: 'deep' }]]]), true);
});

test('resolveSecretRefs returns a copy with the values in place and leaves the original alone', () => {
  const payload = { headers: { authorization: { $secret: 'token' } }, list: [{ $secret: 'token' }, 1], keep: { n: 1 } };
  const resolved = resolveSecretRefs(payload, new Map([['token', 'Bearer abc123']]));
  assert.deepEqual(resolved, { headers: { authorization: 'Bearer abc123' }, list: ['Bearer abc123', 1], keep: { n: 1 } });
  assert.deepEqual(payload.headers.authorization, { $secret: 'token' });
  assert.equal(resolveSecretRefs({ $secret: 'token' }, new Map([['token', 'v']])), 'v');
});

test('resolveSecretRefs keeps a __proto__ key a key instead of changing the prototype', () => {
  const payload = JSON.parse('{"__proto__": {"polluted": {"$secret": "t"}}}') as unknown;
  const resolved = resolveSecretRefs(payload, new Map([['t', 'value']])) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(resolved), Object.prototype);
  assert.deepEqual(Object.getOwnPropertyDescriptor(resolved, '__proto__')?.value, { polluted: 'value' });
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('resolveSecretRefs refuses a missing name with SECRET_REFERENCE_UNKNOWN and pointers, and a malformed reference with VALIDATION_FAILED', () => {
  assert.throws(
    () => resolveSecretRefs({ a: { $secret: 'there' }, b: [{ $secret: 'gone' }] }, new Map([['there', 'v']])),
    (error: unknown) => isAppError(error, 'SECRET_REFERENCE_UNKNOWN') && error.errors.length === 1 && error.errors[0]!.pointer === '/b/0' && /gone/.test(error.message),
  );
  assert.throws(() => resolveSecretRefs({ a: { $secret: 'x', b: 1 } }, new Map([['x', 'v']])), (error: unknown) => isAppError(error, 'VALIDATION_FAILED') && error.errors[0]!.pointer === '/a');
});

test('redactSecretValues replaces every occurrence, the longer secret first', () => {
  assert.equal(redactSecretValues('token=abcd1234; again abcd1234.', ['abcd1234']), `token=${REDACTED}; again ${REDACTED}.`);
  assert.equal(redactSecretValues('key abcd1234xyz and abcd1234', ['abcd1234', 'abcd1234xyz']), `key ${REDACTED} and ${REDACTED}`);
  assert.equal(redactSecretValues('nothing here', ['abcd1234']), 'nothing here');
});

test('values shorter than four characters are not redacted', () => {
  assert.equal(redactSecretValues('a b c abc', ['abc', 'b']), 'a b c abc');
});

test('redaction also matches a value as it appears inside JSON text and in a percent-encoded URL', () => {
  const value = 'p@ss "word"/ä';
  const json = JSON.stringify({ password: value });
  assert.equal(redactSecretValues(json, [value]), `{"password":"${REDACTED}"}`);
  assert.equal(redactSecretValues(`https://h/?k=${encodeURIComponent(value)}`, [value]), `https://h/?k=${REDACTED}`);
});

test('the deep variant redacts strings inside objects and arrays, keys too, and leaves other values as they are', () => {
  const value = 'sk_live_123456';
  const redacted = redactSecretValuesDeep({ a: `Bearer ${value}`, list: [value, 7, true, null], [value]: 'key', nested: { deep: [{ x: value }] } }, [value]);
  assert.deepEqual(redacted, { a: `Bearer ${REDACTED}`, list: [REDACTED, 7, true, null], [REDACTED]: 'key', nested: { deep: [{ x: REDACTED }] } });
  assert.equal(redactSecretValuesDeep(`x${value}`, [value]), `x${REDACTED}`);
  const date = new Date(0);
  assert.equal(secretRedactor([value]).deep(date), date);
});

test('a redactor without values of redactable length returns its input untouched', () => {
  const input = { a: 'ab' };
  assert.equal(secretRedactor(['ab']).deep(input), input);
});

test('built-in payloads accept a secret reference where an http header or shell env value goes, but not a malformed one', () => {
  assert.deepEqual(validateBuiltinPayload('http', { url: 'https://example.com/', headers: { authorization: { $secret: 'api-token' } } }), []);
  assert.deepEqual(validateBuiltinPayload('shell', { command: ['env'], env: { TOKEN: { $secret: 'api-token' } } }), []);
  const bad = validateBuiltinPayload('http', { url: 'https://example.com/', headers: { authorization: { $secret: 'x', y: 1 } } });
  assert.deepEqual(bad.map((e) => e.pointer), ['/headers/authorization']);
});
