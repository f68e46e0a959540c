import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Clock } from '../../core/deps.js';
import { systemClock } from '../../engine/clock.js';

/** Options of the demo routes. */
export interface DemoRouteOptions {
  /** @defaultValue the system clock */
  clock?: Clock;
  /** @defaultValue Math.random */
  random?: () => number;
}

/**
 * `/demo/echo` (only with `jobplane start --demo`): a target for the demo's http jobs, served by
 * the api role itself so the demo needs nothing else. `?delayMs=` waits (at most 5 s) and
 * `?failRate=` (0..1) answers 503 that often, so a demo job fails and retries now and then.
 */
export async function demoRoutes(app: FastifyInstance, { random = Math.random, clock = systemClock }: DemoRouteOptions = {}): Promise<void> {
  const Query = Type.Object(
    { delayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 5000 })), failRate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })) },
    { additionalProperties: false },
  );
  for (const method of ['GET', 'POST'] as const) {
    app.route({
      method,
      url: '/demo/echo',
      schema: { hide: true, querystring: Query },
      handler: async (request, reply) => {
        const { delayMs = 0, failRate = 0 } = request.query as { delayMs?: number; failRate?: number };
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
        if (random() < failRate) return reply.code(503).send({ ok: false, message: 'the demo endpoint failed on purpose' });
        return { ok: true, method, received: request.body ?? null, at: new Date(clock.nowMs()).toISOString() };
      },
    });
  }
}
