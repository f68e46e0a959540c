import client from 'prom-client';
import type { Clock } from '../core/deps.js';
import { systemClock } from '../engine/clock.js';
import type { Pool } from '../db/pool.js';
import { countActiveJobs } from '../db/queries/job-admin.js';
import type { DatabaseHealth } from '../engine/database-health.js';
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
  /** How long a lease had been expired when the rescuer took the job back (kill → re-run is lease + this + a claim). */
  rescueLag: client.Histogram;
  leaderChanges: client.Counter<'change'>;
  leader: client.Gauge;
  databaseUp: client.Gauge;
  databaseReadOnly: client.Gauge;
  databaseReconnects: client.Counter;
  /** Counts of parked remote-worker long-polls, summed into a gauge at scrape time (one per API app). */
  remoteClaimsWaiting: Set<() => number>;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * Create this process's registry. Job counts are read from the database at scrape time (cached
 * for 5 s, only the small per-status indexes of unfinished jobs); labels carry queue and status,
 * never tenant ids, because /metrics is not tenant-scoped.
 */
export function createMetrics(pool: Pool, clock: Clock = systemClock): Metrics {
  const registry = new client.Registry();
  // Node's default metrics already start with process_ / nodejs_: jobplane_process_cpu_user_seconds_total.
  client.collectDefaultMetrics({ register: registry, prefix: 'jobplane_' });
  let cache: { at: number; rows: Awaited<ReturnType<typeof countActiveJobs>> } = { at: 0, rows: [] };
  new client.Gauge({
    name: 'jobplane_jobs',
    help: 'Jobs not finished yet, by queue and status',
    labelNames: ['queue', 'status'],
    registers: [registry],
    async collect() {
      if (clock.nowMs() - cache.at > 5000) cache = { at: clock.nowMs(), rows: await countActiveJobs(pool) };
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
    rescued: new client.Counter({ name: 'jobplane_lease_expiries_total', help: 'Running jobs rescued after their lease expired (maintenance leader in this process)', registers: [registry] }),
    rescueLag: new client.Histogram({ name: 'jobplane_rescue_lag_seconds', help: 'How long a lease had been expired when the rescuer took the job back (maintenance leader in this process)', buckets: LATENCY_BUCKETS, registers: [registry] }),
    leaderChanges: new client.Counter({ name: 'jobplane_leader_changes_total', help: 'This process became (elected) or stopped being (demoted) the maintenance leader', labelNames: ['change'], registers: [registry] }),
    leader: new client.Gauge({ name: 'jobplane_leader', help: '1 while this process is the maintenance leader', registers: [registry] }),
    databaseUp: new client.Gauge({ name: 'jobplane_database_up', help: '1 while the last health ping of the database answered (read-only counts as up)', registers: [registry] }),
    databaseReadOnly: new client.Gauge({ name: 'jobplane_database_read_only', help: '1 while the database answers but refuses writes (a standby, default_transaction_read_only)', registers: [registry] }),
    databaseReconnects: new client.Counter({ name: 'jobplane_database_reconnects_total', help: 'Times the database came back after a health ping found it down', registers: [registry] }),
  };
}

/** Feed a worker's events into the metrics. */
export function observeWorker(metrics: Metrics, worker: Worker, clock: Clock = systemClock): void {
  const started = new Map<string, number>();
  worker.events.on('job:start', (job) => {
    const now = clock.nowMs();
    started.set(`${job.id}:${job.leaseToken}`, now);
    const due = Math.max(job.createdAt.getTime(), job.runAt.getTime());
    metrics.enqueueToStart.observe({ queue: job.queue, task: job.task }, Math.max(0, now - due) / 1000);
  });
  worker.events.on('job:end', ({ job, outcome }) => {
    const key = `${job.id}:${job.leaseToken}`;
    const at = started.get(key);
    started.delete(key);
    if (at !== undefined) metrics.runTime.observe({ queue: job.queue, task: job.task, outcome }, (clock.nowMs() - at) / 1000);
  });
  worker.events.on('claimed', ({ count }) => {
    metrics.claims.inc();
    metrics.claimedJobs.inc(count);
  });
  worker.events.on('lease-lost', () => metrics.leaseLost.inc());
}

/** Feed a scheduler's (or a worker's maintenance candidate's) events into the metrics. */
export function observeScheduler(metrics: Metrics, scheduler: Scheduler): void {
  scheduler.events.on('rescued', ({ expiredForMs }) => {
    metrics.rescued.inc(expiredForMs.length);
    for (const ms of expiredForMs) metrics.rescueLag.observe(Math.max(0, ms) / 1000);
  });
  scheduler.events.on('elected', () => {
    metrics.leaderChanges.inc({ change: 'elected' });
    metrics.leader.set(1);
  });
  scheduler.events.on('demoted', () => {
    metrics.leaderChanges.inc({ change: 'demoted' });
    metrics.leader.set(0);
  });
}

/** Feed the database health monitor into the metrics. */
export function observeDatabaseHealth(metrics: Metrics, health: DatabaseHealth): void {
  let reconnectsSeen = health.reconnects;
  health.events.on('change', ({ to }) => {
    metrics.databaseUp.set(to === 'down' ? 0 : 1);
    metrics.databaseReadOnly.set(to === 'read-only' ? 1 : 0);
    if (to !== 'down' && health.reconnects > reconnectsSeen) {
      metrics.databaseReconnects.inc(health.reconnects - reconnectsSeen);
      reconnectsSeen = health.reconnects;
    }
  });
}
