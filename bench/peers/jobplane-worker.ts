/**
 * Jobplane's worker entry for benchmark child processes. Settings come from the environment so
 * run-all can record them: JOBPLANE_BENCH_PREFETCH (jobs claimed ahead of free slots).
 */
import { createWorker } from '../../src/worker/worker.js';
import type { BenchWorkerEntry } from '../lib/driver.js';
import { BENCH_TASK } from '../lib/driver.js';

/** The worker settings used for a given concurrency (copied into the results). */
export function jobplaneWorkerSettings(concurrency: number): Record<string, unknown> {
  return { concurrency, prefetch: Number(process.env.JOBPLANE_BENCH_PREFETCH ?? 100), pollIntervalMs: 2000, leaseMs: 30_000 };
}

export const worker: BenchWorkerEntry = {
  async start({ databaseUrl, concurrency, onJob }) {
    const settings = jobplaneWorkerSettings(concurrency);
    const w = createWorker({
      databaseUrl,
      concurrency,
      prefetch: settings.prefetch as number,
      tasks: {
        [BENCH_TASK]: (payload: { t?: number }) => {
          onJob(payload);
          return null;
        },
      },
    });
    await w.start();
    return { stop: () => w.stop() };
  },
};
