import type { Logger } from '../core/deps.js';
import { silentLogger } from '../core/deps.js';
import type { EventSink } from '../core/live-events.js';
import { EventPublisher } from './event-publisher.js';
import { normalizeJobSpec, type JobSpec, type NormalizedJob } from '../core/job-spec.js';
import { AppError } from '../errors/index.js';
import type { Pool } from '../db/pool.js';
import { databaseFault } from '../db/pool.js';
import { needsPlacement, notifyNewJobs, type NewJobRow } from '../db/queries/jobs.js';
import { DEFAULT_TENANT_ID } from '../core/tenants.js';
import { getJob } from '../db/queries/job-admin.js';
import { insertedEvents, insertRows, toNewJobRow, type SubmitContext, type SubmittedJob } from './submit.js';
import { assertIdempotentRepeat, checkSubmissionNow, NO_SUBMIT_CHECKS } from './submit-checks.js';

/** Options for {@link JobProducer}. */
export interface ProducerOptions {
  /** Most jobs in one group commit. @defaultValue 1000 */
  maxBatch?: number;
  /** Group commits in flight at once. @defaultValue 2 */
  maxInFlight?: number;
  /**
   * Least time between two wake-up notifications. The first is sent at once (idle pickup stays
   * fast); commits within the window share one trailing notification, so under load every
   * worker claims a few large batches instead of many near-empty ones. @defaultValue 5
   */
  notifyIntervalMs?: number;
  /** Where committed jobs are announced (live events). */
  events?: EventSink;
  logger?: Logger;
}

interface Pending {
  row: NewJobRow;
  resolve: (job: SubmittedJob) => void;
  reject: (error: Error) => void;
}

/**
 * Submits jobs outside any caller transaction with group commit: single `add` calls that arrive
 * while a commit is in flight are gathered into the next one, so N concurrent callers cost about
 * one WAL flush instead of N. Each promise resolves only after its job is committed (guarantee 1).
 *
 * Wake-ups are sent after the commit, outside the insert transaction, and coalesced: PostgreSQL
 * serialises the commits of every transaction that NOTIFYs behind one lock held across the WAL
 * flush, so a NOTIFY inside each insert would cap throughput at one commit per flush. A NOTIFY
 * alone writes no WAL. If this process died between commit and notify, the workers' polling
 * backstop still finds the job.
 */
export class JobProducer {
  private readonly pool: Pool;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly logger: Logger;
  private readonly events: EventSink;
  private readonly ownPublisher: EventPublisher | null;
  private readonly pending: Pending[] = [];
  private inFlight = 0;
  /** add() calls looking up secret references before their job is queued. */
  private checking = 0;
  private scheduled = false;
  private notifying = false;
  /** Wake-ups waiting for their jobs' live events to be sent first. */
  private waking = 0;
  private notifyAgain = false;
  /** Some job committed since the last wake-up waits for placement: the placer is woken too. */
  private placementPending = false;
  private lastNotifyAt = -Infinity;
  private readonly notifyIntervalMs: number;
  private closed = false;
  private readonly idle = new Set<() => void>();

  constructor(pool: Pool, options: ProducerOptions = {}) {
    this.pool = pool;
    this.maxBatch = options.maxBatch ?? 1000;
    this.maxInFlight = options.maxInFlight ?? 2;
    this.notifyIntervalMs = options.notifyIntervalMs ?? 5;
    this.logger = options.logger ?? silentLogger;
    this.ownPublisher = options.events ? null : new EventPublisher(pool, { logger: this.logger });
    this.events = options.events ?? this.ownPublisher!;
  }

  /**
   * Submit one job; resolves once it is committed. The submit rules run here, so the SDK and the
   * API refuse the same jobs: the spec's schema, the installation's task and payload policy
   * (`context.policy`), secret references of the tenant, and a repeated idempotency key that
   * names a different job (IDEMPOTENCY_CONFLICT).
   */
  add(spec: JobSpec, context: SubmitContext = {}): Promise<SubmittedJob> {
    if (this.closed) return Promise.reject(new AppError('SHUTTING_DOWN', 'the producer is closed'));
    let job: NormalizedJob;
    let row: NewJobRow;
    let lookup: Promise<void> | null;
    try {
      job = normalizeJobSpec(spec, '', context.limits);
      row = toNewJobRow(job, context);
      lookup = checkSubmissionNow(this.pool, row.tenant_id, [{ pointer: '', task: job.task, payload: spec.payload }], context.policy ?? NO_SUBMIT_CHECKS);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    // Without a secret lookup the job is queued in this tick, so same-tick submits share a commit.
    const submitted = lookup === null ? this.enqueue(row) : this.afterLookup(lookup, row);
    return job.idempotencyKey === null ? submitted : submitted.then((result) => this.checkRepeat(job, result, row.tenant_id));
  }

  /** Queue `row` once its secret references are known to exist; close() waits for the lookup. */
  private async afterLookup(lookup: Promise<void>, row: NewJobRow): Promise<SubmittedJob> {
    this.checking += 1;
    try {
      await lookup;
    } finally {
      this.checking -= 1;
    }
    // Queued before settling, so a close() waiting on the lookup then waits for this job's commit.
    const submitted = this.enqueue(row);
    this.settle();
    return submitted;
  }

  private enqueue(row: NewJobRow): Promise<SubmittedJob> {
    return new Promise<SubmittedJob>((resolve, reject) => {
      this.pending.push({ row, resolve, reject });
      this.schedule();
    });
  }

  /** A job found by its idempotency key must be the one asked for. */
  private async checkRepeat(job: NormalizedJob, result: SubmittedJob, tenantId: string): Promise<SubmittedJob> {
    if (result.created) return result;
    const existing = await getJob(this.pool, tenantId, result.id);
    if (existing) assertIdempotentRepeat(job, existing);
    return result;
  }

  /**
   * Submit many jobs (bulk): one statement per `maxBatch` jobs; resolves once all are committed.
   * The task and payload policy and secret references are checked for every job first (nothing
   * is stored if one fails); `at` locates the list in the caller's input (`/jobs` for the API).
   */
  async addMany(specs: readonly JobSpec[], context: SubmitContext = {}, at = ''): Promise<SubmittedJob[]> {
    if (this.closed) throw new AppError('SHUTTING_DOWN', 'the producer is closed');
    const jobs = specs.map((spec, i) => normalizeJobSpec(spec, `${at}/${i}`, context.limits));
    const rows = jobs.map((job) => toNewJobRow(job, context));
    const tenantId = context.tenantId ?? DEFAULT_TENANT_ID;
    const lookup = checkSubmissionNow(this.pool, tenantId, specs.map((spec, i) => ({ pointer: `${at}/${i}`, task: spec.task, payload: spec.payload })), context.policy ?? NO_SUBMIT_CHECKS);
    const chunks: NewJobRow[][] = [];
    for (let i = 0; i < rows.length; i += this.maxBatch) chunks.push(rows.slice(i, i + this.maxBatch));
    // Chunks go in parallel on `maxInFlight` connections: PostgreSQL inserts on one core while the
    // next chunk is serialised and parsed on another. Each chunk commits on its own, so a failure
    // part-way leaves the earlier chunks stored (the error says how many).
    const results: SubmittedJob[][] = new Array<SubmittedJob[]>(chunks.length);
    let next = 0;
    this.inFlight += 1;
    const lane = async (): Promise<void> => {
      while (next < chunks.length) {
        const index = next++;
        results[index] = await this.insert(chunks[index]!);
      }
    };
    try {
      if (lookup !== null) await lookup;
      await Promise.all(Array.from({ length: Math.min(this.maxInFlight, chunks.length) }, lane));
    } catch (error) {
      const stored = results.reduce((n, r) => n + (r?.length ?? 0), 0);
      if (error instanceof AppError && stored > 0) {
        throw new AppError(error.code, `${error.message} (${stored} of ${rows.length} jobs were stored before the failure)`, { cause: error });
      }
      throw error;
    } finally {
      this.inFlight -= 1;
      if (results.some((r) => r !== undefined)) this.wakeAfterEvents();
      this.settle();
    }
    return results.flat();
  }

  /** Wait for in-flight commits, then refuse new jobs. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.inFlight > 0 || this.checking > 0 || this.pending.length > 0 || this.notifying || this.waking > 0) {
      await new Promise<void>((resolve) => this.idle.add(resolve));
    }
    await this.ownPublisher?.close();
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    // A microtask gathers every add() made in the same tick into the first batch.
    queueMicrotask(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0 || this.inFlight >= this.maxInFlight) return;
    const batch = this.pending.splice(0, this.maxBatch);
    this.inFlight += 1;
    try {
      const submitted = await this.insertIsolating(batch);
      submitted.forEach((result, i) => {
        const item = batch[i]!;
        if (result instanceof Error) item.reject(result);
        else item.resolve(result);
      });
      this.wakeAfterEvents();
    } finally {
      this.inFlight -= 1;
      if (this.pending.length > 0) this.schedule();
      this.settle();
    }
  }

  /**
   * Insert a batch; if the statement fails for a reason other than the connection, retry the
   * rows one by one so only the offending caller gets the error.
   */
  private async insertIsolating(batch: Pending[]): Promise<Array<SubmittedJob | Error>> {
    try {
      return await this.insert(batch.map((p) => p.row));
    } catch (error) {
      if (batch.length === 1 || databaseFault(error) !== null) return batch.map(() => toAppError(error));
      const results: Array<SubmittedJob | Error> = [];
      for (const item of batch) {
        try {
          results.push(...(await this.insert([item.row])));
        } catch (single) {
          results.push(toAppError(single));
        }
      }
      return results;
    }
  }

  private async insert(rows: readonly NewJobRow[]): Promise<SubmittedJob[]> {
    let submitted: SubmittedJob[];
    try {
      submitted = await insertRows(this.pool, rows);
    } catch (error) {
      throw toAppError(error);
    }
    if (needsPlacement(rows)) this.placementPending = true;
    if (this.events.wanted?.() !== false) this.events.publish(insertedEvents(rows, submitted));
    return submitted;
  }

  /**
   * Wake workers once the new jobs' `queued` events are out, so that no subscriber hears a job
   * started before it hears it was submitted (the wake-up and the events travel on different
   * connections).
   */
  private wakeAfterEvents(): void {
    this.waking += 1;
    void this.events.flushed().then(() => {
      this.waking -= 1;
      this.wake();
    });
  }

  /**
   * Wake workers: now if the last notification is older than the interval, else once at the end
   * of the interval (never more than one pending). A NOTIFY outside a transaction writes no WAL.
   */
  private wake(): void {
    if (this.notifying) {
      this.notifyAgain = true;
      return;
    }
    this.notifying = true;
    void (async () => {
      try {
        do {
          this.notifyAgain = false;
          const wait = this.lastNotifyAt + this.notifyIntervalMs - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          this.lastNotifyAt = performance.now();
          const placement = this.placementPending;
          this.placementPending = false;
          await notifyNewJobs(this.pool, placement).catch((error: unknown) =>
            this.logger.warn({ err: (error as Error).message }, 'could not notify workers; they will poll'),
          );
        } while (this.notifyAgain);
      } finally {
        this.notifying = false;
        this.settle();
      }
    })();
  }

  private settle(): void {
    if (this.inFlight === 0 && this.checking === 0 && this.pending.length === 0 && !this.notifying && this.waking === 0) {
      for (const resolve of this.idle) resolve();
      this.idle.clear();
    }
  }
}

function toAppError(error: unknown): Error {
  if (error instanceof AppError) return error;
  switch (databaseFault(error)) {
    case 'unavailable':
      return new AppError('DATABASE_UNAVAILABLE', `the job was not stored: ${(error as Error).message}`, { cause: error });
    case 'read-only':
      return new AppError('DATABASE_READ_ONLY', `the job was not stored: the database accepts no writes right now (${(error as Error).message})`, { cause: error });
    case null:
      break;
  }
  return error instanceof Error ? error : new Error(String(error));
}
