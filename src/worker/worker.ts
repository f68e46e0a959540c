import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { decideOutcome, type AbortCause, type AttemptOutcome } from '../core/attempt-outcome.js';
import { silentLogger, systemClock, type Clock, type Logger } from '../core/deps.js';
import { DEFAULT_CANCEL_GRACE_MS, DEFAULT_LEASE_MS, DEFAULT_POLL_INTERVAL_MS, DEFAULT_SHUTDOWN_GRACE_MS, heartbeatMsFor } from '../core/defaults.js';
import { uuidv7 } from '../db/ids.js';
import { NotificationListener } from '../db/listener.js';
import { createPool, isConnectionError, type Pool } from '../db/pool.js';
import {
  CANCEL_CHANNEL,
  JOBS_CHANNEL,
  recordOutput,
  recordReports,
  renewLeases,
  type AttemptReport,
  type ClaimedJob,
  type ClaimFilter,
} from '../db/queries/jobs.js';
import { markWorkerStopped, registerWorker, touchWorker } from '../db/queries/workers.js';
import { JobClaimer } from '../engine/claimer.js';
import { joinMaintenance, type Membership } from '../scheduler/membership.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { jobEvent, type EventSink, type JobChange } from '../core/events.js';
import { EventPublisher } from '../engine/events.js';
import { createSecretService, type SecretResolver } from '../engine/secrets/index.js';
import { hasSecretRefs, type SecretRedactor } from '../core/secret-refs.js';
import { OutputBuffer } from './output-buffer.js';
import { redactFields, redactingLogger, redactSettlement, resolvePayloadSecrets } from './secret-redaction.js';
import type { JobContext, JobInfo, TaskHandler, TaskList } from './types.js';
import { context as otelContext, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { parseTraceParent, traceParentOf, tracer, tracingEnabled } from '../telemetry/trace-context.js';

/** Options for {@link createWorker}. */
export interface WorkerOptions {
  /** Connection string; the worker opens (and closes) its own small pool. Give this or `pool`. */
  databaseUrl?: string;
  /** An existing pool (not closed by the worker). */
  pool?: Pool;
  /** Handlers by task name; the worker claims only these tasks. */
  tasks: TaskList;
  /** Queues to serve. @defaultValue every queue */
  queues?: readonly string[];
  /** Most handlers running at once. @defaultValue 10 */
  concurrency?: number;
  /** Jobs claimed ahead of free slots to hide claim latency; they hold a lease while they wait. @defaultValue 0 */
  prefetch?: number;
  /** Serve only this tenant. @defaultValue every tenant */
  tenantId?: string | null;
  /** This worker's zone, for zone placement. */
  zone?: string | null;
  /** Shown in the workers list. @defaultValue `<hostname>:<pid>` */
  name?: string;
  /** Free-form labels. */
  labels?: Record<string, string>;
  /** Lease length; a worker that stops heartbeating loses its jobs after this. @defaultValue 30000 */
  leaseMs?: number;
  /** How often leases are renewed. @defaultValue leaseMs / 3 */
  heartbeatMs?: number;
  /** Polling backstop when no notification arrives. @defaultValue 2000 */
  pollIntervalMs?: number;
  /** On stop, how long running handlers may take to finish before they are released. @defaultValue 30000 */
  shutdownGraceMs?: number;
  /** After a cancel request, how long the handler may take to stop before the job is reported cancelled. @defaultValue 30000 */
  cancelGraceMs?: number;
  /** How often progress and log lines are written. @defaultValue 250 */
  outputFlushMs?: number;
  /** Largest stored result in bytes. @defaultValue 1 MiB */
  maxResultBytes?: number;
  /** Where claims, outcomes and new output are announced (live events). */
  liveEvents?: EventSink;
  /**
   * Resolves `{"$secret": NAME}` references in payloads before the handler runs. @defaultValue the
   * secrets store on this worker's pool, with `secretsKeys` / `secretsActiveKey`
   */
  secrets?: SecretResolver;
  /** Keys that decrypt tenant secrets (JOBPLANE_SECRETS_KEYS, `id:base64`); used when `secrets` is not given. @defaultValue the database-kept key */
  secretsKeys?: readonly string[];
  /** The active key's id (JOBPLANE_SECRETS_ACTIVE_KEY); only encryption uses it. @defaultValue the first key */
  secretsActiveKey?: string | null;
  /**
   * Take part in electing the maintenance leader from this process (DESIGN §5): while leader it
   * rescues jobs whose lease expired, fires cron schedules, places jobs and applies retention, so
   * a deployment of nothing but workers is still safe. Workers on one pool share one candidate.
   * Turn it off only where a scheduler runs in the same process. @defaultValue true
   */
  maintenance?: boolean;
  logger?: Logger;
  clock?: Clock;
  /** Random source for backoff jitter. */
  random?: () => number;
}

/** Events a worker emits (for metrics, tests and logs). */
export interface WorkerEvents {
  'job:start': [JobInfo];
  'job:end': [{ job: JobInfo; outcome: AttemptOutcome['kind']; status: string | null }];
  claimed: [{ count: number; durationMs: number }];
  'lease-lost': [{ jobId: string }];
  failure: [{ during: string; error: unknown }];
  stopped: [];
}

interface Entry {
  job: ClaimedJob;
  info: JobInfo;
  controller: AbortController;
  cause: AbortCause | null;
  /** The outcome has been decided; the handler's own settlement is ignored from now on. */
  reported: boolean;
  timers: NodeJS.Timeout[];
  /** This attempt's span (tracing on), ended with the outcome. */
  span?: Span;
  /** Set when the payload's secret references were resolved: what leaves the attempt is redacted with it. */
  redactor?: SecretRedactor;
}

interface QueuedReport {
  report: AttemptReport;
  entry: Entry;
  outcome: AttemptOutcome['kind'];
}

type State = 'new' | 'running' | 'stopping' | 'stopped';

/**
 * An in-process worker: claims jobs with one statement, runs their handlers with a concurrency
 * limit, renews leases by heartbeat, and reports outcomes in batches fenced by lease tokens.
 * Lifecycle: `start()`, `stop()` (graceful, idempotent), `runOnce()` for tests.
 */
export class Worker {
  /** Unique per worker instance (a random UUID v7). */
  readonly id: string = uuidv7();
  /** Typed events. */
  readonly events = new EventEmitter<WorkerEvents>();

  private readonly pool: Pool;
  private readonly ownsPool: boolean;
  private readonly tasks: TaskList;
  private readonly filter: ClaimFilter;
  private readonly opts: Required<Pick<WorkerOptions,
    'concurrency' | 'prefetch' | 'leaseMs' | 'heartbeatMs' | 'pollIntervalMs' | 'shutdownGraceMs' | 'cancelGraceMs' |
    'outputFlushMs' | 'maxResultBytes'>>;
  private readonly name: string;
  private readonly labels: Record<string, string> | null;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly output = new OutputBuffer();
  private readonly listener: NotificationListener;
  private readonly claimer: JobClaimer;
  private readonly liveEvents: EventSink;
  private readonly ownPublisher: EventPublisher | null;
  private readonly secrets: SecretResolver;

  private state: State = 'new';
  private readonly entries = new Map<string, Entry>();
  private buffer: ClaimedJob[] = [];
  private reports: QueuedReport[] = [];
  private claiming = false;
  /** The claim loop in progress, which stop() waits for: jobs it brings back must be released. */
  private claimRun: Promise<void> = Promise.resolve();
  private claimRequested = false;
  private moreLikely = false;
  private flushing: Promise<void> | null = null;
  private wakeTimer: { at: number; timer: NodeJS.Timeout } | null = null;
  private readonly loops: NodeJS.Timeout[] = [];
  private readonly idleWaiters = new Set<() => void>();
  private readonly maintenanceOn: boolean;
  private readonly secretsKeys: readonly string[] | undefined;
  private readonly secretsActiveKey: string | null | undefined;
  private membership: Membership | null = null;

  constructor(options: WorkerOptions) {
    if (!options.pool && !options.databaseUrl) throw new Error('createWorker needs `databaseUrl` or `pool`');
    const taskNames = Object.keys(options.tasks);
    if (taskNames.length === 0) throw new Error('createWorker needs at least one task handler');
    this.ownsPool = !options.pool;
    this.logger = (options.logger ?? silentLogger).child({ workerId: this.id });
    this.pool = options.pool ?? createPool({ connectionString: options.databaseUrl!, max: 6, applicationName: 'jobplane-worker', logger: this.logger });
    this.tasks = options.tasks;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.maintenanceOn = options.maintenance ?? true;
    this.secretsKeys = options.secretsKeys;
    this.secretsActiveKey = options.secretsActiveKey;
    const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.opts = {
      concurrency: options.concurrency ?? 10,
      prefetch: options.prefetch ?? 0,
      leaseMs,
      heartbeatMs: options.heartbeatMs ?? heartbeatMsFor(leaseMs),
      pollIntervalMs: options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
      shutdownGraceMs: options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS,
      cancelGraceMs: options.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS,
      outputFlushMs: options.outputFlushMs ?? 250,
      maxResultBytes: options.maxResultBytes ?? 1_048_576,
    };
    if (!Number.isInteger(this.opts.concurrency) || this.opts.concurrency < 1) throw new Error('concurrency must be a positive integer');
    this.name = options.name ?? `${hostname()}:${process.pid}`;
    this.labels = options.labels ?? null;
    this.filter = {
      workerId: this.id,
      tasks: taskNames,
      queues: options.queues && options.queues.length > 0 && !options.queues.includes('*') ? [...options.queues] : null,
      tenantId: options.tenantId ?? null,
      zone: options.zone ?? null,
    };
    // Without a shared publisher the worker announces its changes itself, so a dashboard sees
    // jobs run by workers embedded in other programs too.
    this.ownPublisher = options.liveEvents ? null : new EventPublisher(this.pool, { logger: this.logger });
    this.liveEvents = options.liveEvents ?? this.ownPublisher!;
    // Cheap to build (no I/O until a job references a secret), and bad keys fail here, not mid-job.
    this.secrets = options.secrets ?? createSecretService({ pool: this.pool, keys: options.secretsKeys ?? [], activeKey: options.secretsActiveKey ?? null, logger: this.logger });
    this.claimer = new JobClaimer(this.pool, this.opts.leaseMs, this.clock, this.liveEvents);
    this.listener = new NotificationListener({
      pool: this.pool,
      channels: [JOBS_CHANNEL, CANCEL_CHANNEL],
      logger: this.logger,
      onNotification: (channel, payload) => this.onNotification(channel, payload),
      onConnected: () => this.requestClaim(),
    });
  }

  /** Jobs running now, buffered, and waiting to be reported. */
  get load(): { running: number; buffered: number; reporting: number } {
    return { running: this.entries.size, buffered: this.buffer.length, reporting: this.reports.length };
  }

  /** This process's maintenance candidate when the worker takes part in the election (started). */
  get maintenance(): Scheduler | null {
    return this.membership?.scheduler ?? null;
  }

  /** Register, listen, and start claiming. */
  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'running';
    await registerWorker(this.pool, {
      id: this.id,
      tenantId: this.filter.tenantId,
      name: this.name,
      kind: 'in-process',
      zone: this.filter.zone,
      tasks: this.filter.tasks,
      queues: this.filter.queues,
      labels: this.labels,
      concurrency: this.opts.concurrency,
      hostname: hostname(),
      pid: process.pid,
      version: null,
    });
    await this.listener.start();
    if (this.maintenanceOn) {
      this.membership = await joinMaintenance({
        pool: this.pool,
        logger: this.logger,
        liveEvents: this.liveEvents,
        ...(this.secretsKeys ? { secretsKeys: this.secretsKeys } : {}),
        ...(this.secretsActiveKey !== undefined ? { secretsActiveKey: this.secretsActiveKey } : {}),
      });
    }
    this.loops.push(setInterval(() => this.requestClaim(), this.opts.pollIntervalMs));
    this.loops.push(setInterval(() => void this.heartbeat(), this.opts.heartbeatMs));
    this.loops.push(setInterval(() => void this.flushOutput(), this.opts.outputFlushMs));
    this.logger.info({ tasks: this.filter.tasks, queues: this.filter.queues ?? '*', concurrency: this.opts.concurrency }, 'worker started');
    this.requestClaim();
  }

  /**
   * Graceful stop: claim nothing more, put buffered jobs back, let running handlers finish within
   * the grace period, then abort and release the rest without burning their attempt. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return this.waitStopped();
    const wasRunning = this.state === 'running';
    this.state = 'stopping';
    // Put the buffer back before the first await: a handler settling meanwhile must not start them.
    for (const job of this.buffer.splice(0)) this.queueReport(this.makeEntry(job), { kind: 'released' });
    for (const loop of this.loops) clearInterval(loop);
    if (this.wakeTimer) clearTimeout(this.wakeTimer.timer);
    await this.listener.stop();
    // A claim already sent may still bring jobs back; they are released below, before the pool
    // closes, rather than left running until their lease expires.
    await this.claimRun.catch(() => undefined);
    const heartbeat = setInterval(() => void this.heartbeat(), this.opts.heartbeatMs);
    try {
      await this.waitForRunning(this.opts.shutdownGraceMs);
      for (const entry of this.entries.values()) this.abort(entry, 'shutdown');
      await this.flushReports();
    } finally {
      clearInterval(heartbeat);
    }
    await this.flushOutput();
    if (wasRunning) await markWorkerStopped(this.pool, this.id).catch(() => undefined);
    await this.membership?.leave();
    await this.ownPublisher?.close();
    if (this.ownsPool) await this.pool.end();
    this.state = 'stopped';
    this.events.emit('stopped');
    this.logger.info({}, 'worker stopped');
  }

  /**
   * Claim one batch (up to `concurrency`), run it to completion and record the outcomes; returns
   * how many jobs ran. For tests and one-shot scripts; do not mix with `start()`.
   */
  async runOnce(): Promise<number> {
    const jobs = await this.claim(this.opts.concurrency);
    for (const job of jobs) this.startJob(job);
    await this.waitForRunning(Infinity);
    await this.flushReports();
    await this.flushOutput();
    return jobs.length;
  }

  private waitStopped(): Promise<void> {
    if (this.state === 'stopped') return Promise.resolve();
    return new Promise((resolve) => this.events.once('stopped', resolve));
  }

  private async waitForRunning(limitMs: number): Promise<void> {
    const deadline = this.clock.nowMs() + limitMs;
    while (this.entries.size > 0 && this.clock.nowMs() < deadline) {
      await new Promise<void>((resolve) => {
        this.idleWaiters.add(resolve);
        if (Number.isFinite(limitMs)) setTimeout(resolve, Math.max(0, deadline - this.clock.nowMs())).unref();
      });
    }
  }

  // ---- claiming -------------------------------------------------------------------------------

  private onNotification(channel: string, payload: string): void {
    if (channel === CANCEL_CHANNEL) return this.onCancelRequested(payload);
    if (payload === '') return this.requestClaim();
    const at = Number(payload);
    if (Number.isFinite(at)) this.wakeAt(at);
  }

  /** Claim at `atMs` (a job becomes due then), keeping only the earliest such wake-up. */
  private wakeAt(atMs: number): void {
    const delay = atMs - this.clock.nowMs();
    if (delay <= 5) return this.requestClaim();
    if (this.wakeTimer && this.wakeTimer.at <= atMs) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer.timer);
    const timer = setTimeout(() => {
      this.wakeTimer = null;
      this.requestClaim();
    }, delay);
    timer.unref();
    this.wakeTimer = { at: atMs, timer };
  }

  private requestClaim(): void {
    this.claimRequested = true;
    if (!this.claiming && this.state === 'running') this.claimRun = this.claimLoop();
  }

  private capacity(): number {
    return this.opts.concurrency + this.opts.prefetch - this.entries.size - this.buffer.length;
  }

  private async claimLoop(): Promise<void> {
    this.claiming = true;
    try {
      while (this.claimRequested && this.state === 'running') {
        this.claimRequested = false;
        const capacity = this.capacity();
        if (capacity <= 0) {
          // Remember that work may be waiting; a finishing job will ask again.
          this.moreLikely = true;
          break;
        }
        let jobs: ClaimedJob[];
        try {
          jobs = await this.claim(capacity);
        } catch (error) {
          this.reportFailure('claim', error);
          break;
        }
        if (this.state !== 'running') {
          for (const job of jobs) this.queueReport(this.makeEntry(job), { kind: 'released' });
          break;
        }
        this.moreLikely = jobs.length === capacity;
        if (this.moreLikely) this.claimRequested = true;
        for (const job of jobs) this.buffer.push(job);
        this.startBuffered();
      }
    } finally {
      this.claiming = false;
    }
  }

  private async claim(limit: number): Promise<ClaimedJob[]> {
    const started = performance.now();
    const jobs = await this.claimer.claim(this.filter, limit);
    if (jobs.length > 0) this.events.emit('claimed', { count: jobs.length, durationMs: performance.now() - started });
    return jobs;
  }

  // ---- running --------------------------------------------------------------------------------

  private startBuffered(): void {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    while (this.entries.size < this.opts.concurrency && this.buffer.length > 0) this.startJob(this.buffer.shift()!);
  }

  private makeEntry(job: ClaimedJob): Entry {
    const info: JobInfo = {
      id: job.id,
      tenantId: job.tenantId,
      task: job.task,
      queue: job.queue,
      priority: job.priority,
      attempt: job.attempt,
      maxAttempts: job.maxAttempts,
      leaseToken: job.leaseToken,
      idempotencyKey: job.idempotencyKey,
      labels: job.labels ?? {},
      scheduleId: job.scheduleId,
      fireAt: job.fireAt,
      createdAt: job.createdAt,
      runAt: job.runAt,
      timeoutMs: job.timeoutMs,
    };
    return { job, info, controller: new AbortController(), cause: null, reported: false, timers: [] };
  }

  private startJob(job: ClaimedJob): void {
    const entry = this.makeEntry(job);
    const handler = this.tasks[job.task] as TaskHandler<unknown, unknown> | undefined;
    this.entries.set(job.id, entry);
    this.events.emit('job:start', entry.info);
    if (job.timeoutMs !== null) {
      entry.timers.push(setTimeout(() => this.abort(entry, 'timeout'), job.timeoutMs));
    }
    let active = ROOT_CONTEXT;
    if (tracingEnabled()) {
      const submitter = parseTraceParent(job.traceParent);
      entry.span = tracer.startSpan(`job ${job.task}`, {
        kind: SpanKind.CONSUMER,
        ...(submitter ? { links: [{ context: submitter }] } : {}),
        attributes: { 'jobplane.job.id': job.id, 'jobplane.job.attempt': job.attempt, 'jobplane.job.queue': job.queue, 'jobplane.job.task': job.task, 'jobplane.worker.id': this.id },
      }, ROOT_CONTEXT);
      active = trace.setSpan(ROOT_CONTEXT, entry.span);
    }
    const context = this.makeContext(entry);
    const run = handler
      ? otelContext.with(active, () => Promise.resolve().then(() => (hasSecretRefs(job.payload) ? this.runWithSecrets(entry, handler, context) : handler(job.payload, context))))
      : Promise.reject(new Error(`no handler for task ${job.task}`));
    run.then(
      (value) => this.settle(entry, { ok: true, value }),
      (error: unknown) => this.settle(entry, { ok: false, error }),
    );
  }

  /**
   * Resolve the payload's secret references, then run the handler on the resolved copy (the stored
   * job keeps the references). From here on the attempt's output is redacted.
   */
  private async runWithSecrets(entry: Entry, handler: TaskHandler<unknown, unknown>, context: JobContext): Promise<unknown> {
    const resolved = await resolvePayloadSecrets(this.secrets, entry.job.tenantId, entry.job.payload);
    entry.redactor = resolved.redactor;
    context.logger = redactingLogger(context.logger, resolved.redactor);
    return handler(resolved.payload, context);
  }

  private makeContext(entry: Entry): JobContext {
    const { job } = entry;
    const logger = this.logger.child({ jobId: job.id, task: job.task, attempt: job.attempt });
    const traceParent = traceParentOf(entry.span) ?? (parseTraceParent(job.traceParent) ? job.traceParent ?? undefined : undefined);
    return {
      ...(traceParent ? { traceParent } : {}),
      job: entry.info,
      signal: entry.controller.signal,
      logger,
      log: (message, fields) => {
        if (entry.reported) return;
        const r = entry.redactor;
        const text = r ? r.text(typeof message === 'string' ? message : String(message)) : message;
        this.output.log(job.id, job.leaseToken, job.attempt, 'info', text, r ? redactFields(fields, r) : fields, new Date(this.clock.nowMs()).toISOString());
      },
      progress: (value) => {
        if (!entry.reported) this.output.progress(job.id, job.leaseToken, job.attempt, entry.redactor ? entry.redactor.deep(value) : value);
      },
    };
  }

  private settle(entry: Entry, settled: { ok: true; value: unknown } | { ok: false; error: unknown }): void {
    for (const timer of entry.timers) clearTimeout(timer);
    if (!entry.reported) this.finish(entry, this.decide(entry, settled));
    this.release(entry);
  }

  private decide(entry: Entry, settled: { ok: true; value: unknown } | { ok: false; error: unknown }): AttemptOutcome {
    return decideOutcome(
      entry.job,
      entry.redactor ? redactSettlement(settled, entry.redactor) : settled,
      entry.cause,
      { workerId: this.id, nowIso: new Date(this.clock.nowMs()).toISOString(), random: this.random, maxResultBytes: this.opts.maxResultBytes },
    );
  }

  /** Free the slot of an entry whose handler settled (or was abandoned). */
  private release(entry: Entry): void {
    endAttemptSpan(entry, null);
    if (this.entries.get(entry.job.id) !== entry) return;
    this.entries.delete(entry.job.id);
    this.output.forget(entry.job.id, entry.job.leaseToken);
    this.startBuffered();
    if (this.entries.size === 0) {
      for (const resolve of this.idleWaiters) resolve();
      this.idleWaiters.clear();
    }
    if (this.moreLikely) this.requestClaim();
  }

  /**
   * Fire the handler's signal. A timeout is reported at once (the job retries elsewhere); a cancel
   * waits for the handler up to the cancel grace; a lost lease reports nothing. The slot stays
   * taken until the handler settles, but never longer than the grace: JavaScript cannot kill a
   * handler that ignores its signal, and one stuck handler must not stall the worker forever.
   */
  private abort(entry: Entry, cause: AbortCause): void {
    if (entry.reported || entry.cause !== null) return;
    entry.cause = cause;
    const reason = Object.assign(new Error(`job ${cause}`), { name: 'AbortError', reason: cause });
    entry.controller.abort(reason);
    if (cause === 'timeout' || cause === 'lease-lost' || cause === 'shutdown') {
      this.finish(entry, this.decide(entry, { ok: false, error: reason }));
    } else {
      entry.timers.push(
        setTimeout(() => {
          if (!entry.reported) this.finish(entry, this.decide(entry, { ok: false, error: reason }));
        }, this.opts.cancelGraceMs),
      );
    }
    if (cause !== 'shutdown') {
      const abandon = setTimeout(() => {
        if (this.entries.get(entry.job.id) === entry) {
          this.logger.warn({ jobId: entry.job.id, cause }, 'handler ignored its abort signal; freeing its slot');
          this.release(entry);
        }
      }, this.opts.cancelGraceMs + this.opts.heartbeatMs);
      abandon.unref();
    }
  }

  private onCancelRequested(jobId: string): void {
    const entry = this.entries.get(jobId);
    if (entry) return this.abort(entry, 'cancelled');
    const index = this.buffer.findIndex((j) => j.id === jobId);
    if (index >= 0) this.cancelBuffered(this.buffer.splice(index, 1)[0]!);
  }

  /** A job cancelled while it waited in the prefetch buffer: report it cancelled without running it. */
  private cancelBuffered(job: ClaimedJob): void {
    const waiting = this.makeEntry(job);
    waiting.cause = 'cancelled';
    this.queueReport(waiting, this.decide(waiting, { ok: false, error: new Error('cancelled before it started') }));
  }

  // ---- reporting ------------------------------------------------------------------------------

  private finish(entry: Entry, outcome: AttemptOutcome): void {
    entry.reported = true;
    endAttemptSpan(entry, outcome);
    this.queueReport(entry, outcome);
  }

  private queueReport(entry: Entry, outcome: AttemptOutcome): void {
    entry.reported = true;
    const { id, leaseToken } = entry.job;
    let report: AttemptReport | null;
    switch (outcome.kind) {
      case 'completed': report = { kind: 'completed', id, leaseToken, resultJson: outcome.resultJson }; break;
      case 'retry': report = { kind: 'retry', id, leaseToken, error: outcome.error, delayMs: outcome.delayMs }; break;
      case 'failed': report = { kind: 'failed', id, leaseToken, error: outcome.error }; break;
      case 'cancelled': report = { kind: 'cancelled', id, leaseToken, error: outcome.error }; break;
      case 'released': report = { kind: 'released', id, leaseToken }; break;
      case 'dropped': report = null; break;
    }
    if (report === null) {
      this.events.emit('job:end', { job: entry.info, outcome: outcome.kind, status: null });
      return;
    }
    this.reports.push({ report, entry, outcome: outcome.kind });
    void this.flushReports();
  }

  /** Write queued reports; one flush in flight at a time, so reports batch up under load. */
  private flushReports(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => (this.reports.length > 0 ? this.flushReports() : undefined));
    if (this.reports.length === 0) return Promise.resolve();
    this.flushing = (async () => {
      let failures = 0;
      while (this.reports.length > 0) {
        const batch = this.reports.slice(0, 500);
        try {
          // Output first: it is fenced on the job still running under this lease.
          await this.flushOutput();
          const { accepted, changes } = await recordReports(this.pool, batch.map((b) => b.report));
          this.announce(changes);
          this.reports.splice(0, batch.length);
          failures = 0;
          for (const item of batch) this.afterReport(item, accepted.get(item.report.id) ?? null);
        } catch (error) {
          failures += 1;
          this.reportFailure('report', error);
          if (!isConnectionError(error) && batch.length > 1) {
            await this.reportOneByOne(batch);
            continue;
          }
          if (this.state === 'stopping' && failures > 20) {
            this.logger.error({ lost: this.reports.length }, 'could not record outcomes before shutdown; their leases will expire and the jobs will run again');
            this.reports = [];
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 100 * 2 ** failures)));
        }
      }
    })().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  /** Isolate a report the database rejects (a bug), so it cannot block the others. */
  private async reportOneByOne(batch: QueuedReport[]): Promise<void> {
    for (const item of batch) {
      try {
        const { accepted, changes } = await recordReports(this.pool, [item.report]);
        this.announce(changes);
        this.afterReport(item, accepted.get(item.report.id) ?? null);
      } catch (error) {
        this.logger.error({ jobId: item.report.id, err: (error as Error).message }, 'outcome rejected by the database; the lease will expire and the job will run again');
      }
      this.reports.splice(this.reports.indexOf(item), 1);
    }
  }

  private announce(changes: readonly JobChange[]): void {
    if (changes.length === 0) return;
    const at = new Date(this.clock.nowMs()).toISOString();
    this.liveEvents.publish(changes.map((c) => jobEvent(c, at)));
  }

  private afterReport(item: QueuedReport, status: string | null): void {
    if (status === null) {
      this.logger.warn({ jobId: item.report.id, outcome: item.outcome }, 'outcome not recorded: this worker no longer holds the lease');
    } else if (item.report.kind === 'retry' && status === 'queued') {
      this.wakeAt(this.clock.nowMs() + item.report.delayMs);
    }
    this.events.emit('job:end', { job: item.entry.info, outcome: item.outcome, status });
  }

  private async flushOutput(): Promise<void> {
    if (this.output.size === 0) return;
    const outputs = this.output.drain();
    const tenants = new Map<string, string>();
    for (const [id, entry] of this.entries) tenants.set(id, entry.job.tenantId);
    for (const item of this.reports) tenants.set(item.entry.job.id, item.entry.job.tenantId);
    try {
      await recordOutput(this.pool, outputs);
      const at = new Date(this.clock.nowMs()).toISOString();
      this.liveEvents.publish(outputs.map((o) => ({ type: 'job-output', tenantId: tenants.get(o.id) ?? '', jobId: o.id, attempt: o.attempt, at })));
    } catch (error) {
      this.reportFailure('output', error);
    }
  }

  // ---- heartbeat ------------------------------------------------------------------------------

  private async heartbeat(): Promise<void> {
    const held = new Set([
      ...[...this.entries.values()].filter((e) => !e.reported).map((e) => e.job),
      ...this.buffer,
      ...this.reports.map((r) => r.entry.job),
    ]);
    try {
      const renewed = await renewLeases(this.pool, [...held].map((j) => ({ id: j.id, leaseToken: j.leaseToken })), this.opts.leaseMs);
      const alive = new Map(renewed.map((r) => [r.id, r.cancelRequested]));
      for (const entry of this.entries.values()) {
        if (entry.reported) continue;
        const cancel = alive.get(entry.job.id);
        if (cancel === undefined && held.has(entry.job)) {
          this.events.emit('lease-lost', { jobId: entry.job.id });
          this.logger.warn({ jobId: entry.job.id }, 'lease lost; aborting the handler');
          this.abort(entry, 'lease-lost');
        } else if (cancel === true) {
          this.abort(entry, 'cancelled');
        }
      }
      this.buffer = this.buffer.filter((job) => {
        if (alive.get(job.id) === true) {
          this.cancelBuffered(job);
          return false;
        }
        return alive.has(job.id) || !held.has(job);
      });
      await touchWorker(this.pool, this.id, this.entries.size);
    } catch (error) {
      this.reportFailure('heartbeat', error);
    }
  }

  private reportFailure(during: string, error: unknown): void {
    this.events.emit('failure', { during, error });
    this.logger.warn({ during, err: (error as Error).message }, 'worker database call failed');
  }
}

/** Create a worker (call `start()` to run it). */
export function createWorker(options: WorkerOptions): Worker {
  return new Worker(options);
}

/** End an attempt's span (once) with its outcome; `null` when the slot is freed without one. */
function endAttemptSpan(entry: Entry, outcome: AttemptOutcome | null): void {
  const span = entry.span;
  if (!span) return;
  delete entry.span;
  span.setAttribute('jobplane.job.outcome', outcome?.kind ?? 'abandoned');
  if (outcome && outcome.kind !== 'completed' && 'error' in outcome) {
    const message = typeof outcome.error === 'object' && outcome.error !== null && 'message' in outcome.error ? String(outcome.error.message) : outcome.kind;
    span.setStatus({ code: SpanStatusCode.ERROR, message });
  }
  span.end();
}
