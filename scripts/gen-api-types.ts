/**
 * Write src/client/api-types.ts from docs/api/openapi.json with openapi-typescript (`npm run
 * docs:openapi` writes the document, then this). The typed client and the dashboard read the
 * API's shapes from that file only; test/unit/api-types-drift.test.ts fails when it is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import openapiTS, { astToString } from 'openapi-typescript';

const HEADER = `/**
 * The API's request and response shapes, generated from docs/api/openapi.json by
 * scripts/gen-api-types.ts (openapi-typescript). Do not edit: run \`npm run docs:openapi\`.
 * Over 400 lines because it is generated: every operation of the API, with its shapes.
 */
`;

/** The generated module as committed, for an OpenAPI document (the committed one by default). */
export async function renderApiTypes(document: string = readFileSync(new URL('../docs/api/openapi.json', import.meta.url), 'utf8')): Promise<string> {
  const ast = await openapiTS(JSON.parse(document) as Parameters<typeof openapiTS>[0], { alphabetize: false, exportType: false });
  return `${HEADER}${astToString(ast)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(new URL('../src/client/api-types.ts', import.meta.url), await renderApiTypes());
}
