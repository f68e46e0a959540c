import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Clock, Logger } from '../core/deps.js';
import { DEFAULT_SSE_HEARTBEAT_MS, DEFAULT_WORKER_STALE_MS } from '../core/defaults.js';
import { systemClock } from '../engine/clock.js';
import { uuidv7 } from '../engine/ids.js';
import type { Pool } from '../db/pool.js';
import type { Identity } from '../engine/auth/index.js';
import type { EventSink } from '../core/live-events.js';
import type { EventHub } from '../engine/event-hub.js';
import type { RemoteWorkerService } from '../engine/remote-workers.js';
import type { JobProducer } from '../engine/producer.js';
import { createSecretService, type SecretService } from '../engine/secrets/index.js';
import { metricsRoutes, requestDurationsPlugin, type HttpMetrics } from './routes/metrics.js';
import { auditPlugin } from './plugins/audit.js';
import { connectionCapPlugin, DEFAULT_HTTP_TIMEOUTS, problemClientErrorHandler, timeoutServerOptions, trustProxyOption } from './plugins/http-limits.js';
import { authPlugin, type Authenticator } from './plugins/auth.js';
import { auditRoutes } from './routes/audit.js';
import { dashboardRoutes, DEFAULT_DASHBOARD_DIR } from './routes/dashboard.js';
import { demoRoutes } from './routes/demo.js';
import { eventRoutes } from './routes/events.js';
import { failureRoutes } from './routes/failures.js';
import { statsRoutes } from './routes/stats.js';
import { remoteWorkerRoutes } from './routes/remote-workers.js';
import { installProblemHandlers, onFrameworkError } from './plugins/problem.js';
import { requestLogPlugin } from './plugins/request-log.js';
import { tracingPlugin } from './plugins/tracing.js';
import { installValidation } from './plugins/validation.js';
import { healthRoutes, type HealthState, type Readiness } from './routes/health.js';
import { identityRoutes } from './routes/identity.js';
import { Job, JobSubmit, jobRoutes, SubmittedJob } from './routes/jobs.js';
import { DEFAULT_SUBMIT_POLICY, type SubmitPolicy } from '../engine/submit-checks.js';
import { queueRoutes } from './routes/queues.js';
import { scheduleRoutes } from './routes/schedules.js';
import { SecretView, secretRoutes } from './routes/secrets.js';
import { taskRoutes } from './routes/tasks.js';
import { tenantSettingsRoutes } from './routes/tenant-settings.js';
import { createTaskService } from '../engine/task-service.js';
import { Problem } from './schemas/common.js';
import { Schedule, ScheduleCreate, SchedulePatch } from './schemas/schedules.js';

/**
 * What the HTTP app needs; it opens nothing itself: the process builds and starts the services
 * (`src/server/api-services.ts`) and passes them in.
 */
export interface AppDeps {
  pool: Pool;
  producer: JobProducer;
  /** Users, sessions and API keys. */
  identity: Identity;
  /** Replaces `identity.authenticate` (tests use fixed principals). */
  authenticate?: Authenticator;
  logger: Logger;
  /** What routes read the time from (event stamps, heartbeat ages, failure windows). @defaultValue the system clock */
  clock?: Clock;
  /** Prometheus metrics; when given, requests are timed (and /metrics serves them with `metricsToken`). */
  metrics?: HttpMetrics;
  /**
   * Serve /metrics on this app to `Authorization: Bearer <metricsToken>` (others get 401). Null:
   * no /metrics route here (404), since the metrics name every tenant's queues; the operations
   * listener serves them. @defaultValue null
   */
  metricsToken?: string | null;
  /** Reverse proxies (addresses or CIDRs) whose X-Forwarded-For sets `request.ip`; empty: none. @defaultValue [] */
  trustedProxies?: readonly string[];
  /** Open connections one client address may hold on the listening server; trusted proxies are exempt; 0 = no cap. @defaultValue 64 */
  maxConnectionsPerAddress?: number;
  /** Time to receive a request's headers. @defaultValue 10000 */
  headersTimeoutMs?: number;
  /** Time to receive a whole request, body included (not the response: streams and long-polls last longer). @defaultValue 30000 */
  requestTimeoutMs?: number;
  /** A connection silent in both directions this long is closed. Keep it above the SSE ping (15 s) and the longest long-poll (30 s). @defaultValue 75000 */
  idleTimeoutMs?: number;
  /** Time a kept-alive connection waits for its next request. @defaultValue 5000 */
  keepAliveTimeoutMs?: number;
  /** A worker whose heartbeat is older than this is not listed as live. @defaultValue 45000 */
  workerStaleMs?: number;
  /** Largest request body in bytes. @defaultValue 1 MiB */
  bodyLimit?: number;
  /** Where changes made through the API are announced (give the process's `EventPublisher`). */
  liveEvents: EventSink;
  /** The process's event hub (started: it holds the LISTEN connection every event stream is fed from). */
  eventHub: EventHub;
  /** The remote-worker service behind /api/v1/worker (the app closes it on its way down: parked long-polls answer at once). */
  remoteWorkers: RemoteWorkerService;
  /** SSE streams this process serves at once. @defaultValue 1000 */
  maxEventStreams?: number;
  /** SSE streams one tenant holds at once; null: half of maxEventStreams, at least 1. @defaultValue null */
  maxEventStreamsPerTenant?: number | null;
  /** SSE streams one user or API key holds at once. @defaultValue 10 */
  maxEventStreamsPerPrincipal?: number;
  /**
   * Tenant secrets (give the process's service, built with the configured keys). When absent, one
   * on `pool` with the database-kept key (tests, embedded use).
   */
  secrets?: SecretService;
  /**
   * What submits and schedules are checked against: disabled tasks, built-in payloads (what the
   * workers run), http targets. @defaultValue `shell` disabled, nothing else checked
   */
  submitPolicy?: SubmitPolicy;
  /** Run when the app closes, after its own hooks (what the caller started for it, e.g. the revoked-session list). */
  onClose?: () => Promise<void>;
  /** Serve the demo's echo endpoint at /demo/echo (`jobplane start --demo`). */
  demo?: boolean;
  /** The process's database health monitor: /readyz answers a lost database at once. */
  health?: HealthState;
  /** Why the process is not ready beyond the database (e.g. it is draining), or null. */
  readiness?: Readiness;
  /** The dashboard's build folder; null serves no dashboard. @defaultValue dashboard/dist of this package */
  dashboardDir?: string | null;
}

/** Probes, scrapes and static files: logged at debug, not info. */
const QUIET_ROUTES = /^\/(healthz|readyz|metrics|assets\/)/;

/** The OpenAPI document's metadata. */
const OPENAPI_INFO = {
  title: 'Jobplane API',
  version: '1',
  description: 'Jobs, queues, workers and schedules. Errors are RFC 9457 problem JSON with a stable `code` (docs/errors.md).',
};

/** The media type of every error answer (RFC 9457). */
export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/** A JSON object, or nothing. */
function asObject(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/**
 * Move every answer whose schema is the Problem from `application/json` (what @fastify/swagger
 * assumes) to `application/problem+json`, what the server really sends.
 */
export function declareProblemMediaType<T extends object>(document: T): T {
  for (const operations of Object.values(asObject((document as { paths?: unknown }).paths) ?? {})) {
    for (const operation of Object.values(asObject(operations) ?? {})) {
      for (const response of Object.values(asObject(asObject(operation)?.responses) ?? {})) {
        const content = asObject(asObject(response)?.content);
        const json = asObject(content?.['application/json']);
        if (content && asObject(json?.schema)?.$ref === '#/components/schemas/Problem') {
          delete content['application/json'];
          content[PROBLEM_MEDIA_TYPE] = json;
        }
      }
    }
  }
  return document;
}

/**
 * Build the Fastify app without listening (tests use `app.inject()`). Every route declares its
 * request and response schemas; the same schemas validate input and produce the OpenAPI 3.1
 * document at /api/v1/openapi.json (browsable at /api/docs).
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const trustedProxies = deps.trustedProxies ?? [];
  const idleTimeoutMs = deps.idleTimeoutMs ?? DEFAULT_HTTP_TIMEOUTS.idleMs;
  const app = Fastify({
    // Slow clients (slowloris) must not hold connections: headers, whole request, silence and
    // keep-alive each have a deadline. None bounds a response, so event streams and long-polls live on.
    ...timeoutServerOptions({
      headersMs: deps.headersTimeoutMs ?? DEFAULT_HTTP_TIMEOUTS.headersMs,
      requestMs: deps.requestTimeoutMs ?? DEFAULT_HTTP_TIMEOUTS.requestMs,
      idleMs: idleTimeoutMs,
      keepAliveMs: deps.keepAliveTimeoutMs ?? DEFAULT_HTTP_TIMEOUTS.keepAliveMs,
    }),
    trustProxy: trustProxyOption(trustedProxies),
    bodyLimit: deps.bodyLimit ?? 1_048_576,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    genReqId: () => uuidv7(),
    requestIdHeader: false,
    frameworkErrors: onFrameworkError,
    // What Node's HTTP server answers before Fastify (431 headers too large, 408, 400 unparsable) is problem JSON too.
    clientErrorHandler: problemClientErrorHandler(deps.logger),
    // Names (queues, secrets) may be 128 characters; the router's default cut-off is 100.
    routerOptions: { maxParamLength: 256 },
  });
  // Registered in order and awaited: a plugin's hooks reach only the contexts created after it.
  await app.register(connectionCapPlugin, { maxPerAddress: deps.maxConnectionsPerAddress ?? 64, trustedProxies, logger: deps.logger });
  await app.register(tracingPlugin);
  installValidation(app);
  // JSON only: a text/plain body is a 415, not a string that fails validation later.
  app.removeContentTypeParser('text/plain');
  // One line per request, with what an operator searches by: request id, tenant, actor, route.
  await app.register(requestLogPlugin, { logger: deps.logger, quiet: QUIET_ROUTES });
  installProblemHandlers(app, deps.logger);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: OPENAPI_INFO,
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'Access JWT or API key' },
          apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    // Protected routes document their credentials and, as x-permission, the permission they need
    // (the role/scope matrix test is generated from it).
    transform: ({ schema, url, route }) => {
      const permission = (route.config as { permission?: string } | undefined)?.permission;
      return { schema: permission ? { ...schema, security: [{ bearer: [] }, { apiKey: [] }], 'x-permission': permission } : schema, url };
    },
    // Errors are sent as application/problem+json (plugins/problem.ts), so that is what the
    // document declares for every answer whose schema is the Problem.
    transformObject: (documentObject) => ('openapiObject' in documentObject ? declareProblemMediaType(documentObject.openapiObject) : documentObject.swaggerObject),
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });
  for (const schema of [Problem, Job, JobSubmit, SubmittedJob, Schedule, ScheduleCreate, SchedulePatch, SecretView]) app.addSchema(schema);
  await app.register(authPlugin, { authenticate: deps.authenticate ?? ((credential) => deps.identity.authenticate(credential)) });
  await app.register(auditPlugin, { pool: deps.pool, logger: deps.logger });
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, () => app.swagger());
  const { pool, liveEvents, audit } = { ...deps, audit: app.audit };
  const clock = deps.clock ?? systemClock;
  const workerStaleMs = deps.workerStaleMs ?? DEFAULT_WORKER_STALE_MS;
  const submitPolicy = deps.submitPolicy ?? DEFAULT_SUBMIT_POLICY;
  const tasks = createTaskService({ db: pool, workerStaleMs, clock });
  await app.register(healthRoutes, { pool, readiness: deps.readiness, health: deps.health });
  if (deps.metrics) {
    const metrics = deps.metrics;
    await app.register(requestDurationsPlugin, { metrics });
    if (deps.metricsToken) await app.register(metricsRoutes, { metrics, token: deps.metricsToken });
    const waiting = (): number => deps.remoteWorkers.waiting;
    metrics.remoteClaimsWaiting.add(waiting);
    app.addHook('onClose', () => {
      metrics.remoteClaimsWaiting.delete(waiting);
      return Promise.resolve();
    });
  }
  await app.register(identityRoutes, { identity: deps.identity, audit });
  await app.register(jobRoutes, { pool, producer: deps.producer, audit, liveEvents, submitPolicy, tasks, clock });
  await app.register(taskRoutes, { tasks });
  await app.register(tenantSettingsRoutes, { pool, audit });
  await app.register(scheduleRoutes, { pool, audit, liveEvents, submitPolicy, clock });
  await app.register(queueRoutes, { pool, audit, workerStaleMs, liveEvents, clock });
  await app.register(auditRoutes, { pool });
  await app.register(statsRoutes, { pool });
  await app.register(failureRoutes, { pool, audit, liveEvents, clock });
  await app.register(secretRoutes, { secrets: deps.secrets ?? createSecretService({ pool, logger: deps.logger }), audit });
  await app.register(remoteWorkerRoutes, { service: deps.remoteWorkers });
  await app.register(eventRoutes, {
    pool,
    hub: deps.eventHub,
    clock,
    // A ping more often than the idle timeout, however short that was configured.
    heartbeatMs: Math.min(DEFAULT_SSE_HEARTBEAT_MS, Math.max(500, Math.floor(idleTimeoutMs / 2))),
    ...(deps.maxEventStreams ? { maxStreams: deps.maxEventStreams } : {}),
    maxStreamsPerTenant: deps.maxEventStreamsPerTenant ?? null,
    ...(deps.maxEventStreamsPerPrincipal ? { maxStreamsPerPrincipal: deps.maxEventStreamsPerPrincipal } : {}),
  });
  if (deps.onClose) {
    const onClose = deps.onClose;
    app.addHook('onClose', () => onClose());
  }
  if (deps.demo) await app.register(demoRoutes, { clock });
  await app.register(dashboardRoutes, { dir: deps.dashboardDir === undefined ? DEFAULT_DASHBOARD_DIR : deps.dashboardDir });
  return app;
}
