import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderOpenApi } from '../../scripts/gen-openapi.js';

interface Doc {
  paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }> }>>;
}

// The readiness probe's 503 is its own small JSON body ({status, reason}) for load balancers, not an error document.
const NOT_PROBLEMS = new Set(['GET /readyz 503']);

test('every error response in the OpenAPI document is declared as application/problem+json, none as application/json', async () => {
  const doc = JSON.parse(await renderOpenApi()) as Doc;
  let errors = 0;
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        const name = `${method.toUpperCase()} ${path} ${status}`;
        const types = Object.keys(response.content ?? {});
        const problem = Object.values(response.content ?? {}).some((m) => m.schema?.$ref === '#/components/schemas/Problem');
        if (problem) assert.deepEqual(types, ['application/problem+json'], `${name} declares the Problem as ${types.join(', ')}`);
        if (Number(status) < 400 || NOT_PROBLEMS.has(name)) continue;
        errors++;
        assert.deepEqual(types, ['application/problem+json'], `${name} is declared as ${types.join(', ')}`);
      }
    }
  }
  assert.ok(errors > 100, `only ${errors} error responses found`);
});
