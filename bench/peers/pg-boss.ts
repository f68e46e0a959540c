/**
 * pg-boss 10 as a benchmark system.
 *
 * - setup: `start()` with migrate installs the pgboss schema; v10 requires `createQueue()`;
 * - bulk enqueue: `insert()` (one multi-row INSERT per batch);
 * - single enqueue: `send()` (one INSERT = one commit; pg-boss 10 sends no NOTIFY);
 * - remaining: `getQueueSize(name, { before: 'completed' })` (created + retry + active).
 *
 * Worker settings live in pg-boss-worker.ts. `pgBossVariant('pg-boss@10x50')` builds the same
 * system with other worker settings, for the configuration sensitivity runs in the README.
 */
import PgBoss from 'pg-boss';
import type { BenchProducer, BenchSystem } from '../lib/driver.js';
import { BENCH_TASK, PRODUCER_POOL_SIZE } from '../lib/driver.js';
import { pgBossSettings } from './pg-boss-worker.js';

const WORKER_MODULE = `${new URL('./pg-boss-worker.ts', import.meta.url).href}#worker`;
const quiet = { supervise: false, schedule: false } as const;

async function stopBoss(boss: PgBoss): Promise<void> {
  await boss.stop({ graceful: false, timeout: 1000, wait: true });
}

async function setup(databaseUrl: string): Promise<void> {
  const boss = new PgBoss({ connectionString: databaseUrl, migrate: true, ...quiet });
  boss.on('error', (err) => console.error('[pg-boss error]', err.message));
  await boss.start();
  try {
    await boss.createQueue(BENCH_TASK);
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
        const jobs: PgBoss.JobInsert[] = [];
        for (let i = 0; i < n; i++) {
          jobs.push(runAt ? { name: BENCH_TASK, data: {}, startAfter: runAt } : { name: BENCH_TASK, data: {} });
        }
        await boss.insert(jobs);
      }
    },
    async enqueueOne(payload) {
      await boss.send(BENCH_TASK, payload);
    },
    async remaining() {
      return boss.getQueueSize(BENCH_TASK, { before: 'completed' });
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
  setup,
  producer,
};

/**
 * A worker-configuration variant named `pg-boss@<loops>x<batch>[-norefill]`, e.g. `pg-boss@10x50`:
 * that many work() loops per process, each with that batchSize; `-norefill` turns off the
 * immediate re-fetch after a full batch. Selectable with `--systems pg-boss@10x50` in every script.
 */
export function pgBossVariant(name: string): BenchSystem | undefined {
  const m = /^pg-boss@(\d+)x(\d+)(-norefill)?$/.exec(name);
  if (!m) return undefined;
  const workerEnv = { BENCH_PGBOSS_LOOPS: m[1]!, BENCH_PGBOSS_BATCH: m[2]!, BENCH_PGBOSS_REFILL: m[3] ? '0' : '1' };
  return {
    name,
    workerModule: WORKER_MODULE,
    config: { worker: pgBossSettings(10, { ...process.env, ...workerEnv }), producerPoolSize: PRODUCER_POOL_SIZE },
    workerEnv,
    setup,
    producer,
  };
}
