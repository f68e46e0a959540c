import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CODES } from '../../src/errors/codes.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const documented = [...doc.matchAll(/^\| `([A-Z_]+)` \| (\d+) \|/gm)].map((m) => [m[1]!, Number(m[2])] as const);

test('every error code is documented in docs/errors.md with its HTTP status', () => {
  for (const [code, { status }] of Object.entries(ERROR_CODES)) {
    assert.ok(documented.some(([c, s]) => c === code && s === status), `${code} (${status}) missing from docs/errors.md`);
  }
});

test('docs/errors.md lists no code that does not exist', () => {
  for (const [code] of documented) assert.ok(code in ERROR_CODES, `${code} is documented but not defined`);
});
