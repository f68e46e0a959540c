/**
 * Jobplane as a benchmark system, through its public SDK pieces:
 * - bulk enqueue: `JobProducer.addMany` (one INSERT … json_to_recordset statement per batch,
 *   two batches in flight);
 * - single enqueue: `JobProducer.add`, the normal single-job call (group commit: concurrent calls
 *   share one commit; each promise resolves only after its job is committed);
 * - remaining: jobs not completed.
 *
 * Workers run Jobplane's defaults (jobplane-worker.ts); `jobplaneVariant('jobplane@prefetch100')`
 * is the same system with a prefetch set, under its own name so both run side by side.
 */
import { migrate } from '../../src/db/migrator.js';
import { createPool } from '../../src/db/pool.js';
import { JobProducer } from '../../src/engine/producer.js';
import type { BenchProducer, BenchSystem } from '../lib/driver.js';
import { BENCH_TASK, PRODUCER_POOL_SIZE } from '../lib/driver.js';
import { jobplaneWorkerSettings } from './jobplane-worker.js';

export const jobplane: BenchSystem = {
  name: 'jobplane',
  workerModule: `${new URL('./jobplane-worker.ts', import.meta.url).href}#worker`,
  config: { worker: jobplaneWorkerSettings(10), producerPoolSize: PRODUCER_POOL_SIZE, singleEnqueue: 'group commit' },

  async setup(databaseUrl) {
    const pool = createPool({ connectionString: databaseUrl, max: 2 });
    try {
      await migrate(pool);
    } finally {
      await pool.end();
    }
  },

  async producer(databaseUrl): Promise<BenchProducer> {
    const pool = createPool({ connectionString: databaseUrl, max: PRODUCER_POOL_SIZE });
    await pool.query('SELECT 1');
    const producer = new JobProducer(pool, { maxBatch: 1000 });
    return {
      async bulkEnqueue(count, batchSize, runAt) {
        // One addMany call: it splits into `batchSize` chunks (one statement and commit each) and
        // pipelines them over two connections — that is how Jobplane's bulk API works.
        const spec = runAt ? { task: BENCH_TASK, payload: {}, runAt } : { task: BENCH_TASK, payload: {} };
        const bulk = new JobProducer(pool, { maxBatch: batchSize });
        await bulk.addMany(Array.from({ length: count }, () => spec));
        await bulk.close();
      },
      async enqueueOne(payload) {
        await producer.add({ task: BENCH_TASK, payload });
      },
      async remaining() {
        const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobplane.jobs WHERE status <> 'completed'`);
        return rows[0]?.n ?? 0;
      },
      async close() {
        await producer.close();
        await pool.end();
      },
    };
  },
};

/**
 * Configuration variant `jobplane@prefetch<N>`: workers claim N jobs ahead of free slots
 * (JOBPLANE_BENCH_PREFETCH=N in their environment). Selectable with `--systems jobplane@prefetch100`
 * in every script; undefined for any other name.
 */
export function jobplaneVariant(name: string): BenchSystem | undefined {
  const m = /^jobplane@prefetch(\d+)$/.exec(name);
  if (!m) return undefined;
  const workerEnv = { JOBPLANE_BENCH_PREFETCH: m[1]! };
  return {
    ...jobplane,
    name,
    workerEnv,
    config: {
      ...jobplane.config,
      worker: jobplaneWorkerSettings(10, { ...process.env, ...workerEnv }),
    },
  };
}
