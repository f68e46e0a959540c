/** Write docs/api/openapi.json from the route schemas (`npm run docs:openapi`); a test fails when it is stale. */
import { writeFileSync } from 'node:fs';
import { buildApp } from '../src/api/build-app.js';
import { silentLogger } from '../src/core/deps.js';
import type { Pool } from '../src/db/pool.js';
import type { Identity } from '../src/engine/auth/index.js';
import type { EventHub } from '../src/engine/event-hub.js';
import type { JobProducer } from '../src/engine/producer.js';
import type { RemoteWorkerService } from '../src/engine/remote-workers.js';

/** The OpenAPI document as committed (stable key order, trailing newline). */
export async function renderOpenApi(): Promise<string> {
  // Building the app opens nothing; the document needs no database.
  const app = await buildApp({
    pool: {} as Pool,
    producer: {} as JobProducer,
    identity: {} as Identity,
    logger: silentLogger,
    liveEvents: { publish: () => undefined, flushed: () => Promise.resolve() },
    eventHub: {} as EventHub,
    remoteWorkers: { waiting: 0, close: () => Promise.resolve() } as unknown as RemoteWorkerService,
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
