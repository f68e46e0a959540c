/**
 * The API under test, in its own process (the load generator must not share its event loop):
 * builds the real app on the given database, creates an API key, prints {url, key} as one JSON
 * line on stdout, and serves until SIGTERM.
 */
import { buildApp } from '../../src/api/build-app.js';
import { silentLogger } from '../../src/core/deps.js';
import { migrate } from '../../src/db/migrator.js';
import { createPool } from '../../src/db/pool.js';
import { createIdentity } from '../../src/engine/auth/index.js';
import { EventPublisher } from '../../src/engine/event-publisher.js';
import { JobProducer } from '../../src/engine/producer.js';
import { startApiServices } from '../../src/server/api-services.js';
import { DEFAULT_TENANT_ID } from '../../src/core/tenants.js';

const pool = createPool({ connectionString: process.env.DATABASE_URL!, max: 20 });
await migrate(pool);
const identity = createIdentity({ pool });
const producer = new JobProducer(pool);
const liveEvents = new EventPublisher(pool);
const services = await startApiServices({ pool, logger: silentLogger, liveEvents });
const app = await buildApp({ pool, producer, identity, logger: silentLogger, liveEvents, ...services, onClose: () => services.stop() });
const { key } = await identity.createApiKey(DEFAULT_TENANT_ID, { name: 'bench', scopes: ['jobs:write'] }, 'bench');
const url = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ url, key })}\n`);
process.on('SIGTERM', () => {
  void app.close().then(() => producer.close()).then(() => liveEvents.close()).then(() => pool.end()).then(() => process.exit(0));
});
