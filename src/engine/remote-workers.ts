/**
 * The remote-worker protocol's engine (docs/decisions.md #7): workers in any language
 * register, long-poll for jobs, renew their leases, stream output and report outcomes over HTTP.
 * Everything a remote worker does is scoped to the tenant of its API key and fenced by the job's
 * lease token, exactly like the in-process worker (`src/worker/`), with which it shares the
 * claimer, the lease keeper and the report batcher (`src/engine/attempts/`). HTTP-free: the
 * routes in `src/api/routes/remote-workers.ts` translate to and from it.
 */
import { nullEventSink, type EventSink } from '../core/live-events.js';
import { decideReportedFailure, type AttemptOutcome } from '../core/attempt-outcome.js';
import { type Clock, type Logger } from '../core/deps.js';
import { systemClock } from './clock.js';
import { DEFAULT_LEASE_MS, DEFAULT_WORKER_STALE_MS, heartbeatMsFor } from '../core/defaults.js';
import { checkJsonValue, DEFAULT_JSON_LIMITS, type JsonLimits } from '../core/validate.js';
import { uuidv7 } from '../db/ids.js';
import { NotificationListener } from '../db/listener.js';
import type { Pool } from '../db/pool.js';
import { getJob } from '../db/queries/job-admin.js';
import { JOBS_CHANNEL, recordOutput, type ClaimedJob, type ClaimFilter } from '../db/queries/jobs.js';
import { JobClaimer } from './claimer.js';
import { LeaseKeeper, ReportBatcher, reportOf, type PendingReport } from './attempts/index.js';
import { listLiveWorkers, markWorkerStopped, registerWorker } from '../db/queries/workers.js';
import { AppError } from '../errors/index.js';
import type { HeartbeatAnswer, RemoteFailure, RemoteJob, RemoteLogLine, RemoteRegistered, RemoteRegistration, ReportAnswer } from './remote-worker-protocol.js';

/** Options of {@link RemoteWorkerService}. */
export interface RemoteWorkerOptions {
  /** Where claims, outcomes and output are announced (live events). */
  liveEvents?: EventSink;
  pool: Pool;
  logger: Logger;
  /** Lease granted per claim and per heartbeat. @defaultValue 30000 */
  leaseMs?: number;
  /** How often workers are told to heartbeat. @defaultValue leaseMs / 3 */
  heartbeatMs?: number;
  /** A worker not heard from for this long is unknown to other API processes. @defaultValue 45000 */
  workerStaleMs?: number;
  /** Longest wait in a claim without a notification before the queue is looked at again. @defaultValue 1000 */
  recheckMs?: number;
  /** Largest stored result. @defaultValue 1 MiB */
  resultLimits?: JsonLimits;
  /** Random source for backoff jitter. @defaultValue Math.random */
  random?: () => number;
  /** Drives the long-poll deadlines and the times stamped on output and errors. @defaultValue the system clock */
  clock?: Clock;
}

export type { HeartbeatAnswer, RemoteFailure, RemoteJob, RemoteLogLine, RemoteRegistered, RemoteRegistration, ReportAnswer } from './remote-worker-protocol.js';

/** A registered worker as this process knows it. */
interface KnownWorker {
  id: string;
  tenantId: string;
  tasks: readonly string[];
  queues: readonly string[] | null;
  zone: string | null;
  capacity: number;
}

/** What is known about a job handed out: its tenant never changes; token/attempt of the last claim seen. */
interface KnownJob {
  tenantId: string;
  leaseToken: string;
  attempt: number;
}

/** A report whose HTTP request waits for the answer. */
interface WaitingReport extends PendingReport {
  resolve: (answer: ReportAnswer) => void;
  reject: (error: unknown) => void;
}

const MAX_KNOWN_JOBS = 100_000;

/**
 * Serves remote workers for one API process. One LISTEN connection per instance wakes every
 * waiting long-poll when jobs are enqueued; a periodic recheck covers lost notifications.
 * Call {@link close} at shutdown: waiting claims answer at once with no jobs.
 */
export class RemoteWorkerService {
  private readonly pool: Pool;
  private readonly logger: Logger;
  /** Lease granted per claim and heartbeat, in ms. */
  readonly leaseMs: number;
  /** Heartbeat interval told to workers, in ms. */
  readonly heartbeatMs: number;
  private readonly workerStaleMs: number;
  private readonly recheckMs: number;
  private readonly resultLimits: JsonLimits;
  private readonly random: () => number;
  private readonly clock: Clock;
  private readonly workers = new Map<string, KnownWorker>();
  private readonly jobs = new Map<string, KnownJob>();
  private readonly waiters = new Set<() => void>();
  private readonly claimer: JobClaimer;
  private readonly leases: LeaseKeeper;
  private readonly reports: ReportBatcher<WaitingReport>;
  private readonly liveEvents: EventSink;
  private listener: NotificationListener | null = null;
  private listening: Promise<void> | null = null;
  private closed = false;

  /** Long-polling claims parked right now, waiting for a job (a gauge in /metrics). */
  get waiting(): number {
    return this.waiters.size;
  }

  constructor(options: RemoteWorkerOptions) {
    this.pool = options.pool;
    this.logger = options.logger;
    this.clock = options.clock ?? systemClock;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.liveEvents = options.liveEvents ?? nullEventSink;
    this.claimer = new JobClaimer(this.pool, this.leaseMs, this.clock, this.liveEvents);
    this.heartbeatMs = options.heartbeatMs ?? heartbeatMsFor(this.leaseMs);
    this.leases = new LeaseKeeper(this.pool, this.leaseMs);
    this.reports = new ReportBatcher<WaitingReport>({
      pool: this.pool,
      clock: this.clock,
      events: this.liveEvents,
      onRecorded: (item, status) => {
        if (status !== null) this.jobs.delete(item.report.id);
        item.resolve({ accepted: status !== null, status });
      },
      onError: () => undefined,
      // The worker is waiting for the answer: it retries, not this process.
      keepTrying: () => false,
      onRejected: (item, error) => item.reject(error),
    });
    this.workerStaleMs = options.workerStaleMs ?? DEFAULT_WORKER_STALE_MS;
    this.recheckMs = options.recheckMs ?? 1000;
    this.resultLimits = options.resultLimits ?? DEFAULT_JSON_LIMITS;
    this.random = options.random ?? Math.random;
  }

  /** Register a remote worker of `tenantId`; the id is new on every registration. */
  async register(tenantId: string, reg: RemoteRegistration): Promise<RemoteRegistered> {
    const id = uuidv7();
    const queues = reg.queues && reg.queues.length > 0 ? [...reg.queues] : null;
    await registerWorker(this.pool, {
      id,
      tenantId,
      name: reg.name,
      kind: 'remote',
      zone: reg.zone ?? null,
      tasks: [...reg.tasks],
      queues,
      labels: reg.labels ?? null,
      concurrency: reg.capacity,
      hostname: reg.hostname ?? null,
      pid: null,
      version: reg.version ?? null,
    });
    this.workers.set(id, { id, tenantId, tasks: [...reg.tasks], queues, zone: reg.zone ?? null, capacity: reg.capacity });
    return { workerId: id, leaseMs: this.leaseMs, heartbeatMs: this.heartbeatMs };
  }

  /**
   * Claim up to `max` jobs (never more than the worker's capacity) for a worker of `tenantId`.
   * When none is due, wait up to `waitMs` for one: woken by enqueue notifications, rechecking
   * every second, and ending early when `signal` aborts (the client went away) or at shutdown.
   * Jobs claimed after the signal aborted are released at once, without burning an attempt.
   */
  async claim(tenantId: string, workerId: string, max: number, waitMs: number, signal?: AbortSignal): Promise<RemoteJob[]> {
    const worker = await this.worker(tenantId, workerId);
    const limit = Math.max(1, Math.min(max, worker.capacity));
    const deadline = this.clock.nowMs() + Math.max(0, waitMs);
    if (waitMs > 0) await this.listen();
    for (;;) {
      // Register interest before looking, so a notification between the claim and the wait is not missed.
      let woken = false;
      let wake: () => void = () => {
        woken = true;
      };
      const waiter = () => wake();
      this.waiters.add(waiter);
      try {
        const jobs = await this.claimNow(worker, limit);
        if (jobs.length > 0) {
          if (signal?.aborted) {
            await this.release(jobs);
            return [];
          }
          return jobs.map((job) => this.handOut(job));
        }
        const left = deadline - this.clock.nowMs();
        if (left <= 0 || this.closed || signal?.aborted) return [];
        if (!woken) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(done, Math.min(left, this.recheckMs));
            function done(): void {
              clearTimeout(timer);
              signal?.removeEventListener('abort', done);
              resolve();
            }
            wake = done;
            signal?.addEventListener('abort', done, { once: true });
          });
        }
        if (this.closed || signal?.aborted) return [];
      } finally {
        this.waiters.delete(waiter);
      }
    }
  }

  /** Renew the leases a worker holds and tell it which were lost or are to be cancelled. */
  async heartbeat(tenantId: string, workerId: string, held: ReadonlyArray<{ id: string; leaseToken: string }>): Promise<HeartbeatAnswer> {
    await this.worker(tenantId, workerId);
    const own = await this.filterOwn(tenantId, held.map((h) => h.id));
    const answer = await this.leases.renew(workerId, held, held.length, (h) => own.has(h.id));
    return { renewed: answer.renewed.map((h) => h.id), lost: answer.lost.map((h) => h.id), cancelled: answer.cancelled.map((h) => h.id) };
  }

  /**
   * Store progress and/or log lines of a running attempt. Returns false when the lease token is
   * not the job's current one (the output is dropped). Throws JOB_NOT_FOUND for another tenant's job.
   */
  async output(tenantId: string, jobId: string, leaseToken: string, progress: { value: unknown } | null, lines: readonly RemoteLogLine[]): Promise<boolean> {
    const known = await this.liveAttempt(tenantId, jobId, leaseToken);
    if (!known) return false;
    const at = this.nowIso();
    await recordOutput(this.pool, [{
      id: jobId,
      leaseToken,
      attempt: known.attempt,
      progressJson: progress === null ? null : JSON.stringify(progress.value ?? null),
      logs: lines.map((l) => ({ level: l.level ?? 'info', message: l.message, fields: l.fields ?? null, at })),
    }]);
    this.liveEvents.publish([{ type: 'job-output', tenantId, jobId, attempt: known.attempt, at }]);
    return true;
  }

  /** Complete an attempt with its result (fenced). Throws VALIDATION_FAILED for a result that cannot be stored. */
  async complete(tenantId: string, jobId: string, leaseToken: string, result: unknown): Promise<ReportAnswer> {
    const value = result === undefined ? null : result;
    const checked = checkJsonValue(value, '/result', this.resultLimits);
    if (checked.errors.length > 0) {
      throw new AppError(checked.tooLarge ? 'PAYLOAD_TOO_LARGE' : 'VALIDATION_FAILED', checked.errors[0]!.message, { errors: checked.errors });
    }
    const known = await this.liveAttempt(tenantId, jobId, leaseToken);
    if (!known) return { accepted: false, status: null };
    return this.report({ kind: 'completed', resultJson: checked.json ?? JSON.stringify(value) }, jobId, leaseToken);
  }

  /**
   * Fail an attempt (fenced). Retryable failures go back to the queue after the job's backoff
   * (computed here from the attempt count) or `retryAfterMs`, unless no attempts are left;
   * `retryable: false` fails the job; `cancelled` ends it as cancelled.
   */
  async fail(tenantId: string, jobId: string, leaseToken: string, failure: RemoteFailure, cancelled: boolean): Promise<ReportAnswer> {
    const job = await getJob(this.pool, tenantId, jobId);
    if (!job) throw new AppError('JOB_NOT_FOUND', `no job ${jobId}`);
    if (job.status !== 'running' || job.leaseToken !== leaseToken) return { accepted: false, status: null };
    const outcome = decideReportedFailure(job, failure, cancelled, { workerId: job.workerId, nowIso: this.nowIso(), random: this.random });
    return this.report(outcome, jobId, leaseToken);
  }

  /** Mark a worker stopped. Its leases are untouched: report every job first (or let them expire). */
  async stop(tenantId: string, workerId: string): Promise<void> {
    await this.worker(tenantId, workerId);
    await markWorkerStopped(this.pool, workerId);
    this.workers.delete(workerId);
  }

  /** Stop listening; waiting claims answer at once. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    for (const wake of [...this.waiters]) wake();
    const listener = this.listener;
    this.listener = null;
    await this.listening?.catch(() => undefined);
    await listener?.stop();
  }

  // ---- internals ------------------------------------------------------------------------------

  private listen(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (!this.listening) {
      this.listener = new NotificationListener({
        pool: this.pool,
        channels: [JOBS_CHANNEL],
        onNotification: () => this.wakeAll(),
        onConnected: () => this.wakeAll(),
        logger: this.logger,
      });
      this.listening = this.listener.start();
    }
    return this.listening;
  }

  private wakeAll(): void {
    for (const wake of [...this.waiters]) wake();
  }

  /** The worker, if it belongs to the tenant; JOB_NOT_FOUND-like 404 otherwise (never a leak). */
  private async worker(tenantId: string, workerId: string): Promise<KnownWorker> {
    let known = this.workers.get(workerId);
    if (!known) {
      // Registered through another API process: look it up among live workers.
      const row = (await listLiveWorkers(this.pool, tenantId, this.workerStaleMs)).find((w) => w.id === workerId && w.kind === 'remote');
      if (row && row.tenantId !== null) {
        known = { id: row.id, tenantId: row.tenantId, tasks: row.tasks, queues: row.queues, zone: row.zone, capacity: row.concurrency };
        this.workers.set(workerId, known);
      }
    }
    if (!known || known.tenantId !== tenantId) {
      throw new AppError('WORKER_NOT_FOUND', `no live remote worker ${workerId}: register again`);
    }
    return known;
  }

  private async claimNow(worker: KnownWorker, limit: number): Promise<ClaimedJob[]> {
    const filter: ClaimFilter = { workerId: worker.id, tasks: worker.tasks, queues: worker.queues, tenantId: worker.tenantId, zone: worker.zone };
    return this.claimer.claim(filter, limit, { exact: true });
  }

  private async release(jobs: readonly ClaimedJob[]): Promise<void> {
    try {
      await Promise.all(jobs.map((j) => this.report({ kind: 'released' }, j.id, j.leaseToken)));
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'could not release jobs claimed for a departed remote worker; their leases will expire');
    }
  }

  private handOut(job: ClaimedJob): RemoteJob {
    this.remember(job.id, { tenantId: job.tenantId, leaseToken: job.leaseToken, attempt: job.attempt });
    return {
      id: job.id,
      task: job.task,
      queue: job.queue,
      payload: job.payload,
      attempt: job.attempt,
      maxAttempts: job.maxAttempts,
      leaseToken: String(job.leaseToken),
      timeoutMs: job.timeoutMs,
      labels: job.labels,
      createdAt: job.createdAt.toISOString(),
      traceParent: job.traceParent,
    };
  }

  private remember(id: string, known: KnownJob): void {
    if (this.jobs.size >= MAX_KNOWN_JOBS) {
      // Maps iterate in insertion order: drop the oldest tenth.
      let n = MAX_KNOWN_JOBS / 10;
      for (const key of this.jobs.keys()) {
        if (n-- <= 0) break;
        this.jobs.delete(key);
      }
    }
    this.jobs.set(id, known);
  }

  /** Which of these job ids belong to the tenant (unknown ids are looked up; missing ones are not). */
  private async filterOwn(tenantId: string, ids: readonly string[]): Promise<Set<string>> {
    const own = new Set<string>();
    const unknown: string[] = [];
    for (const id of ids) {
      const known = this.jobs.get(id);
      if (!known) unknown.push(id);
      else if (known.tenantId === tenantId) own.add(id);
    }
    const rows = await Promise.all(unknown.map((id) => getJob(this.pool, tenantId, id)));
    for (const row of rows) {
      if (!row) continue;
      own.add(row.id);
      this.remember(row.id, { tenantId: row.tenantId, leaseToken: row.leaseToken, attempt: row.attempt });
    }
    return own;
  }

  /**
   * The attempt a lease token stands for, if it is the job's current one as far as we know.
   * Throws JOB_NOT_FOUND for a job of another tenant (or none).
   */
  private async liveAttempt(tenantId: string, jobId: string, leaseToken: string): Promise<KnownJob | null> {
    const known = this.jobs.get(jobId);
    if (known && known.tenantId !== tenantId) throw new AppError('JOB_NOT_FOUND', `no job ${jobId}`);
    if (known && known.leaseToken === leaseToken) return known;
    const row = await getJob(this.pool, tenantId, jobId);
    if (!row) throw new AppError('JOB_NOT_FOUND', `no job ${jobId}`);
    const current = { tenantId: row.tenantId, leaseToken: row.leaseToken, attempt: row.attempt };
    this.remember(jobId, current);
    return row.status === 'running' && row.leaseToken === leaseToken ? current : null;
  }

  private nowIso(): string {
    return new Date(this.clock.nowMs()).toISOString();
  }

  /** Record an outcome (batched with concurrent reports of other workers); answers once it is written or fenced. */
  private report(outcome: AttemptOutcome, id: string, leaseToken: string): Promise<ReportAnswer> {
    const report = reportOf(outcome, id, leaseToken);
    if (!report) return Promise.resolve({ accepted: false, status: null });
    return new Promise((resolve, reject) => this.reports.push({ report, resolve, reject }));
  }
}
