import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderApiTypes } from '../../scripts/gen-api-types.js';

test('src/client/api-types.ts is generated from docs/api/openapi.json (run npm run docs:openapi)', async () => {
  assert.equal(readFileSync(new URL('../../src/client/api-types.ts', import.meta.url), 'utf8'), await renderApiTypes());
});

test('a change to the document shows up as drift in the generated types', async () => {
  const doc = JSON.parse(readFileSync(new URL('../../docs/api/openapi.json', import.meta.url), 'utf8')) as { components: { schemas: Record<string, { properties: Record<string, unknown> }> } };
  doc.components.schemas.Job!.properties.surprise = { type: 'string' };
  assert.notEqual(await renderApiTypes(JSON.stringify(doc)), readFileSync(new URL('../../src/client/api-types.ts', import.meta.url), 'utf8'));
});
