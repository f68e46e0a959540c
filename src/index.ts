/**
 * `jobplane`: submit and manage jobs and schedules straight against PostgreSQL, and run workers.
 * @packageDocumentation
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { JobSpec } from './core/job-spec.js';
import { isTerminal } from './core/job-states.js';
import { DEFAULT_TENANT_ID } from './core/tenants.js';
import { migrate } from './db/migrator.js';
import { createPool, type Pool } from './db/pool.js';
import type { JobRow } from './db/queries/job-rows.js';
import { countJobs } from './db/queries/job-admin.js';
import { listQueueSettings, type QueueSettings } from './db/queries/queues.js';
import { changeQueue } from './engine/queue-service.js';
import { cancelJob, readJob, readJobLogs, rescheduleJob, retryJob, searchJobs, type JobSearch } from './engine/job-service.js';
import { JobProducer } from './engine/producer.js';
import { createSchedule, previewSchedule, readScheduleRuns, removeSchedule, setSchedulePaused, triggerSchedule, updateScheduleFields } from './engine/schedule-service.js';
import type { SubmittedJob } from './engine/submit.js';
import type { SubmitPolicy } from './engine/submit-checks.js';
import { createWorker, type Worker, type WorkerOptions } from './worker/worker.js';

export { addJob, addJobs, type SubmitContext, type SubmittedJob } from './engine/submit.js';
export type { SubmitPolicy } from './engine/submit-checks.js';
export type { JobSpec, PlacementOptions } from './core/job-spec.js';
export type { ScheduleSpec, OverlapPolicy } from './core/schedule-spec.js';
export type { MisfirePolicy } from './core/schedule-plan.js';
export type { BackoffOptions } from './core/backoff.js';
export { JOB_STATUSES, type JobStatus } from './core/job-states.js';
export type { JobRow } from './db/queries/job-rows.js';
export type { ScheduleRow, ScheduleRunRow } from './db/queries/schedules.js';
export type { QueueSettings } from './db/queries/queues.js';
export type { Queryable } from './db/pool.js';
export { AppError, isAppError, ERROR_CODES, type ErrorCode, PermanentError, RetryAfterError, CancelError } from './errors/index.js';
export { DEFAULT_TENANT_ID } from './core/tenants.js';
export { JobplaneClient, ApiError, type ClientOptions, type ApiJob, type ApiJobSubmit, type ApiSchedule, type ApiEvent, type TenantInfo, type ApiSecret } from './client/client.js';
export type { Role, Scope } from './core/access.js';

/** Options for {@link createJobplane}. */
export interface JobplaneOptions {
  databaseUrl: string;
  /** Tenant used by every call. @defaultValue the default tenant */
  tenantId?: string;
  /** Apply migrations on open. @defaultValue true */
  migrate?: boolean;
  /** Pool size. @defaultValue 10 */
  poolMax?: number;
  /** Keys that decrypt tenant secrets for this facade's workers (JOBPLANE_SECRETS_KEYS, `id:base64`). @defaultValue the database-kept key */
  secretsKeys?: readonly string[];
  /** Id of the key that encrypts (JOBPLANE_SECRETS_ACTIVE_KEY). @defaultValue the first key */
  secretsActiveKey?: string | null;
  /**
   * Tasks refused and built-in payloads checked by `jobs.add`/`addMany`, as the API checks them:
   * pass the installation's policy when this process submits to workers that run the built-ins.
   * @defaultValue nothing refused or checked (the SDK's own handlers decide what a task means)
   */
  submitPolicy?: SubmitPolicy;
}

/** A connection to Jobplane through PostgreSQL (no server needed). */
export interface Jobplane {
  pool: Pool;
  jobs: {
    add(spec: JobSpec): Promise<SubmittedJob>;
    addMany(specs: readonly JobSpec[]): Promise<SubmittedJob[]>;
    get(id: string): Promise<JobRow>;
    list(search?: JobSearch): Promise<{ jobs: JobRow[]; nextCursor: string | null }>;
    cancel(id: string): Promise<JobRow>;
    retry(id: string): Promise<JobRow>;
    reschedule(id: string, change: { runAt?: Date | string; priority?: number }): Promise<JobRow>;
    logs(id: string): ReturnType<typeof readJobLogs>;
    /** Poll until the job is completed, failed or cancelled. */
    waitFor(id: string, options?: { timeoutMs?: number }): Promise<JobRow>;
  };
  schedules: {
    create(spec: unknown): ReturnType<typeof createSchedule>;
    update(id: string, patch: unknown): ReturnType<typeof updateScheduleFields>;
    pause(id: string): ReturnType<typeof setSchedulePaused>;
    resume(id: string): ReturnType<typeof setSchedulePaused>;
    trigger(id: string): ReturnType<typeof triggerSchedule>;
    preview(id: string, count?: number): Promise<Date[]>;
    runs(id: string): ReturnType<typeof readScheduleRuns>;
    remove(id: string): ReturnType<typeof removeSchedule>;
  };
  queues: {
    pause(name: string): Promise<QueueSettings>;
    resume(name: string): Promise<QueueSettings>;
    /** Cap jobs running at once in this queue across every worker (null removes the cap). */
    setConcurrency(name: string, limit: number | null): Promise<QueueSettings>;
    list(): Promise<QueueSettings[]>;
    /** Job counts by queue and status. */
    counts(): ReturnType<typeof countJobs>;
  };
  /** A worker sharing this pool (call `start()`). */
  worker(options: Omit<WorkerOptions, 'pool' | 'databaseUrl'>): Worker;
  close(): Promise<void>;
}

/** Open Jobplane on a PostgreSQL database. */
export async function createJobplane(options: JobplaneOptions): Promise<Jobplane> {
  const pool = createPool({ connectionString: options.databaseUrl, max: options.poolMax ?? 10 });
  if (options.migrate ?? true) await migrate(pool);
  const tenantId = options.tenantId ?? DEFAULT_TENANT_ID;
  const actor = { tenantId };
  const producer = new JobProducer(pool);
  const workers: Worker[] = [];
  let closing: Promise<void> | null = null;
  return {
    pool,
    jobs: {
      add: (spec) => producer.add(spec, { tenantId, ...(options.submitPolicy ? { policy: options.submitPolicy } : {}) }),
      addMany: (specs) => producer.addMany(specs, { tenantId, ...(options.submitPolicy ? { policy: options.submitPolicy } : {}) }),
      get: (id) => readJob(pool, actor, id),
      list: (search = {}) => searchJobs(pool, actor, search),
      cancel: async (id) => (await cancelJob(pool, actor, id)).after,
      retry: async (id) => (await retryJob(pool, actor, id)).after,
      reschedule: async (id, change) => (await rescheduleJob(pool, actor, id, change)).after,
      logs: (id) => readJobLogs(pool, actor, id),
      async waitFor(id, { timeoutMs = 60_000 } = {}) {
        const deadline = Date.now() + timeoutMs;
        for (let wait = 10; ; wait = Math.min(wait * 2, 500)) {
          const job = await readJob(pool, actor, id);
          if (isTerminal(job.status) || Date.now() > deadline) return job;
          await delay(wait);
        }
      },
    },
    schedules: {
      create: (spec) => createSchedule(pool, actor, spec, options.submitPolicy),
      update: (id, patch) => updateScheduleFields(pool, actor, id, patch, options.submitPolicy),
      pause: (id) => setSchedulePaused(pool, actor, id, true),
      resume: (id) => setSchedulePaused(pool, actor, id, false),
      trigger: (id) => triggerSchedule(pool, actor, id),
      preview: (id, count) => previewSchedule(pool, actor, { id }, count),
      runs: (id) => readScheduleRuns(pool, actor, id),
      remove: (id) => removeSchedule(pool, actor, id),
    },
    queues: {
      pause: async (name) => (await changeQueue(pool, actor, name, { paused: true })).after,
      resume: async (name) => (await changeQueue(pool, actor, name, { paused: false })).after,
      setConcurrency: async (name, limit) => (await changeQueue(pool, actor, name, { concurrencyLimit: limit })).after,
      list: () => listQueueSettings(pool, tenantId),
      counts: () => countJobs(pool, tenantId),
    },
    worker(workerOptions) {
      const worker = createWorker({
        ...(options.secretsKeys ? { secretsKeys: options.secretsKeys } : {}),
        ...(options.secretsActiveKey !== undefined ? { secretsActiveKey: options.secretsActiveKey } : {}),
        ...workerOptions,
        pool,
      });
      workers.push(worker);
      return worker;
    },
    close() {
      closing ??= (async () => {
        await Promise.all(workers.map((w) => w.stop()));
        await producer.close();
        await pool.end();
      })();
      return closing;
    },
  };
}
