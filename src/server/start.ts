import type { Config } from '../config/index.js';
import type { Logger } from '../core/deps.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../db/embedded.js';
import { migrate } from '../db/migrator.js';
import { createPool, isConnectionError, type Pool } from '../db/pool.js';
import { createScheduler, type Scheduler } from '../scheduler/scheduler.js';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../api/build-app.js';
import { createIdentity } from '../engine/auth/index.js';
import { JobProducer } from '../engine/producer.js';
import { builtinTasks } from '../worker/tasks/index.js';
import { createMetrics, observeScheduler, observeWorker, type Metrics } from './metrics.js';
import { createWorker, type Worker } from '../worker/worker.js';

/** A running Jobplane process. */
export interface RunningJobplane {
  databaseUrl: string;
  pool: Pool;
  scheduler: Scheduler | null;
  worker: Worker | null;
  /** The API's address when the api role runs, e.g. http://127.0.0.1:8080. */
  url: string | null;
  /** Graceful stop of every role, then the embedded database. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Open the database (embedded when no URL is configured), migrate under a lock, and start the
 * configured roles. Nothing falls back silently: without a reachable database this throws.
 */
export async function startJobplane(config: Config, logger: Logger, options: { signal?: AbortSignal } = {}): Promise<RunningJobplane> {
  let embedded: EmbeddedPostgres | null = null;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, ephemeral: config.ephemeral, logger });
    databaseUrl = embedded.connectionString;
    logger.info({ dataDir: embedded.dataDir, ephemeral: config.ephemeral }, 'embedded PostgreSQL started');
  }
  const pool = createPool({ connectionString: databaseUrl, max: config.dbPoolMax, logger });
  let scheduler: Scheduler | null = null;
  let worker: Worker | null = null;
  let api: { app: FastifyInstance; producer: JobProducer; url: string } | null = null;
  const metrics = createMetrics(pool);
  try {
    const { applied } = await untilReachable(() => migrate(pool, logger), logger, options.signal);
    if (applied.length > 0) logger.info({ applied }, 'database migrated');
    if (config.roles.includes('scheduler')) {
      scheduler = createScheduler({
        pool,
        logger,
        leaderTtlMs: config.leaderTtlMs,
        cancelGraceMs: config.cancelGraceMs,
        retentionCompletedMs: config.retentionCompletedMs,
        retentionFailedMs: config.retentionFailedMs,
        workerStaleMs: config.leaseMs * 1.5,
      });
      observeScheduler(metrics, scheduler);
      await scheduler.start();
    }
    if (config.roles.includes('worker') && config.workerTasks.length > 0) {
      worker = createWorker({
        pool,
        logger,
        tasks: builtinTasks(config.workerTasks, {
          http: { allowPrivateNetworks: config.httpAllowPrivate, allowedHosts: [...config.httpAllowedHosts] },
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
      });
      observeWorker(metrics, worker);
      await worker.start();
    }
    if (config.roles.includes('api')) api = await startApi(config, pool, logger, metrics);
  } catch (error) {
    await worker?.stop().catch(() => undefined);
    await scheduler?.stop().catch(() => undefined);
    await pool.end().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    throw error;
  }
  let stopping: Promise<void> | null = null;
  return {
    databaseUrl,
    pool,
    scheduler,
    worker,
    url: api?.url ?? null,
    stop() {
      stopping ??= (async () => {
        // Stop taking requests first, then drain the roles.
        await api?.app.close();
        await Promise.allSettled([worker?.stop(), scheduler?.stop(), api?.producer.close()]);
        await pool.end();
        await embedded?.stop();
      })();
      return stopping;
    },
  };
}

/**
 * Run `fn` until the database answers: a server that is not up yet (or restarting) is reported
 * and retried with backoff, never replaced by something else. Other errors end the start.
 */
async function untilReachable<T>(fn: () => Promise<T>, logger: Logger, signal?: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!isConnectionError(error) || signal?.aborted) throw error;
      const waitMs = Math.min(10_000, 250 * 2 ** Math.min(attempt, 6));
      logger.warn({ err: (error as Error).message, attempt, retryInMs: waitMs }, 'database not reachable; not ready, retrying');
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}

/**
 * The api role: on the first start with no users, create the admin (printing a generated password
 * once), then listen.
 */
async function startApi(config: Config, pool: Pool, logger: Logger, metrics: Metrics): Promise<{ app: FastifyInstance; producer: JobProducer; url: string }> {
  const identity = createIdentity({
    pool,
    logger,
    jwtSecret: config.jwtSecret ?? undefined,
    apiKeyPepper: config.apiKeyPepper ?? undefined,
    accessTtlS: Math.round(config.accessTokenTtlMs / 1000),
  });
  const boot = await identity.bootstrap(config.adminPassword ? { adminPassword: config.adminPassword } : {});
  if (boot.created) {
    logger.info({ username: boot.user.username }, 'created the first admin user');
    if (boot.generatedPassword) {
      // Printed once, on stdout, outside the JSON log: it is stored only as an argon2id hash.
      process.stdout.write(`\n  First start: log in as "admin" with password ${boot.generatedPassword}\n  (set JOBPLANE_ADMIN_PASSWORD to choose it; this is shown only once)\n\n`);
    }
  }
  const producer = new JobProducer(pool, { logger });
  const app = await buildApp({ pool, producer, identity, logger, metrics, workerStaleMs: config.leaseMs * 1.5 });
  await app.listen({ port: config.port, host: config.host });
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
  logger.info({ url, docs: `${url}/api/docs` }, 'API listening');
  return { app, producer, url };
}
