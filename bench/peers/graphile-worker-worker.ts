/**
 * graphile-worker 0.18 worker entry, run inside a child process by bench/lib/worker-process.ts.
 *
 * Configured for throughput as documented in https://worker.graphile.org/docs/performance
 * ("Batching"): a local queue that locks and pulls jobs in batches, batched completion and
 * failure, prepared statements on. Overridable by environment for experiments:
 *   BENCH_GW_LOCAL_QUEUE (default 100; -1 disables), BENCH_GW_COMPLETE_DELAY (default 0; -1 disables),
 *   BENCH_GW_POLL_INTERVAL (default 2000 ms, graphile's default; new jobs arrive by LISTEN/NOTIFY).
 */
import { Logger, run } from 'graphile-worker';
import type { BenchWorkerEntry } from '../lib/driver.js';
import { BENCH_TASK } from '../lib/driver.js';

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  return v === undefined || v === '' ? fallback : Number(v);
}

/** Settings used by the worker entry; also copied into the results. */
export function graphileWorkerSettings(concurrency: number) {
  const localQueueSize = envInt('BENCH_GW_LOCAL_QUEUE', 100);
  const completeDelay = envInt('BENCH_GW_COMPLETE_DELAY', 0);
  return {
    concurrentJobs: concurrency,
    // The docs recommend max(10, concurrentJobs + 2).
    maxPoolSize: Math.max(10, concurrency + 2),
    pollInterval: envInt('BENCH_GW_POLL_INTERVAL', 2000),
    preparedStatements: true,
    localQueue: { size: localQueueSize },
    completeJobBatchDelay: completeDelay,
    failJobBatchDelay: completeDelay,
  };
}

/** Errors and warnings to stderr; graphile logs every completed job at info level, which would cost CPU. */
export const quietLogger = new Logger(() => (level, message) => {
  const l = level as string;
  if (l === 'error' || l === 'warning') console.error(`[graphile-worker ${l}] ${message}`);
});

export const worker: BenchWorkerEntry = {
  async start({ databaseUrl, concurrency, onJob }) {
    const s = graphileWorkerSettings(concurrency);
    const runner = await run({
      connectionString: databaseUrl,
      concurrency: s.concurrentJobs,
      maxPoolSize: s.maxPoolSize,
      pollInterval: s.pollInterval,
      noHandleSignals: true,
      // BENCH_GW_CONSOLE_LOG=1 keeps graphile's default console logger (one line per completed job), for diagnosis.
      ...(process.env['BENCH_GW_CONSOLE_LOG'] === '1' ? {} : { logger: quietLogger }),
      crontab: '',
      taskList: {
        [BENCH_TASK]: (payload) => {
          onJob((payload ?? {}));
        },
      },
      preset: {
        worker: {
          preparedStatements: s.preparedStatements,
          localQueue: s.localQueue,
          completeJobBatchDelay: s.completeJobBatchDelay,
          failJobBatchDelay: s.failJobBatchDelay,
        },
      },
    });
    return {
      stop: () => runner.stop(),
    };
  },
};
