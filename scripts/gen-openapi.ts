/** Write docs/api/openapi.json from the route schemas (`npm run docs:openapi`); a test fails when it is stale. */
import { writeFileSync } from 'node:fs';
import { buildApp } from '../src/api/build-app.js';
import { silentLogger } from '../src/core/deps.js';
import type { Pool } from '../src/db/pool.js';
import type { Identity } from '../src/engine/auth/index.js';
import type { JobProducer } from '../src/engine/producer.js';

/** The OpenAPI document as committed (stable key order, trailing newline). */
export async function renderOpenApi(): Promise<string> {
  // Building the app opens nothing; the document needs no database.
  const app = await buildApp({
    pool: {} as Pool,
    producer: {} as JobProducer,
    identity: {} as Identity,
    logger: silentLogger,
    authenticate: () => Promise.reject(new Error('not used')),
  });
  await app.ready();
  const doc = JSON.stringify(app.swagger(), null, 2);
  await app.close();
  return `${doc}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(new URL('../docs/api/openapi.json', import.meta.url), await renderOpenApi());
}
