import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../../errors/index.js';

/**
 * What the HTTP apps need of the process's metrics (the process builds them: `src/server/metrics.ts`
 * satisfies this). Declared here so that the API depends on no layer above it.
 */
export interface HttpMetrics {
  /** The registry /metrics serves. */
  registry: { contentType: string; metrics(): Promise<string> };
  /** Request durations in seconds, by method, route and status. */
  httpDuration: { observe(labels: { method: string; route: string; status: string }, seconds: number): void };
  /** Counts of parked remote-worker long-polls, summed into a gauge at scrape time (one source per API app). */
  remoteClaimsWaiting: Set<() => number>;
}

/** Options for {@link metricsRoutes}. */
export interface MetricsRouteOptions {
  metrics: HttpMetrics;
  /**
   * A secret Prometheus sends as `Authorization: Bearer <token>`; without it (or with another)
   * the answer is 401. Null serves /metrics to anyone, for the operations listener, which lives
   * on an internal network. @defaultValue null
   */
  token?: string | null;
}

/** Record every request's duration (except scrapes) in the `jobplane_http_request_duration_seconds` histogram. Not encapsulated. */
export const requestDurationsPlugin = fp<{ metrics: HttpMetrics }>(async (app, { metrics }) => {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    if (route === '/metrics') return;
    metrics.httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
}, { name: 'jobplane-request-durations' });

/**
 * Serve /metrics in Prometheus text format. The metrics name every tenant's queues, so on the
 * api's port this route exists only with a token (build-app.ts); the operations listener serves
 * it openly.
 */
export async function metricsRoutes(app: FastifyInstance, options: MetricsRouteOptions): Promise<void> {
  const { metrics } = options;
  const token = options.token ?? null;
  const expected = token === null ? null : digest(token);
  app.get('/metrics', {
    schema: { tags: ['ops'], summary: 'Prometheus metrics (not tenant-scoped)', hide: true },
    onRequest: async (request, reply) => {
      if (expected === null) return;
      const given = bearerOf(request);
      if (given === null || !timingSafeEqual(digest(given), expected)) {
        void reply.header('www-authenticate', 'Bearer realm="metrics"');
        throw given === null
          ? new AppError('UNAUTHENTICATED', 'send "Authorization: Bearer <JOBPLANE_METRICS_TOKEN>"')
          : new AppError('TOKEN_INVALID', 'this is not the metrics token (JOBPLANE_METRICS_TOKEN)');
      }
    },
  }, async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
}

/** The bearer credential of a request, or null when it has none. */
function bearerOf(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : null;
}

/**
 * A fixed-length digest, so the comparison takes the same time whatever the given token's
 * length or content (timingSafeEqual needs equal lengths, and comparing lengths first would leak one).
 */
function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
