import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { parseTraceParent, traceParentOf, tracer, tracingEnabled } from '../../telemetry/trace-context.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** This request's server span (null when tracing is off or the route is not traced). */
    traceSpan: Span | null;
    /** The context the span is active in (handlers run inside it). */
    traceContext: Context | null;
  }
}

/** Probes, scrapes and static files get no span. */
const UNTRACED = /^\/(healthz|readyz|metrics|assets\/)/;

/**
 * One SERVER span per request, continuing an incoming W3C `traceparent`. The span is made active
 * (AsyncLocalStorage) for the hooks after routing and again after the body is parsed, so database
 * statements and the producer run as its children. Register first: its hooks must run before the
 * others. Not encapsulated: it traces every route of the app.
 */
export const tracingPlugin = fp(async (app) => {
  app.decorateRequest('traceSpan', null);
  app.decorateRequest('traceContext', null);
  if (!tracingEnabled()) return;
  app.addHook('onRequest', (request, _reply, done) => {
    if (UNTRACED.test(request.url)) return done();
    const route = request.routeOptions.url;
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const span = tracer.startSpan(route ? `${request.method} ${route}` : request.method, {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': request.method,
        'url.path': request.url.split('?')[0] ?? request.url,
        ...(route ? { 'http.route': route } : {}),
        'jobplane.request.id': request.id,
      },
    }, parent);
    request.traceSpan = span;
    request.traceContext = trace.setSpan(parent, span);
    context.with(request.traceContext, done);
  });
  // Body parsing runs in the socket's async context; re-enter the span's before validation.
  app.addHook('preValidation', (request, _reply, done) => {
    if (request.traceContext) context.with(request.traceContext, done);
    else done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = request.traceSpan;
    if (span) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    const span = request.traceSpan;
    if (span) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'request aborted' });
      span.end();
    }
    done();
  });
}, { name: 'jobplane-tracing' });

/**
 * The `traceparent` to store on jobs this request submits: its server span's, or (tracing off)
 * a valid incoming `traceparent` header passed through unchanged.
 */
export function requestTraceParent(request: FastifyRequest): string | undefined {
  const own = traceParentOf(request.traceSpan);
  if (own) return own;
  const header = request.headers.traceparent;
  return typeof header === 'string' && parseTraceParent(header) ? header.trim().toLowerCase() : undefined;
}
