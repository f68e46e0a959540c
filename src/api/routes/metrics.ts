import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../server/metrics.js';

/** Record every request's duration and serve /metrics in Prometheus text format. */
export function metricsRoutes(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    if (route === '/metrics') return;
    metrics.httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { schema: { tags: ['ops'], summary: 'Prometheus metrics (not tenant-scoped: expose on an internal network)', hide: true } }, async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
}
