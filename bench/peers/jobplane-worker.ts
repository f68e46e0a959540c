/**
 * Jobplane's worker entry for benchmark child processes. It runs Jobplane's defaults
 * (`createWorker` with nothing but concurrency and the task): prefetch 0, lease 30 s, poll 2 s,
 * the maintenance election on, as a deployment gets without tuning. The one setting that can be
 * changed comes from the environment, so a variant can set it and run-all can record it:
 * JOBPLANE_BENCH_PREFETCH (jobs claimed ahead of free slots); unset = Jobplane's default.
 */
import { DEFAULT_LEASE_MS, DEFAULT_POLL_INTERVAL_MS } from '../../src/core/defaults.js';
import { createWorker } from '../../src/worker/worker.js';
import type { BenchWorkerEntry } from '../lib/driver.js';
import { BENCH_TASK } from '../lib/driver.js';

type Env = Record<string, string | undefined>;

/** JOBPLANE_BENCH_PREFETCH as a number, or undefined when unset or empty (use Jobplane's default). Throws on anything else. */
export function prefetchFromEnv(env: Env = process.env): number | undefined {
  const v = env.JOBPLANE_BENCH_PREFETCH;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`JOBPLANE_BENCH_PREFETCH must be a whole number ≥ 0 (got ${v})`);
  return n;
}

/**
 * The worker settings used for a given concurrency, read from `env` (copied into the results):
 * `prefetch` is the number set by JOBPLANE_BENCH_PREFETCH, or 'default' when it is unset.
 */
export function jobplaneWorkerSettings(concurrency: number, env: Env = process.env): Record<string, unknown> {
  return {
    concurrency,
    prefetch: prefetchFromEnv(env) ?? 'default',
    pollIntervalMs: DEFAULT_POLL_INTERVAL_MS,
    leaseMs: DEFAULT_LEASE_MS,
    maintenance: 'default (on)',
  };
}

export const worker: BenchWorkerEntry = {
  async start({ databaseUrl, concurrency, onJob }) {
    const prefetch = prefetchFromEnv();
    const w = createWorker({
      databaseUrl,
      concurrency,
      ...(prefetch === undefined ? {} : { prefetch }),
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
