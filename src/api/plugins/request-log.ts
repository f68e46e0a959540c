import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { actorOf } from '../../core/access.js';
import type { LogFields, Logger } from '../../core/deps.js';

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

/** Options of {@link requestLogPlugin}. */
export interface RequestLogOptions {
  logger: Logger;
  /** The log message. @defaultValue 'request' */
  message?: string;
  /** Requests logged at debug, not info (probes, scrapes, static files); null: every request at debug. */
  quiet: RegExp | null;
  /** Send the request id back as `x-request-id`. @defaultValue true */
  echoRequestId?: boolean;
}

/** One log line per request (see {@link requestLogFields}), and its id in `x-request-id`. Not encapsulated. */
export const requestLogPlugin = fp<RequestLogOptions>(async (app, options) => {
  const message = options.message ?? 'request';
  if (options.echoRequestId ?? true) {
    app.addHook('onSend', async (request, reply) => {
      void reply.header('x-request-id', request.id);
    });
  }
  app.addHook('onResponse', async (request, reply) => {
    const fields = requestLogFields(request, reply);
    if (options.quiet === null || options.quiet.test(request.url)) options.logger.debug(fields, message);
    else options.logger.info(fields, message);
  });
}, { name: 'jobplane-request-log' });
