import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { pendingMigrations } from '../../db/migrator.js';
import type { Pool } from '../../db/pool.js';

/** Why the process is not ready beyond the database (e.g. it is draining), or null when it is. */
export type Readiness = () => string | null;

/**
 * /healthz (the process is alive) and /readyz (the database answers, migrations are current and
 * `readiness` has no objection).
 */
export function healthRoutes(app: FastifyInstance, pool: Pool, readiness: Readiness = () => null): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get('/healthz', { schema: { tags: ['ops'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } } }, () => ({ status: 'ok' as const }));
  r.get('/readyz', {
    schema: {
      tags: ['ops'],
      response: { 200: Type.Object({ status: Type.String(), pendingMigrations: Type.Array(Type.String()) }), 503: Type.Object({ status: Type.String(), reason: Type.String() }) },
    },
  }, async (_request, reply) => {
    const objection = readiness();
    if (objection) return reply.code(503).send({ status: 'not-ready', reason: objection });
    try {
      const pending = await pendingMigrations(pool);
      if (pending.length > 0) return reply.code(503).send({ status: 'not-ready', reason: `migrations pending: ${pending.join(', ')}` });
      return { status: 'ready', pendingMigrations: [] };
    } catch (error) {
      return reply.code(503).send({ status: 'not-ready', reason: `database unreachable: ${(error as Error).message}` });
    }
  });
}
