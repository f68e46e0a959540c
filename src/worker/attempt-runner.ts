import type { EventEmitter } from 'node:events';
import { context as otelContext, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { decideOutcome, type AbortCause, type AttemptOutcome, type Settlement } from '../core/attempt-outcome.js';
import type { Clock, Logger } from '../core/deps.js';
import type { EventSink } from '../core/live-events.js';
import { hasSecretRefs, type SecretRedactor } from '../core/secret-refs.js';
import type { Pool } from '../db/pool.js';
import { recordOutput, type AttemptReport, type ClaimedJob } from '../db/queries/jobs.js';
import { ReportBatcher, reportOf, type LeaseAnswer } from '../engine/attempts/index.js';
import type { SecretResolver } from '../engine/secrets/index.js';
import { parseTraceParent, traceParentOf, tracer, tracingEnabled } from '../telemetry/trace-context.js';
import { OutputBuffer } from './output-buffer.js';
import { redactFields, redactingLogger, redactSettlement, resolvePayloadSecrets } from './secret-redaction.js';
import type { JobContext, JobInfo, TaskHandler, TaskList } from './types.js';
import type { WorkerEvents } from './worker-options.js';

/** One attempt in this worker, from the start of its handler until its slot is freed. */
interface Entry {
  job: ClaimedJob;
  info: JobInfo;
  /** Made when the handler first reads its signal (most never do). */
  controller: AbortController | null;
  /** Why the attempt was aborted before the handler read its signal. */
  abortedWith: Error | null;
  cause: AbortCause | null;
  /** The outcome has been decided; the handler's own settlement is ignored from now on. */
  reported: boolean;
  timers: NodeJS.Timeout[];
  /** When the handler started (clock ms). */
  startedAtMs: number;
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

/** What an {@link AttemptRunner} needs from its worker. */
export interface AttemptRunnerDeps {
  workerId: string;
  pool: Pool;
  tasks: TaskList;
  logger: Logger;
  clock: Clock;
  random: () => number;
  secrets: SecretResolver;
  liveEvents: EventSink;
  events: EventEmitter<WorkerEvents>;
  settings: { cancelGraceMs: number; heartbeatMs: number; maxResultBytes: number };
  /** Whether the worker is shutting down (reports are given up after many failures then). */
  stopping: () => boolean;
  /** A slot was freed after its handler ran `handlerMs`: start a buffered job, claim more. */
  onSlotFreed: (handlerMs: number) => void;
  /** A retried job goes back to the queue, due at this time: claim then. */
  onRetryDue: (atMs: number) => void;
  reportFailure: (during: string, error: unknown) => void;
}

/**
 * Runs attempts in this process: the handler with its context (signal, logger, log lines,
 * progress, tracing span, resolved secrets), its timeout and cancel grace, the outcome decided in
 * `src/core/attempt-outcome.ts`, and its report, batched with the others.
 */
export class AttemptRunner {
  private readonly entries = new Map<string, Entry>();
  private readonly output = new OutputBuffer();
  private readonly reports: ReportBatcher<QueuedReport>;
  private readonly idleWaiters = new Set<() => void>();

  /** What deciding an outcome needs; the time is read only when an error is stamped with it. */
  private readonly outcomeContext: { workerId: string; readonly nowIso: string; random: () => number; maxResultBytes: number };

  constructor(private readonly deps: AttemptRunnerDeps) {
    const nowIso = (): string => this.nowIso();
    this.outcomeContext = {
      workerId: deps.workerId,
      get nowIso() {
        return nowIso();
      },
      random: deps.random,
      maxResultBytes: deps.settings.maxResultBytes,
    };
    this.reports = new ReportBatcher<QueuedReport>({
      pool: deps.pool,
      clock: deps.clock,
      events: deps.liveEvents,
      // Output first: it is fenced on the job still running under this lease.
      beforeBatch: () => this.flushOutput(),
      onRecorded: (item, status) => this.afterReport(item, status),
      onError: (error) => deps.reportFailure('report', error),
      keepTrying: (failures) => {
        if (!deps.stopping() || failures <= 20) return true;
        deps.logger.error({ lost: this.reports.pending.length }, 'could not record outcomes before shutdown; their leases will expire and the jobs will run again');
        return false;
      },
      onRejected: (item, error) => {
        deps.logger.error({ jobId: item.report.id, err: (error as Error).message }, 'outcome rejected by the database; the lease will expire and the job will run again');
      },
    });
  }

  /** Handlers running now. */
  get running(): number {
    return this.entries.size;
  }

  /** Outcomes waiting to be recorded. */
  get reporting(): number {
    return this.reports.pending.length;
  }

  /** Jobs whose lease this runner must keep: running and not yet decided, or waiting to be reported. */
  heldJobs(): ClaimedJob[] {
    const held: ClaimedJob[] = [];
    for (const entry of this.entries.values()) if (!entry.reported) held.push(entry.job);
    for (const item of this.reports.pending) held.push(item.entry.job);
    return held;
  }

  /** Start a claimed job's handler. */
  start(job: ClaimedJob): void {
    const entry = this.makeEntry(job);
    const handler = this.deps.tasks[job.task] as TaskHandler<unknown, unknown> | undefined;
    this.entries.set(job.id, entry);
    this.deps.events.emit('job:start', entry.info);
    if (job.timeoutMs !== null) {
      entry.timers.push(setTimeout(() => this.abort(entry, 'timeout'), job.timeoutMs));
    }
    let active = ROOT_CONTEXT;
    if (tracingEnabled()) {
      const submitter = parseTraceParent(job.traceParent);
      entry.span = tracer.startSpan(`job ${job.task}`, {
        kind: SpanKind.CONSUMER,
        ...(submitter ? { links: [{ context: submitter }] } : {}),
        attributes: { 'jobplane.job.id': job.id, 'jobplane.job.attempt': job.attempt, 'jobplane.job.queue': job.queue, 'jobplane.job.task': job.task, 'jobplane.worker.id': this.deps.workerId },
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

  /** Put a claimed job that never started back in the queue, without burning its attempt. */
  releaseUnstarted(job: ClaimedJob): void {
    this.queueReport(this.makeEntry(job), { kind: 'released' });
  }

  /** A job cancelled before it started (it waited in the prefetch buffer): report it cancelled without running it. */
  cancelUnstarted(job: ClaimedJob): void {
    const waiting = this.makeEntry(job);
    waiting.cause = 'cancelled';
    this.queueReport(waiting, this.decide(waiting, { ok: false, error: new Error('cancelled before it started') }));
  }

  /** A cancel was requested for a job; returns false when it is not running here. */
  cancel(jobId: string): boolean {
    const entry = this.entries.get(jobId);
    if (!entry) return false;
    this.abort(entry, 'cancelled');
    return true;
  }

  /** Abort every running handler (shutdown: their jobs are released). */
  abortAll(cause: AbortCause): void {
    for (const entry of this.entries.values()) this.abort(entry, cause);
  }

  /** Act on a lease renewal: abort the attempts whose lease was lost or whose cancel was requested. */
  onLeaseAnswer(answer: LeaseAnswer<ClaimedJob>): void {
    for (const job of answer.lost) {
      const entry = this.entries.get(job.id);
      if (!entry || entry.reported || entry.job !== job) continue;
      this.deps.events.emit('lease-lost', { jobId: job.id });
      this.deps.logger.warn({ jobId: job.id }, 'lease lost; aborting the handler');
      this.abort(entry, 'lease-lost');
    }
    for (const job of answer.cancelled) {
      const entry = this.entries.get(job.id);
      if (entry && !entry.reported) this.abort(entry, 'cancelled');
    }
  }

  /** Wait until no handler runs, or `limitMs` passed. */
  async waitIdle(limitMs: number): Promise<void> {
    const clock = this.deps.clock;
    const deadline = clock.nowMs() + limitMs;
    while (this.entries.size > 0 && clock.nowMs() < deadline) {
      await new Promise<void>((resolve) => {
        this.idleWaiters.add(resolve);
        if (Number.isFinite(limitMs)) setTimeout(resolve, Math.max(0, deadline - clock.nowMs())).unref();
      });
    }
  }

  /** Record every queued outcome. */
  flushReports(): Promise<void> {
    return this.reports.flush();
  }

  /** Write pending progress and log lines. */
  async flushOutput(): Promise<void> {
    if (this.output.size === 0) return;
    const outputs = this.output.drain();
    const tenants = new Map<string, string>();
    for (const [id, entry] of this.entries) tenants.set(id, entry.job.tenantId);
    for (const item of this.reports.pending) tenants.set(item.entry.job.id, item.entry.job.tenantId);
    try {
      await recordOutput(this.deps.pool, outputs);
      const at = this.nowIso();
      this.deps.liveEvents.publish(outputs.map((o) => ({ type: 'job-output', tenantId: tenants.get(o.id) ?? '', jobId: o.id, attempt: o.attempt, at })));
    } catch (error) {
      this.deps.reportFailure('output', error);
    }
  }

  // ---- one attempt ------------------------------------------------------------------------------

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
    return { job, info, controller: null, abortedWith: null, cause: null, reported: false, timers: [], startedAtMs: this.deps.clock.nowMs() };
  }

  /**
   * Resolve the payload's secret references, then run the handler on the resolved copy (the stored
   * job keeps the references). From here on the attempt's output is redacted.
   */
  private async runWithSecrets(entry: Entry, handler: TaskHandler<unknown, unknown>, context: JobContext): Promise<unknown> {
    const resolved = await resolvePayloadSecrets(this.deps.secrets, entry.job.tenantId, entry.job.payload);
    entry.redactor = resolved.redactor;
    context.logger = redactingLogger(context.logger, resolved.redactor);
    return handler(resolved.payload, context);
  }

  /**
   * The handler's context. Its signal and its logger are made on first use: most handlers read
   * neither, and both cost more than running a short job (an AbortController, a logger child).
   * They are own enumerable getters, so `{ ...context }` still carries them.
   */
  private makeContext(entry: Entry): JobContext {
    const { job } = entry;
    const base = this.deps.logger;
    let logger: JobContext['logger'] | null = null;
    const traceParent = traceParentOf(entry.span) ?? (parseTraceParent(job.traceParent) ? job.traceParent ?? undefined : undefined);
    return {
      ...(traceParent ? { traceParent } : {}),
      job: entry.info,
      get signal(): AbortSignal {
        if (entry.controller === null) {
          entry.controller = new AbortController();
          if (entry.abortedWith) entry.controller.abort(entry.abortedWith);
        }
        return entry.controller.signal;
      },
      get logger(): JobContext['logger'] {
        logger ??= base.child({ jobId: job.id, task: job.task, attempt: job.attempt });
        return logger;
      },
      set logger(value: JobContext['logger']) {
        logger = value;
      },
      log: (message, fields) => {
        if (entry.reported) return;
        const r = entry.redactor;
        const text = r ? r.text(typeof message === 'string' ? message : String(message)) : message;
        this.output.log(job.id, job.leaseToken, job.attempt, 'info', text, r ? redactFields(fields, r) : fields, this.nowIso());
      },
      progress: (value) => {
        if (!entry.reported) this.output.progress(job.id, job.leaseToken, job.attempt, entry.redactor ? entry.redactor.deep(value) : value);
      },
    };
  }

  private settle(entry: Entry, settled: Settlement): void {
    for (const timer of entry.timers) clearTimeout(timer);
    if (!entry.reported) this.finish(entry, this.decide(entry, settled));
    this.release(entry);
  }

  private decide(entry: Entry, settled: Settlement): AttemptOutcome {
    return decideOutcome(
      entry.job,
      entry.redactor ? redactSettlement(settled, entry.redactor) : settled,
      entry.cause,
      this.outcomeContext,
    );
  }

  /** Free the slot of an entry whose handler settled (or was abandoned). */
  private release(entry: Entry): void {
    endAttemptSpan(entry, null);
    if (this.entries.get(entry.job.id) !== entry) return;
    this.entries.delete(entry.job.id);
    this.output.forget(entry.job.id, entry.job.leaseToken);
    this.deps.onSlotFreed(this.deps.clock.nowMs() - entry.startedAtMs);
    if (this.entries.size === 0) {
      for (const resolve of this.idleWaiters) resolve();
      this.idleWaiters.clear();
    }
  }

  /**
   * Fire the handler's signal. A timeout is reported at once (the job retries elsewhere); a cancel
   * waits for the handler up to the cancel grace; a lost lease reports nothing. The slot stays
   * taken until the handler settles, but never longer than the grace: JavaScript cannot kill a
   * handler that ignores its signal, and one stuck handler must not stall the worker forever.
   */
  private abort(entry: Entry, cause: AbortCause): void {
    if (entry.reported || entry.cause !== null) return;
    const { cancelGraceMs, heartbeatMs } = this.deps.settings;
    entry.cause = cause;
    const reason = Object.assign(new Error(`job ${cause}`), { name: 'AbortError', reason: cause });
    if (entry.controller) entry.controller.abort(reason);
    else entry.abortedWith = reason;
    if (cause === 'timeout' || cause === 'lease-lost' || cause === 'shutdown') {
      this.finish(entry, this.decide(entry, { ok: false, error: reason }));
    } else {
      entry.timers.push(
        setTimeout(() => {
          if (!entry.reported) this.finish(entry, this.decide(entry, { ok: false, error: reason }));
        }, cancelGraceMs),
      );
    }
    if (cause !== 'shutdown') {
      const abandon = setTimeout(() => {
        if (this.entries.get(entry.job.id) === entry) {
          this.deps.logger.warn({ jobId: entry.job.id, cause }, 'handler ignored its abort signal; freeing its slot');
          this.release(entry);
        }
      }, cancelGraceMs + heartbeatMs);
      abandon.unref();
    }
  }

  // ---- reporting --------------------------------------------------------------------------------

  private finish(entry: Entry, outcome: AttemptOutcome): void {
    entry.reported = true;
    endAttemptSpan(entry, outcome);
    this.queueReport(entry, outcome);
  }

  private queueReport(entry: Entry, outcome: AttemptOutcome): void {
    entry.reported = true;
    const report = reportOf(outcome, entry.job.id, entry.job.leaseToken);
    if (report === null) {
      this.deps.events.emit('job:end', { job: entry.info, outcome: outcome.kind, status: null });
      return;
    }
    this.reports.push({ report, entry, outcome: outcome.kind });
  }

  private afterReport(item: QueuedReport, status: string | null): void {
    if (status === null) {
      this.deps.logger.warn({ jobId: item.report.id, outcome: item.outcome }, 'outcome not recorded: this worker no longer holds the lease');
    } else if (item.report.kind === 'retry' && status === 'queued') {
      this.deps.onRetryDue(this.deps.clock.nowMs() + item.report.delayMs);
    }
    this.deps.events.emit('job:end', { job: item.entry.info, outcome: item.outcome, status });
  }

  private nowIso(): string {
    return new Date(this.deps.clock.nowMs()).toISOString();
  }
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
