import client from 'prom-client';
import type { Pool } from '../db/pool.js';
import { countActiveJobs } from '../db/queries/job-admin.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { Worker } from '../worker/worker.js';

/** The Prometheus metrics of one process. */
export interface Metrics {
  registry: client.Registry;
  httpDuration: client.Histogram<'method' | 'route' | 'status'>;
  enqueueToStart: client.Histogram<'queue' | 'task'>;
  runTime: client.Histogram<'queue' | 'task' | 'outcome'>;
  claims: client.Counter;
  claimedJobs: client.Counter;
  leaseLost: client.Counter;
  rescued: client.Counter;
  /** Counts of parked remote-worker long-polls, summed into a gauge at scrape time (one per API app). */
  remoteClaimsWaiting: Set<() => number>;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * Create this process's registry. Job counts are read from the database at scrape time (cached
 * for 5 s, only the small per-status indexes of unfinished jobs); labels carry queue and status,
 * never tenant ids, because /metrics is not tenant-scoped.
 */
export function createMetrics(pool: Pool): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'jobplane_process_' });
  let cache: { at: number; rows: Awaited<ReturnType<typeof countActiveJobs>> } = { at: 0, rows: [] };
  new client.Gauge({
    name: 'jobplane_jobs',
    help: 'Jobs not finished yet, by queue and status',
    labelNames: ['queue', 'status'],
    registers: [registry],
    async collect() {
      if (Date.now() - cache.at > 5000) cache = { at: Date.now(), rows: await countActiveJobs(pool) };
      this.reset();
      const sums = new Map<string, number>();
      for (const r of cache.rows) sums.set(`${r.queue}\u0000${r.status}`, (sums.get(`${r.queue}\u0000${r.status}`) ?? 0) + r.count);
      for (const [key, count] of sums) {
        const [queue, status] = key.split('\u0000') as [string, string];
        this.set({ queue, status }, count);
      }
    },
  });
  const remoteClaimsWaiting = new Set<() => number>();
  new client.Gauge({
    name: 'jobplane_remote_claims_waiting',
    help: 'Remote-worker claim long-polls parked in this process, waiting for a job',
    registers: [registry],
    collect() {
      let n = 0;
      for (const source of remoteClaimsWaiting) n += source();
      this.set(n);
    },
  });
  return {
    registry,
    remoteClaimsWaiting,
    httpDuration: new client.Histogram({ name: 'jobplane_http_request_duration_seconds', help: 'API request duration', labelNames: ['method', 'route', 'status'], buckets: LATENCY_BUCKETS, registers: [registry] }),
    enqueueToStart: new client.Histogram({ name: 'jobplane_job_enqueue_to_start_seconds', help: 'From the moment a job was due to the start of its attempt (workers in this process)', labelNames: ['queue', 'task'], buckets: LATENCY_BUCKETS, registers: [registry] }),
    runTime: new client.Histogram({ name: 'jobplane_job_run_seconds', help: 'Handler run time per attempt (workers in this process)', labelNames: ['queue', 'task', 'outcome'], buckets: LATENCY_BUCKETS, registers: [registry] }),
    claims: new client.Counter({ name: 'jobplane_claims_total', help: 'Claim statements that returned jobs', registers: [registry] }),
    claimedJobs: new client.Counter({ name: 'jobplane_claimed_jobs_total', help: 'Jobs claimed', registers: [registry] }),
    leaseLost: new client.Counter({ name: 'jobplane_lease_lost_total', help: 'Attempts whose worker found its lease gone', registers: [registry] }),
    rescued: new client.Counter({ name: 'jobplane_lease_expiries_total', help: 'Running jobs rescued after their lease expired (scheduler leader in this process)', registers: [registry] }),
  };
}

/** Feed a worker's events into the metrics. */
export function observeWorker(metrics: Metrics, worker: Worker): void {
  const started = new Map<string, number>();
  worker.events.on('job:start', (job) => {
    const now = Date.now();
    started.set(`${job.id}:${job.leaseToken}`, now);
    const due = Math.max(job.createdAt.getTime(), job.runAt.getTime());
    metrics.enqueueToStart.observe({ queue: job.queue, task: job.task }, Math.max(0, now - due) / 1000);
  });
  worker.events.on('job:end', ({ job, outcome }) => {
    const key = `${job.id}:${job.leaseToken}`;
    const at = started.get(key);
    started.delete(key);
    if (at !== undefined) metrics.runTime.observe({ queue: job.queue, task: job.task, outcome }, (Date.now() - at) / 1000);
  });
  worker.events.on('claimed', ({ count }) => {
    metrics.claims.inc();
    metrics.claimedJobs.inc(count);
  });
  worker.events.on('lease-lost', () => metrics.leaseLost.inc());
}

/** Feed a scheduler's events into the metrics. */
export function observeScheduler(metrics: Metrics, scheduler: Scheduler): void {
  scheduler.events.on('pass', ({ rescued }) => {
    if (rescued > 0) metrics.rescued.inc(rescued);
  });
}
