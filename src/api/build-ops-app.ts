import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from '../core/deps.js';
import { uuidv7 } from '../engine/ids.js';
import type { Pool } from '../db/pool.js';
import { installProblemHandlers, onFrameworkError } from './plugins/problem.js';
import { requestLogPlugin } from './plugins/request-log.js';
import { healthRoutes, type HealthState, type Readiness } from './routes/health.js';
import { metricsRoutes, requestDurationsPlugin, type HttpMetrics } from './routes/metrics.js';

/** What the operations listener needs; it opens nothing itself. */
export interface OpsAppDeps {
  pool: Pool;
  logger: Logger;
  metrics: HttpMetrics;
  /** Why this process is not ready beyond the database (e.g. it is draining), or null. */
  readiness?: Readiness;
  /** The process's database health monitor: /readyz answers a lost database at once. */
  health?: HealthState;
}

/**
 * The operations listener (JOBPLANE_OPS_PORT) of any process: /healthz, /readyz and /metrics only,
 * so orchestrators can probe a worker or scheduler, which has no API, and Prometheus can scrape
 * every process, the api too, whose own port keeps /metrics behind a token. No tenant data is
 * reachable here beyond the metrics' queue names, so it belongs on an internal network. Built
 * without listening, like the API app.
 */
export async function buildOpsApp(deps: OpsAppDeps): Promise<FastifyInstance> {
  const app = Fastify({ genReqId: () => uuidv7(), requestIdHeader: false, frameworkErrors: onFrameworkError });
  await app.register(requestLogPlugin, { logger: deps.logger, message: 'ops request', quiet: null, echoRequestId: false });
  installProblemHandlers(app, deps.logger);
  await app.register(requestDurationsPlugin, { metrics: deps.metrics });
  await app.register(healthRoutes, { pool: deps.pool, readiness: deps.readiness, health: deps.health });
  // No token here: this listener is for the internal network, where Prometheus scrapes it.
  await app.register(metricsRoutes, { metrics: deps.metrics });
  await app.ready();
  return app;
}
