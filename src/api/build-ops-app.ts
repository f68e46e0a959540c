import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from '../core/deps.js';
import { uuidv7 } from '../db/ids.js';
import type { Pool } from '../db/pool.js';
import type { Metrics } from '../server/metrics.js';
import { installProblemHandlers, onFrameworkError } from './plugins/problem.js';
import { requestLogFields } from './plugins/request-log.js';
import { healthRoutes, type Readiness } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';

/** What the operations listener needs; it opens nothing itself. */
export interface OpsAppDeps {
  pool: Pool;
  logger: Logger;
  metrics: Metrics;
  /** Why this process is not ready beyond the database (e.g. it is draining), or null. */
  readiness?: Readiness;
}

/**
 * The operations listener of a process without the api role (a worker, a scheduler): /healthz,
 * /readyz and /metrics only, so orchestrators can probe it and Prometheus can scrape it. No
 * tenant data is reachable here. Built without listening, like the API app.
 */
export async function buildOpsApp(deps: OpsAppDeps): Promise<FastifyInstance> {
  const app = Fastify({ genReqId: () => uuidv7(), requestIdHeader: false, frameworkErrors: onFrameworkError });
  app.addHook('onResponse', async (request, reply) => {
    deps.logger.debug(requestLogFields(request, reply), 'ops request');
  });
  installProblemHandlers(app, deps.logger);
  healthRoutes(app, deps.pool, deps.readiness);
  metricsRoutes(app, deps.metrics);
  await app.ready();
  return app;
}
