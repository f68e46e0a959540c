/**
 * graphile-worker 0.18 as a benchmark system.
 *
 * - setup: `runMigrations()` installs the graphile_worker schema;
 * - bulk enqueue: `makeWorkerUtils().addJobs()` (one `add_jobs()` call per batch);
 * - single enqueue: `addJob()` (one `add_job()` call = one commit + NOTIFY);
 * - remaining: rows left in graphile_worker._private_jobs (completed jobs are deleted).
 *
 * The pools are created here rather than by graphile-worker: its release() does not wait for
 * pool.end() and removes the pool's error handler, so a database dropped right afterwards
 * would crash the process with an unhandled 'error' event.
 */
import pg from 'pg';
import { makeWorkerUtils, runMigrations } from 'graphile-worker';
import type { AddJobsJobSpec } from 'graphile-worker';
import type { BenchProducer, BenchSystem } from '../lib/driver.js';
import { BENCH_TASK, PRODUCER_POOL_SIZE } from '../lib/driver.js';
import { graphileWorkerSettings, quietLogger } from './graphile-worker-worker.js';

function makePool(connectionString: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString, max });
  const onError = (err: Error) => console.error('[graphile-worker producer pool]', err.message);
  pool.on('error', onError);
  pool.on('connect', (client) => client.on('error', onError));
  return pool;
}

export const graphileWorker: BenchSystem = {
  name: 'graphile-worker',
  workerModule: `${new URL('./graphile-worker-worker.ts', import.meta.url).href}#worker`,
  config: { worker: graphileWorkerSettings(10), producerPoolSize: PRODUCER_POOL_SIZE },

  async setup(databaseUrl) {
    const pool = makePool(databaseUrl, 2);
    try {
      await runMigrations({ pgPool: pool, logger: quietLogger });
    } finally {
      await pool.end();
    }
  },

  async producer(databaseUrl): Promise<BenchProducer> {
    const pool = makePool(databaseUrl, PRODUCER_POOL_SIZE);
    const utils = await makeWorkerUtils({ pgPool: pool, logger: quietLogger });
    return {
      async bulkEnqueue(count, batchSize, runAt) {
        for (let done = 0; done < count; done += batchSize) {
          const n = Math.min(batchSize, count - done);
          const specs: AddJobsJobSpec[] = [];
          for (let i = 0; i < n; i++) {
            specs.push(runAt ? { identifier: BENCH_TASK, payload: {}, runAt } : { identifier: BENCH_TASK, payload: {} });
          }
          await utils.addJobs(specs);
        }
      },
      async enqueueOne(payload) {
        await utils.addJob(BENCH_TASK, payload);
      },
      async remaining() {
        return utils.withPgClient(async (client) => {
          const { rows } = await client.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM graphile_worker._private_jobs',
          );
          return rows[0]?.n ?? 0;
        });
      },
      async close() {
        await utils.release();
        await pool.end();
      },
    };
  },
};

/**
 * Configuration variant `graphile-worker@delayN`: completions batched over N ms
 * (`completeJobBatchDelay`/`failJobBatchDelay`). The quoted graphile figures ("batched
 * completion") match delay 250 on this machine; delay 0 is graphile's fastest setting here.
 */
export function graphileWorkerVariant(name: string): BenchSystem | undefined {
  const m = /^graphile-worker@delay(\d+)$/.exec(name);
  if (!m) return undefined;
  const workerEnv = { BENCH_GW_COMPLETE_DELAY: m[1]! };
  const previous = process.env.BENCH_GW_COMPLETE_DELAY;
  process.env.BENCH_GW_COMPLETE_DELAY = m[1]!;
  const settings = graphileWorkerSettings(10);
  if (previous === undefined) delete process.env.BENCH_GW_COMPLETE_DELAY;
  else process.env.BENCH_GW_COMPLETE_DELAY = previous;
  return { ...graphileWorker, name, workerEnv, config: { worker: settings, producerPoolSize: PRODUCER_POOL_SIZE } };
}
