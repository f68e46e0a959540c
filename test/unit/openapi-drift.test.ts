import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderOpenApi } from '../../scripts/gen-openapi.js';

test('docs/api/openapi.json matches the route schemas (run npm run docs:openapi)', async () => {
  assert.equal(readFileSync(new URL('../../docs/api/openapi.json', import.meta.url), 'utf8'), await renderOpenApi());
});

test('every documented operation under /api/v1 declares how to authenticate, except none', async () => {
  const doc = JSON.parse(await renderOpenApi()) as { paths: Record<string, Record<string, { security?: unknown[] }>> };
  for (const [path, ops] of Object.entries(doc.paths)) {
    if (!path.startsWith('/api/v1')) continue;
    for (const [method, op] of Object.entries(ops)) assert.ok(op.security && op.security.length > 0, `${method.toUpperCase()} ${path} has no auth`);
  }
});
