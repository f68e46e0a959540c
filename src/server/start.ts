import { createServer } from 'node:net';
import type { Config } from '../config/index.js';
import type { Logger } from '../core/deps.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../db/embedded.js';
import { migrate } from '../db/migrator.js';
import { createPool, isConnectionError, type Pool } from '../db/pool.js';
import { autovacuumEnabled } from '../db/queries/maintenance.js';
import { AppError } from '../errors/index.js';
import { createScheduler, type Scheduler } from '../scheduler/scheduler.js';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../api/build-app.js';
import { MAX_CLAIM_WAIT_MS } from '../api/routes/remote-workers.js';
import { buildOpsApp } from '../api/build-ops-app.js';
import { createIdentity } from '../engine/auth/index.js';
import { RevokedSessions } from '../engine/auth/revocations.js';
import { revokedSessionHoldS } from '../engine/auth/tokens.js';
import { EventPublisher } from '../engine/event-publisher.js';
import { createSecretService, type SecretService } from '../engine/secrets/index.js';
import { startApiServices } from './api-services.js';
import { DEMO_ALLOWED_HOSTS, seedDemo } from './demo.js';
import { JobProducer } from '../engine/producer.js';
import { builtinTasks } from '../worker/tasks/index.js';
import { createMetrics, observeDatabaseHealth, observeScheduler, observeWorker, type Metrics } from './metrics.js';
import { DatabaseHealth } from '../engine/database-health.js';
import { createWorker, type Worker } from '../worker/worker.js';
import { startTracing } from '../telemetry/tracing.js';

/** A running Jobplane process. */
export interface RunningJobplane {
  databaseUrl: string;
  pool: Pool;
  scheduler: Scheduler | null;
  worker: Worker | null;
  /** The API's address when the api role runs, e.g. http://127.0.0.1:8080. */
  url: string | null;
  /** The operations listener's address (/healthz, /readyz, /metrics) when JOBPLANE_OPS_PORT is set. */
  opsUrl: string | null;
  /** Graceful stop of every role, then the embedded database. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Open the database (embedded when no URL is configured), migrate under a lock, and start the
 * configured roles. Nothing falls back silently: an unreachable database is retried (until
 * `options.signal` aborts), and a database that answers but refuses us (no such database or role,
 * wrong password) is a CONFIG_INVALID error, as is a data folder in use; a taken port throws the
 * listen error. A start that fails or is aborted stops everything it started before it throws.
 */
export async function startJobplane(config: Config, logger: Logger, options: { signal?: AbortSignal } = {}): Promise<RunningJobplane> {
  // A taken port is found before the (slow) embedded database starts; listen() still reports a race.
  await assertPortsFree(config);
  // Before anything opens: the pool's statements are traced only when tracing is on.
  const tracing = startTracing({ roles: config.roles, logger });
  let embedded: EmbeddedPostgres | null = null;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, ephemeral: config.ephemeral, logger, signal: options.signal }).catch(async (error: unknown) => {
      await tracing.shutdown();
      throw error;
    });
    databaseUrl = embedded.connectionString;
    logger.info({ dataDir: embedded.dataDir, ephemeral: config.ephemeral }, 'embedded PostgreSQL started');
  }
  const pool = createPool({ connectionString: databaseUrl, max: config.dbPoolMax, logger, traced: tracing.enabled });
  let scheduler: Scheduler | null = null;
  let worker: Worker | null = null;
  let api: { app: FastifyInstance; producer: JobProducer; url: string } | null = null;
  let ops: { app: FastifyInstance; url: string } | null = null;
  let draining = false;
  const metrics = createMetrics(pool);
  // Pings the database so /readyz and jobplane_database_up know it is gone within one interval.
  const health = new DatabaseHealth({ pool, intervalMs: config.healthIntervalMs, logger });
  observeDatabaseHealth(metrics, health);
  const readiness = (): string | null => (draining ? 'stopping' : null);
  // One publisher per process: every role announces its job changes through it (live events).
  const liveEvents = new EventPublisher(pool, { logger });
  try {
    // One keyring per process, shared by every role: one key load, one warning about a database-kept key.
    const secrets = createSecretService({ pool, keys: config.secretsKeys, activeKey: config.secretsActiveKey, logger });
    const { applied } = await untilReachable(() => migrate(pool, logger), logger, options.signal).catch((error: unknown) => {
      throw databaseConfigProblem(error, databaseUrl) ?? error;
    });
    if (applied.length > 0) logger.info({ applied }, 'database migrated');
    if (!(await autovacuumEnabled(pool))) {
      logger.warn({ autovacuum: false }, 'autovacuum is off on this PostgreSQL server: the rows of finished and deleted jobs are never reclaimed and claims slow down; set autovacuum = on (and track_counts = on), or run VACUUM on jobplane.jobs regularly');
    }
    options.signal?.throwIfAborted();
    health.start();
    if (config.roles.includes('scheduler')) {
      scheduler = createScheduler({
        pool,
        logger,
        leaderTtlMs: config.leaderTtlMs,
        cancelGraceMs: config.cancelGraceMs,
        retentionCompletedMs: config.retentionCompletedMs,
        retentionFailedMs: config.retentionFailedMs,
        workerStaleMs: config.leaseMs * 1.5,
        liveEvents,
        secrets,
      });
      observeScheduler(metrics, scheduler);
      await scheduler.start();
      options.signal?.throwIfAborted();
    }
    if (config.roles.includes('worker') && config.workerTasks.length > 0) {
      worker = createWorker({
        pool,
        logger,
        tasks: builtinTasks(config.workerTasks, {
          http: { allowPrivateNetworks: config.httpAllowPrivate, allowedHosts: httpAllowedHosts(config) },
          shell: { enabled: config.shellEnabled, allowedCommands: [...config.shellAllowedCommands] },
        }),
        queues: config.workerQueues,
        concurrency: config.workerConcurrency,
        prefetch: config.workerPrefetch,
        zone: config.workerZone,
        leaseMs: config.leaseMs,
        pollIntervalMs: config.pollIntervalMs,
        shutdownGraceMs: config.shutdownGraceMs,
        cancelGraceMs: config.cancelGraceMs,
        liveEvents,
        secrets,
        // Where no scheduler runs in this process, the worker is a maintenance candidate itself.
        maintenance: config.workerMaintenance && !config.roles.includes('scheduler'),
        secretsKeys: config.secretsKeys,
        secretsActiveKey: config.secretsActiveKey,
      });
      observeWorker(metrics, worker);
      await worker.start();
      if (worker.maintenance) observeScheduler(metrics, worker.maintenance);
      options.signal?.throwIfAborted();
    }
    if (config.roles.includes('api')) api = await startApi(config, pool, logger, metrics, liveEvents, secrets, health, readiness);
    else if (config.demo) logger.warn({ roles: config.roles }, '--demo needs the api role in this process (it serves the demo endpoint); nothing was seeded');
    if (config.opsPort !== null) ops = await startOps(config, pool, logger, metrics, readiness, health);
    options.signal?.throwIfAborted();
  } catch (error) {
    // Each step is bounded: a part that cannot stop must not keep the embedded database (and so
    // this process) alive for good. The database goes last, whatever happened before.
    await bounded(health.stop(), logger, 'database health check');
    await bounded(Promise.allSettled([api?.app.close(), api?.producer.close(), worker?.stop(), scheduler?.stop()]), logger, 'roles');
    await bounded(liveEvents.close(), logger, 'live events');
    await bounded(ops?.app.close(), logger, 'operations listener');
    await bounded(pool.end(), logger, 'database pool');
    await bounded(embedded?.stop(), logger, 'embedded PostgreSQL');
    await bounded(tracing.shutdown(), logger, 'tracing');
    throw error;
  }
  let stopping: Promise<void> | null = null;
  return {
    databaseUrl,
    pool,
    scheduler,
    worker,
    url: api?.url ?? null,
    opsUrl: ops?.url ?? null,
    stop() {
      stopping ??= (async () => {
        // Probes say "not ready" while the roles drain; /healthz and /metrics answer to the end.
        draining = true;
        // Stop taking requests first, then drain the roles. In-flight requests get a few seconds;
        // then remaining connections (idle keep-alives, clients that never sent a request) are cut.
        if (api) {
          const app = api.app;
          const force = setTimeout(() => app.server.closeAllConnections(), API_CLOSE_GRACE_MS);
          await app.close();
          clearTimeout(force);
        }
        await Promise.allSettled([worker?.stop(), scheduler?.stop(), api?.producer.close()]);
        await health.stop();
        await liveEvents.close();
        await ops?.app.close();
        await pool.end();
        await embedded?.stop();
        // Last: the spans of the drain above are exported too.
        await tracing.shutdown();
      })();
      return stopping;
    },
  };
}

/** The http task's allowed private hosts: configured ones, plus this machine for the demo's echo endpoint. */
function httpAllowedHosts(config: Config): string[] {
  return [...config.httpAllowedHosts, ...(config.demo ? DEMO_ALLOWED_HOSTS : [])];
}

/** How long in-flight HTTP requests may take to finish on stop before connections are cut. */
const API_CLOSE_GRACE_MS = 5000;

/** The longest one cleanup step of a failed start may take before the next one runs anyway. */
const CLEANUP_STEP_MS = 10_000;

/** Wait for `promise` (its failure only logged), at most CLEANUP_STEP_MS. */
async function bounded(promise: Promise<unknown> | undefined, logger: Logger, what: string): Promise<void> {
  if (!promise) return;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolveTimeout) => {
    timer = setTimeout(() => resolveTimeout('timeout'), CLEANUP_STEP_MS);
  });
  const outcome = await Promise.race([promise.then(() => 'done', (error: unknown) => error), timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') logger.warn({ waitedMs: CLEANUP_STEP_MS }, `${what} did not stop in time; going on`);
  else if (outcome !== 'done') logger.warn({ err: (outcome as Error).message }, `${what} failed to stop`);
}

/**
 * Run `fn` until the database answers: a server that is not up yet (or restarting) is reported
 * (one line per attempt) and retried with backoff, never replaced by something else. Other
 * errors end the start; so does `signal`, at once, even during the wait.
 */
async function untilReachable<T>(fn: () => Promise<T>, logger: Logger, signal?: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!isConnectionError(error) || signal?.aborted) throw error;
      const waitMs = Math.min(10_000, 250 * 2 ** Math.min(attempt, 6));
      logger.warn({ err: (error as Error).message, attempt, retryInMs: waitMs }, 'database not reachable; not ready, retrying');
      await new Promise<void>((resolveWait) => {
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolveWait();
        };
        const timer = setTimeout(done, waitMs);
        signal?.addEventListener('abort', done, { once: true });
      });
      signal?.throwIfAborted();
    }
  }
}

/** PostgreSQL error codes that mean the settings are wrong, not that the server is down, with the fix. */
const REFUSED: Record<string, string> = {
  '3D000': 'Create that database, or fix the database name in DATABASE_URL (or DB_NAME).',
  '28000': 'Fix the user name in DATABASE_URL (or DB_USER), create that role, or allow this client in the server\'s pg_hba.conf.',
  '28P01': 'Fix the user name or password in DATABASE_URL (or DB_USER, DB_PASSWORD).',
};

/**
 * A database that answers but will not let us in (no such database or role, wrong password, a
 * password or TLS mode the server does not accept) is a configuration error: retrying cannot fix
 * it. Returns the one-line CONFIG_INVALID error to throw instead, or null for anything else.
 */
export function databaseConfigProblem(error: unknown, url: string): AppError | null {
  if (!(error instanceof Error)) return null;
  const code = (error as { code?: unknown }).code;
  const sqlState = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null;
  const fix = sqlState === null ? undefined : REFUSED[sqlState];
  const clientSide = sqlState === null && /SASL|password must be a string|does not support SSL|certificate/i.test(error.message);
  if (fix === undefined && !clientSide) return null;
  const detail = error.message.replace(/\s+/g, ' ').trim();
  const advice = fix ?? 'Fix the password or sslmode in DATABASE_URL (or DB_PASSWORD, SSL_MODE).';
  return new AppError('CONFIG_INVALID', `error: the database at ${redactUrl(url)} refused the connection: ${detail}. ${advice}`, { cause: error });
}

/** A connection URL fit for a log line: the password replaced. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(DATABASE_URL)';
  }
}

/**
 * Fail before anything starts when a port this process is to listen on is taken: with the
 * listen error itself (code EADDRINUSE or EACCES, address, port), as listen() would.
 */
async function assertPortsFree(config: Config): Promise<void> {
  const ports = [config.roles.includes('api') ? config.port : null, config.opsPort].filter((p): p is number => p !== null && p !== 0);
  for (const port of ports) {
    await new Promise<void>((resolveFree, reject) => {
      const probe = createServer();
      probe.once('error', reject);
      probe.listen({ port, host: config.host, exclusive: true }, () => probe.close(() => resolveFree()));
    });
  }
}

/**
 * The api role: on the first start with no users, create the admin (printing a generated password
 * once), then listen.
 */
async function startApi(config: Config, pool: Pool, logger: Logger, metrics: Metrics, liveEvents: EventPublisher, secrets: SecretService, health: DatabaseHealth, readiness: () => string | null): Promise<{ app: FastifyInstance; producer: JobProducer; url: string }> {
  // Logout and refresh-token reuse end sessions on every api process at once, with no query per request.
  const accessTtlS = Math.round(config.accessTokenTtlMs / 1000);
  const revocations = new RevokedSessions({ pool, logger, holdMs: revokedSessionHoldS(accessTtlS) * 1000 });
  await revocations.start();
  const identity = createIdentity({
    pool,
    logger,
    jwtSecret: config.jwtSecret ?? undefined,
    apiKeyPepper: config.apiKeyPepper ?? undefined,
    accessTtlS,
    revocations,
  });
  const boot = await identity.bootstrap(config.adminPassword ? { adminPassword: config.adminPassword } : {}).catch(async (error: unknown) => {
    await revocations.stop();
    throw error;
  });
  // bootstrap() logs the creation; only a generated password needs saying here.
  if (boot.created) {
    if (boot.generatedPassword) {
      // Printed once, on stdout, outside the JSON log: it is stored only as an argon2id hash.
      process.stdout.write(`\n  First start: log in as "admin" with password ${boot.generatedPassword}\n  (set JOBPLANE_ADMIN_PASSWORD to choose it; this is shown only once)\n\n`);
    }
  }
  const producer = new JobProducer(pool, { logger, events: liveEvents });
  const workerStaleMs = config.leaseMs * 1.5;
  const services = await startApiServices({ pool, logger, liveEvents, workerStaleMs }).catch(async (error: unknown) => {
    await revocations.stop();
    throw error;
  });
  const app = await buildApp({
    pool,
    producer,
    identity,
    eventHub: services.eventHub,
    remoteWorkers: services.remoteWorkers,
    onClose: async () => {
      await revocations.stop();
      await identity.flush();
      await services.stop();
    },
    logger,
    metrics,
    liveEvents,
    workerStaleMs,
    maxEventStreams: config.sseMaxStreams,
    secrets,
    maxEventStreamsPerTenant: config.sseMaxStreamsPerTenant,
    maxEventStreamsPerPrincipal: config.sseMaxStreamsPerPrincipal,
    metricsToken: config.metricsToken,
    trustedProxies: config.trustedProxies,
    maxConnectionsPerAddress: config.maxConnectionsPerAddress,
    headersTimeoutMs: config.headersTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
    // Processes of one installation share their configuration: the tasks the workers run are the
    // ones whose payloads the API can check at submit time.
    // shell is refused at submit unless the installation enables it: no tenant setting can.
    submitPolicy: {
      checkedTasks: config.workerTasks,
      disabledTasks: config.shellEnabled ? [] : ['shell'],
      payloadPolicy: { allowPrivateNetworks: config.httpAllowPrivate, allowedHosts: httpAllowedHosts(config) },
    },
    demo: config.demo,
    health,
    readiness,
  });
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    // A taken port: let go of every connection the app holds, or the pool could never end.
    await app.close();
    await producer.close();
    throw error;
  }
  const url = listenUrl(app, config.host);
  logger.info({ url, docs: `${url}/api/docs` }, 'API listening');
  if (config.opsPort === null && config.metricsToken === null) {
    logger.info({}, '/metrics is not served: it names every tenant\'s queues. Set JOBPLANE_OPS_PORT for an internal listener with /healthz, /readyz and /metrics, or JOBPLANE_METRICS_TOKEN to serve it on this port to "Authorization: Bearer <token>"');
  }
  if (config.idleTimeoutMs <= MAX_CLAIM_WAIT_MS) {
    logger.warn({ idleTimeoutMs: config.idleTimeoutMs }, `JOBPLANE_IDLE_TIMEOUT is not above the longest remote-worker long-poll (${MAX_CLAIM_WAIT_MS / 1000} s): long-polls that wait that long are cut`);
  }
  if (config.demo) {
    // Loopback is where the demo's echo endpoint lives; the api listens on 0.0.0.0 in containers.
    const local = `http://127.0.0.1:${config.port}`;
    await seedDemo(pool, producer, local, logger);
    process.stdout.write(`\n  Demo running: open ${url} in a browser and log in as "admin".\n\n`);
  }
  return { app, producer, url };
}

/** Probes and metrics of any role on their own port (JOBPLANE_OPS_PORT): where Prometheus scrapes the api too. */
async function startOps(config: Config, pool: Pool, logger: Logger, metrics: Metrics, readiness: () => string | null, health: DatabaseHealth): Promise<{ app: FastifyInstance; url: string }> {
  const app = await buildOpsApp({ pool, logger, metrics, readiness, health });
  await app.listen({ port: config.opsPort ?? 0, host: config.host });
  const url = listenUrl(app, config.host);
  logger.info({ url, routes: ['/healthz', '/readyz', '/metrics'] }, 'operations listener ready');
  return { app, url };
}

/** The address a listening app answers on (the real port when 0 was asked for). */
function listenUrl(app: FastifyInstance, host: string): string {
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
