/**
 * `jobplane/testing`: Jobplane in a test, the way River's `rivertest` and graphile-worker's test
 * helpers do it. {@link createTestJobplane} gives a migrated throwaway database and a worker that
 * runs jobs inline, when the test says so (`runUntilIdle()`), with the real claim, lease and
 * report statements: what passes here passes against a real deployment.
 *
 * ```ts
 * const jp = await createTestJobplane({ tasks: { 'send-email': async (p: { to: string }) => ({ sent: p.to }) } });
 * const { id } = await jp.add({ task: 'send-email', payload: { to: 'a@example.com' } });
 * await jp.runUntilIdle();
 * assert.equal((await jp.getJob(id)).status, 'completed');
 * await jp.close();
 * ```
 * @packageDocumentation
 */
import { silentLogger, type Logger } from '../core/deps.js';
import type { JobSpec } from '../core/job-spec.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../db/embedded.js';
import type { JobRow } from '../db/queries/job-rows.js';
import type { Pool } from '../db/pool.js';
import { createThrowawayDatabase } from '../db/throwaway.js';
import { readJob } from '../engine/job-service.js';
import { addJob, addJobs, type SubmitContext, type SubmittedJob } from '../engine/submit.js';
import type { TaskList } from '../worker/types.js';
import { createWorker, type WorkerOptions } from '../worker/worker.js';

/** Options of {@link createTestJobplane}. */
export interface TestJobplaneOptions {
  /** Handlers the inline worker runs, by task name. @defaultValue none (jobs stay queued) */
  tasks?: TaskList;
  /**
   * A PostgreSQL server to create the throwaway database on: the URL of any database there whose
   * role may `CREATE DATABASE`. @defaultValue `JOBPLANE_TEST_ADMIN_URL`, else an embedded
   * PostgreSQL started for this instance (a few seconds) in a temporary folder
   */
  adminUrl?: string;
  /** The worker's other options (queues, tenant, concurrency, lease…); its pool, tasks and maintenance are set here. */
  worker?: Omit<WorkerOptions, 'pool' | 'databaseUrl' | 'tasks' | 'maintenance'>;
  logger?: Logger;
}

/** What {@link TestJobplane.runUntilIdle} did. */
export interface IdleReport {
  /** Attempts run (a job retried at once counts once per attempt). */
  attempts: number;
}

/** A Jobplane of one's own for a test. */
export interface TestJobplane {
  /** URL of the throwaway database (for code under test that opens its own pool). */
  url: string;
  /** A pool on it (closed by `close()`): give it to the code under test, or use it in transactions. */
  pool: Pool;
  /** Submit a job (as `jp.jobs.add` and `POST /api/v1/jobs` do, validation included). */
  add(spec: JobSpec, context?: SubmitContext): Promise<SubmittedJob>;
  /** Submit several jobs in one statement. */
  addMany(specs: readonly JobSpec[], context?: SubmitContext): Promise<SubmittedJob[]>;
  /**
   * Run every due job the worker's tasks handle, batch after batch, until none is due (jobs a
   * handler adds meanwhile included). A job whose retry waits for its backoff is not due: it is
   * left queued, with its attempt and error recorded. Throws after `maxAttempts` attempts
   * (default 10,000), for a handler that keeps enqueueing work.
   */
  runUntilIdle(options?: { maxAttempts?: number }): Promise<IdleReport>;
  /** A job as stored (status, attempt, result, errors…); throws JOB_NOT_FOUND. */
  getJob(id: string): Promise<JobRow>;
  /** Drop the database (and stop the embedded server, if one was started). Idempotent. */
  close(): Promise<void>;
}

/** A migrated throwaway database and an inline worker; see the module documentation. */
export async function createTestJobplane(options: TestJobplaneOptions = {}): Promise<TestJobplane> {
  const logger = options.logger ?? silentLogger;
  let embedded: EmbeddedPostgres | null = null;
  let adminUrl = options.adminUrl ?? process.env.JOBPLANE_TEST_ADMIN_URL;
  if (!adminUrl) {
    embedded = await startEmbeddedPostgres({ dataDir: '', ephemeral: true, logger });
    adminUrl = embedded.adminConnectionString;
  }
  const database = await createThrowawayDatabase(adminUrl).catch(async (error: unknown) => {
    await embedded?.stop();
    throw error;
  });
  const tasks = options.tasks ?? {};
  // Never started: runUntilIdle drives it batch by batch (runOnce), so nothing runs behind the test's back.
  const worker = Object.keys(tasks).length === 0 ? null : createWorker({ ...options.worker, pool: database.pool, tasks, maintenance: false, logger });
  let closing: Promise<void> | null = null;
  return {
    url: database.url,
    pool: database.pool,
    add: (spec, context) => addJob(database.pool, spec, context),
    addMany: (specs, context) => addJobs(database.pool, specs, context),
    async runUntilIdle({ maxAttempts = 10_000 } = {}) {
      let attempts = 0;
      if (!worker) return { attempts };
      for (let ran = await worker.runOnce(); ran > 0; ran = await worker.runOnce()) {
        attempts += ran;
        if (attempts > maxAttempts) throw new Error(`runUntilIdle: more than ${maxAttempts} attempts ran and jobs are still due (a handler that keeps adding jobs?)`);
      }
      return { attempts };
    },
    getJob: (id) => readJob(database.pool, { tenantId: null }, id),
    close: () => {
      closing ??= (async () => {
        await worker?.stop();
        await database.drop();
        await embedded?.stop();
      })();
      return closing;
    },
  };
}

export type { JobSpec, SubmitContext, SubmittedJob, JobRow, TaskList };
