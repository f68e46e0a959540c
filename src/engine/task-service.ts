/**
 * Which tasks the live workers handle (workers announce their tasks when they register), and what
 * a submit for a task none of them handles gets: a warning, or — with the tenant's `strictTasks`
 * setting — a 422 TASK_UNKNOWN. Without this, such a job sits queued forever without a word.
 */
import { TASK_PATTERN } from '../core/validate.js';
import type { Queryable } from '../db/pool.js';
import { findUnhandledTasks, listLiveTasks } from '../db/queries/tasks.js';
import { AppError } from '../errors/index.js';

/** A task at least one live worker handles. */
export interface LiveTask {
  task: string;
  /** Live workers that announced it. */
  workers: number;
  /** Zones of those workers (empty when none runs in a zone). */
  zones: string[];
}

/** Said about a submit that was stored but that nothing will run as things stand. */
export interface TaskWarning {
  code: 'TASK_UNKNOWN';
  message: string;
  task: string;
}

/** One job of a submit to check; `pointer` locates it in the request (`''`, `/jobs/3`). */
export interface TaskUse {
  pointer: string;
  task: string;
}

/** The tasks live workers handle, and the check of a submit against them. */
export interface TaskService {
  /** Tasks the live workers of a tenant (and the tenant-less ones) handle, by name. */
  list(tenantId: string): Promise<LiveTask[]>;
  /**
   * Warnings for the tasks of `uses` no live worker handles; when the tenant's `strictTasks` is
   * on, throws TASK_UNKNOWN (422) instead, with one field error per job that names such a task.
   */
  check(tenantId: string, uses: readonly TaskUse[]): Promise<TaskWarning[]>;
}

/** The warning message for a task no live worker handles. */
export function unhandledTaskMessage(task: string): string {
  return `no live worker handles task ${JSON.stringify(task)}`;
}

/** A task service on `db`; a worker whose heartbeat is older than `workerStaleMs` is not live. */
export function createTaskService(options: { db: Queryable; workerStaleMs: number }): TaskService {
  const { db, workerStaleMs } = options;
  return {
    list: (tenantId) => listLiveTasks(db, tenantId, workerStaleMs),
    async check(tenantId, uses) {
      // A task that is not a valid name is refused by the job's own validation, with its own message.
      const named = uses.filter((u) => typeof u.task === 'string' && TASK_PATTERN.test(u.task));
      if (named.length === 0) return [];
      const { strictTasks, unhandled } = await findUnhandledTasks(db, tenantId, [...new Set(named.map((u) => u.task))], workerStaleMs);
      if (unhandled.length === 0) return [];
      if (strictTasks) {
        const errors = named.filter((u) => unhandled.includes(u.task)).map((u) => ({ pointer: `${u.pointer}/task`, message: unhandledTaskMessage(u.task) }));
        throw new AppError('TASK_UNKNOWN', `${errors[0]!.message}; this tenant refuses jobs for tasks no live worker handles (strictTasks)`, { errors });
      }
      return unhandled.map((task) => ({ code: 'TASK_UNKNOWN', message: unhandledTaskMessage(task), task }));
    },
  };
}
