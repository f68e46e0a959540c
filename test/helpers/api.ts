import type { FastifyInstance } from 'fastify';
import { buildApp, type AppDeps } from '../../src/api/build-app.js';
import type { Principal } from '../../src/core/access.js';
import { silentLogger } from '../../src/core/deps.js';
import { DEFAULT_TENANT_ID } from '../../src/core/tenants.js';
import { createIdentity } from '../../src/engine/auth/index.js';
import { EventPublisher } from '../../src/engine/event-publisher.js';
import { JobProducer } from '../../src/engine/producer.js';
import { startApiServices } from '../../src/server/api-services.js';
import type { TestDatabase } from './db.js';

/** Fixed test principals by bearer token; real tokens and keys also work (identity layer). */
export const TOKENS: Record<string, Principal> = {
  admin: { kind: 'user', id: '00000000-0000-7000-8000-0000000000a1', tenantId: DEFAULT_TENANT_ID, username: 'admin', role: 'admin', superadmin: false },
  manager: { kind: 'user', id: '00000000-0000-7000-8000-0000000000a2', tenantId: DEFAULT_TENANT_ID, username: 'manager', role: 'manager', superadmin: false },
  viewer: { kind: 'user', id: '00000000-0000-7000-8000-0000000000a3', tenantId: DEFAULT_TENANT_ID, username: 'viewer', role: 'viewer', superadmin: false },
  superadmin: { kind: 'user', id: '00000000-0000-7000-8000-0000000000a4', tenantId: DEFAULT_TENANT_ID, username: 'root', role: 'admin', superadmin: true },
  other: { kind: 'user', id: '00000000-0000-7000-8000-0000000000b1', tenantId: '00000000-0000-7000-8000-0000000000bb', username: 'other', role: 'admin', superadmin: false },
};

/** An app on the test database with the TOKENS authenticator; closed with the database. */
export async function testApp(db: TestDatabase, overrides: Partial<AppDeps> = {}): Promise<FastifyInstance> {
  await db.pool.query(`INSERT INTO jobplane.tenants (id, slug, name) VALUES ('00000000-0000-7000-8000-0000000000bb', 'other', 'Other') ON CONFLICT DO NOTHING`);
  const liveEvents = new EventPublisher(db.pool);
  const producer = new JobProducer(db.pool, { events: liveEvents });
  const identity = createIdentity({ pool: db.pool });
  const services = await startApiServices({ pool: db.pool, logger: silentLogger, liveEvents, workerStaleMs: overrides.workerStaleMs ?? 45_000 });
  const app = await buildApp({
    pool: db.pool,
    producer,
    liveEvents,
    eventHub: services.eventHub,
    remoteWorkers: services.remoteWorkers,
    identity,
    logger: silentLogger,
    // Fixed principals for the names in TOKENS; everything else goes through the real identity layer.
    authenticate: (credential) => {
      const principal = TOKENS[credential];
      return principal ? Promise.resolve(principal) : identity.authenticate(credential);
    },
    ...overrides,
    // What the process would stop with its app: the services started for it here.
    onClose: async () => {
      await services.stop();
      await overrides.onClose?.();
    },
  });
  db.track({
    stop: async () => {
      // A client may hold a connection on which it never sent a request (fetch opens spares);
      // the server would wait for it until headersTimeout. Tests do not wait for strangers.
      const closing = app.close();
      setTimeout(() => app.server.closeAllConnections(), 100).unref();
      await closing;
      await producer.close();
      await liveEvents.close();
    },
  });
  return app;
}

/** Headers for a test principal. */
export function as(who: keyof typeof TOKENS): Record<string, string> {
  return { authorization: `Bearer ${who}` };
}
