import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderOpenApi } from '../../scripts/gen-openapi.js';

test('docs/api/openapi.json matches the route schemas (run npm run docs:openapi)', async () => {
  assert.equal(readFileSync(new URL('../../docs/api/openapi.json', import.meta.url), 'utf8'), await renderOpenApi());
});

// The only public operations: logging in, refreshing and logging out (they carry their own secret).
const PUBLIC = new Set(['POST /api/v1/auth/login', 'POST /api/v1/auth/refresh', 'POST /api/v1/auth/logout']);

test('every /api/v1 operation requires a token or key, except the session endpoints', async () => {
  const doc = JSON.parse(await renderOpenApi()) as { paths: Record<string, Record<string, { security?: unknown[] }>> };
  for (const [path, ops] of Object.entries(doc.paths)) {
    if (!path.startsWith('/api/v1')) continue;
    for (const [method, op] of Object.entries(ops)) {
      const name = `${method.toUpperCase()} ${path}`;
      assert.equal(Boolean(op.security && op.security.length > 0), !PUBLIC.has(name), `${name} auth mismatch`);
    }
  }
});
