import type { FastifyReply, FastifyRequest } from 'fastify';
import { actorOf } from '../../core/access.js';
import type { LogFields } from '../../core/deps.js';

/** One request's log line: what an operator searches by (request id, tenant, actor, route). */
export function requestLogFields(request: FastifyRequest, reply: FastifyReply): LogFields {
  const principal = request.principal;
  return {
    requestId: request.id,
    method: request.method,
    route: request.routeOptions.url ?? request.url.split('?')[0],
    status: reply.statusCode,
    ms: Math.round(reply.elapsedTime * 10) / 10,
    ...(principal ? { tenantId: principal.tenantId, actor: actorOf(principal) } : {}),
  };
}
