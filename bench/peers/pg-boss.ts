/**
 * pg-boss 12 as a benchmark system.
 *
 * - setup: `start()` with migrate installs the pgboss schema, then `createQueue(name, { notify })`
 *   (a queue must exist before jobs are sent; `notify: true` makes every insert that has a job
 *   ready now send one NOTIFY, which wakes workers started with `useListenNotify`);
 * - bulk enqueue: `insert(name, jobs)` (one multi-row INSERT per batch);
 * - single enqueue: `send()` (one INSERT = one commit, plus its NOTIFY when the queue notifies);
 * - remaining: jobs of the queue in state created, retry or active, counted in `pgboss.job`
 *   (pg-boss 12 dropped `getQueueSize()`; its `getQueue()`/`getQueueStats()` counts are cached).
 *
 * Worker settings live in pg-boss-worker.ts. `pgBossVariant('pg-boss@10x50')` builds the same
 * system with other worker settings, for the configuration sensitivity runs in the README.
 */
import { PgBoss } from 'pg-boss';
import type { JobInsert } from 'pg-boss';
import type { BenchProducer, BenchSystem } from '../lib/driver.js';
import { BENCH_TASK, PRODUCER_POOL_SIZE } from '../lib/driver.js';
import { pgBossSettings } from './pg-boss-worker.js';

const WORKER_MODULE = `${new URL('./pg-boss-worker.ts', import.meta.url).href}#worker`;
const quiet = { supervise: false, schedule: false, registerInstance: false, openTelemetry: { enabled: false } } as const;

/** Stop an instance and close its pool; resolves once the pool has ended. */
async function stopBoss(boss: PgBoss): Promise<void> {
  await boss.stop({ graceful: false, timeout: 1000 });
}

/** Counts what `remaining()` reports: the queue's jobs not yet completed (the job_state enum is ordered). */
const REMAINING_SQL = `SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state < 'completed'`;

/** Install the schema and create the bench queue, NOTIFY on insert as the worker settings in `env` say. */
async function setupWith(databaseUrl: string, env: Record<string, string | undefined>): Promise<void> {
  const boss = new PgBoss({ connectionString: databaseUrl, migrate: true, ...quiet });
  boss.on('error', (err) => console.error('[pg-boss error]', err.message));
  await boss.start();
  try {
    await boss.createQueue(BENCH_TASK, { notify: pgBossSettings(10, env).useListenNotify });
  } finally {
    await stopBoss(boss);
  }
}

async function producer(databaseUrl: string): Promise<BenchProducer> {
  const boss = new PgBoss({ connectionString: databaseUrl, max: PRODUCER_POOL_SIZE, migrate: false, ...quiet });
  boss.on('error', (err) => console.error('[pg-boss error]', err.message));
  await boss.start();
  return {
    async bulkEnqueue(count, batchSize, runAt) {
      for (let done = 0; done < count; done += batchSize) {
        const n = Math.min(batchSize, count - done);
        const jobs: JobInsert[] = [];
        for (let i = 0; i < n; i++) jobs.push(runAt ? { data: {}, startAfter: runAt } : { data: {} });
        await boss.insert(BENCH_TASK, jobs);
      }
    },
    async enqueueOne(payload) {
      await boss.send(BENCH_TASK, payload);
    },
    async remaining() {
      const { rows } = await boss.getDb().executeSql(REMAINING_SQL, [BENCH_TASK]);
      return Number((rows[0] as { n?: number } | undefined)?.n ?? 0);
    },
    async close() {
      await stopBoss(boss);
    },
  };
}

export const pgBoss: BenchSystem = {
  name: 'pg-boss',
  workerModule: WORKER_MODULE,
  config: { worker: pgBossSettings(10), producerPoolSize: PRODUCER_POOL_SIZE },
  setup: (databaseUrl) => setupWith(databaseUrl, process.env),
  producer,
};

/**
 * A worker-configuration variant named `pg-boss@<loops>x<batch>[-norefill][-nonotify]`, e.g.
 * `pg-boss@10x50`: that many polling workers per process (`localConcurrency`), each with that
 * batchSize; `-norefill` turns off `burstWhenBatchFull` (every fetch waits the polling interval),
 * `-nonotify` turns off LISTEN/NOTIFY (the queue sends none, the workers only poll). Selectable
 * with `--systems pg-boss@10x50` in every script; undefined for any other name.
 */
export function pgBossVariant(name: string): BenchSystem | undefined {
  const m = /^pg-boss@(\d+)x(\d+)(-norefill)?(-nonotify)?$/.exec(name);
  if (!m) return undefined;
  const workerEnv = {
    BENCH_PGBOSS_LOOPS: m[1]!,
    BENCH_PGBOSS_BATCH: m[2]!,
    BENCH_PGBOSS_REFILL: m[3] ? '0' : '1',
    BENCH_PGBOSS_NOTIFY: m[4] ? '0' : '1',
  };
  const env = { ...process.env, ...workerEnv };
  return {
    name,
    workerModule: WORKER_MODULE,
    config: { worker: pgBossSettings(10, env), producerPoolSize: PRODUCER_POOL_SIZE },
    workerEnv,
    setup: (databaseUrl) => setupWith(databaseUrl, env),
    producer,
  };
}
