/**
 * pg-boss 12 worker entry, run inside a child process by bench/lib/worker-process.ts.
 *
 * pg-boss 12's own knobs for throughput (its typings document them; pgboss.io/api/workers):
 *   - `localConcurrency`: how many polling workers one work() call spawns in this process
 *     (pg-boss 10 had no such option: the driver called work() that many times);
 *   - `batchSize`: jobs fetched (and locked) per fetch, handed to the handler as one array;
 *   - `burstWhenBatchFull`: while a fetch comes back full, fetch again at once instead of
 *     sleeping the polling interval (the driver did this by hand with notifyWorker() on pg-boss 10);
 *   - `useListenNotify` on the instance plus `notify: true` on the queue (pg-boss.ts creates it so):
 *     a job inserted wakes the workers at once; polling stays as a backstop, every
 *     `notifyPollingIntervalSeconds`, or `pollingIntervalSeconds` (minimum 0.5 s) without NOTIFY.
 *
 * Default configuration — chosen to match graphile-worker's on the two axes that matter for a
 * fair comparison (see bench/README.md, "Fairness"):
 *   - fetch-ahead: at most 100 jobs fetched (locked) per process, like graphile's localQueue.size 100:
 *     one worker (localConcurrency 1) with batchSize 100;
 *   - concurrency: at most `concurrency` (10) handlers running at once per process (a small semaphore
 *     over the jobs of a batch; a batch completes in one statement once all its handlers resolved);
 *   - burstWhenBatchFull on, LISTEN/NOTIFY on, pollingIntervalSeconds 0.5 (the minimum);
 *   - no maintenance, cron, instance registry or OpenTelemetry instruments during the run.
 *
 * Environment overrides (or use the `pg-boss@<loops>x<batch>` variants, see pg-boss.ts):
 *   BENCH_PGBOSS_LOOPS   localConcurrency: polling workers per process   (default 1)
 *   BENCH_PGBOSS_BATCH   batchSize of each worker                        (default 100)
 *   BENCH_PGBOSS_POLL    pollingIntervalSeconds                          (default 0.5, the minimum)
 *   BENCH_PGBOSS_REFILL  1 = burstWhenBatchFull, 0 = always wait the interval (default 1)
 *   BENCH_PGBOSS_NOTIFY  1 = LISTEN/NOTIFY wake-ups, 0 = polling only  (default 1)
 */
import { PgBoss } from 'pg-boss';
import type { BenchWorkerEntry } from '../lib/driver.js';
import { BENCH_TASK } from '../lib/driver.js';

type Env = Record<string, string | undefined>;

function envNum(env: Env, name: string, fallback: number): number {
  const v = env[name];
  return v === undefined || v === '' ? fallback : Number(v);
}

/** The worker's settings for a given concurrency, read from `env` (the process environment by default). */
export function pgBossSettings(concurrency: number, env: Env = process.env) {
  const loops = envNum(env, 'BENCH_PGBOSS_LOOPS', 1);
  return {
    localConcurrency: loops,
    batchSize: envNum(env, 'BENCH_PGBOSS_BATCH', 100),
    pollingIntervalSeconds: envNum(env, 'BENCH_PGBOSS_POLL', 0.5),
    burstWhenBatchFull: envNum(env, 'BENCH_PGBOSS_REFILL', 1) === 1,
    useListenNotify: envNum(env, 'BENCH_PGBOSS_NOTIFY', 1) === 1,
    maxConcurrentHandlers: concurrency,
    // Like graphile's maxPoolSize = max(10, concurrency + 2): pg's default pool size (10) or more.
    poolMax: Math.max(10, loops + 2),
    supervise: false,
    schedule: false,
    registerInstance: false,
    openTelemetry: false,
  };
}

/** A tiny counting semaphore; a released slot is handed straight to the next waiter. */
class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly max: number) {}
  /** Run `fn` once fewer than `max` runs are in progress; resolves with its result. */
  async run<T>(fn: () => T | Promise<T>): Promise<T> {
    if (this.active < this.max) this.active++;
    else await new Promise<void>((r) => this.waiting.push(r));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

export const worker: BenchWorkerEntry = {
  async start({ databaseUrl, concurrency, onJob }) {
    const s = pgBossSettings(concurrency);
    const boss = new PgBoss({
      connectionString: databaseUrl,
      max: s.poolMax,
      supervise: s.supervise,
      schedule: s.schedule,
      registerInstance: s.registerInstance,
      openTelemetry: { enabled: s.openTelemetry },
      useListenNotify: s.useListenNotify,
      migrate: false,
    });
    boss.on('error', (err) => console.error('[pg-boss error]', err.message));
    await boss.start();
    const limiter = new Limiter(s.maxConcurrentHandlers);
    await boss.work<{ t?: number }>(
      BENCH_TASK,
      {
        localConcurrency: s.localConcurrency,
        batchSize: s.batchSize,
        pollingIntervalSeconds: s.pollingIntervalSeconds,
        burstWhenBatchFull: s.burstWhenBatchFull,
      },
      async (jobs) => {
        await Promise.all(jobs.map((job) => limiter.run(() => onJob(job.data ?? {}))));
      },
    );
    return {
      async stop() {
        await boss.stop({ graceful: true, timeout: 5000 });
      },
    };
  },
};
