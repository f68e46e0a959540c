/**
 * pg-boss 10 worker entry, run inside a child process by bench/lib/worker-process.ts.
 *
 * pg-boss 10 removed teamSize/teamConcurrency; its maintainer's advice for concurrency is to call
 * work() several times (each call is one polling loop) and/or fetch batches (`batchSize`) and
 * run the jobs of a batch concurrently in the handler. pg-boss 10 has no LISTEN/NOTIFY: every
 * loop polls, at most every `pollingIntervalSeconds` (minimum 0.5 s) after a fetch that
 * returned jobs or not, unless the loop is woken with `notifyWorker(id)`.
 *
 * Default configuration — chosen to match graphile-worker's on the two axes that matter for a
 * fair comparison (see bench/README.md, "Fairness"):
 *   - fetch-ahead: at most 100 jobs fetched (locked) per process, like graphile's localQueue.size 100:
 *     one work() loop with batchSize 100;
 *   - concurrency: at most `concurrency` (10) handlers running at once per process (a small semaphore
 *     over the jobs of a batch, as the maintainer suggests for v10);
 *   - a loop whose fetch filled its batch calls `notifyWorker(ownId)` (documented: "bypass the job
 *     polling interval for this iteration in the loop") so a busy queue is fetched again at once;
 *     an idle queue is polled every 0.5 s (pollingIntervalSeconds minimum).
 * Of the settings with 100 jobs fetched ahead (10x10, 2x50, 1x100) 1x100 drains fastest.
 *
 * Environment overrides (or use the `pg-boss@<loops>x<batch>` variants, see pg-boss.ts):
 *   BENCH_PGBOSS_LOOPS   work() loops per process           (default 1)
 *   BENCH_PGBOSS_BATCH   batchSize of each loop              (default 100)
 *   BENCH_PGBOSS_POLL    pollingIntervalSeconds              (default 0.5, the minimum)
 *   BENCH_PGBOSS_REFILL  1 = re-fetch at once after a full batch, 0 = always wait the interval (default 1)
 */
import PgBoss from 'pg-boss';
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
    workLoops: loops,
    batchSize: envNum(env, 'BENCH_PGBOSS_BATCH', 100),
    pollingIntervalSeconds: envNum(env, 'BENCH_PGBOSS_POLL', 0.5),
    refillWhenBatchFull: envNum(env, 'BENCH_PGBOSS_REFILL', 1) === 1,
    maxConcurrentHandlers: concurrency,
    // Like graphile's maxPoolSize = max(10, concurrency + 2): pg's default pool size (10) or more.
    poolMax: Math.max(10, loops + 2),
    supervise: false,
    schedule: false,
  };
}

/** A tiny counting semaphore; a released slot is handed straight to the next waiter. */
class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly max: number) {}
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
      migrate: false,
    });
    boss.on('error', (err) => console.error('[pg-boss error]', err.message));
    await boss.start();
    const limiter = new Limiter(s.maxConcurrentHandlers);
    for (let i = 0; i < s.workLoops; i++) {
      let id = '';
      id = await boss.work<{ t?: number }>(
        BENCH_TASK,
        { batchSize: s.batchSize, pollingIntervalSeconds: s.pollingIntervalSeconds },
        async (jobs) => {
          if (s.refillWhenBatchFull && jobs.length >= s.batchSize && id) boss.notifyWorker(id);
          await Promise.all(jobs.map((job) => limiter.run(() => onJob(job.data ?? {}))));
        },
      );
    }
    return {
      async stop() {
        await boss.stop({ graceful: true, timeout: 5000, wait: true });
      },
    };
  },
};
