/**
 * Which tasks the live workers handle (workers announce their tasks when they register), and what
 * a submit for a task none of them handles gets: a warning, or — with the tenant's `strictTasks`
 * setting — a 422 TASK_UNKNOWN. Without this, such a job sits queued forever without a word.
 */
import type { Clock } from '../core/deps.js';
import { TASK_PATTERN } from '../core/validate.js';
import type { Queryable } from '../db/pool.js';
import { findUnhandledTasks, listLiveTasks } from '../db/queries/tasks.js';
import { AppError } from '../errors/index.js';
import { systemClock } from './clock.js';

/**
 * A task found handled is taken as handled for this long without asking again, so a stream of
 * submits costs one lookup per task per second, not one per submit. A worker that goes away is
 * noticed this much later; a task that was unknown is looked up on every submit.
 */
export const HANDLED_TASK_CACHE_MS = 1000;
/** Entries kept at most (a flood of distinct task names cannot grow the cache without bound). */
const CACHE_LIMIT = 10_000;

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
export function createTaskService(options: { db: Queryable; workerStaleMs: number; clock?: Clock }): TaskService {
  const { db, workerStaleMs } = options;
  const clock = options.clock ?? systemClock;
  /** `tenant\0task` → until when it counts as handled. */
  const handledUntil = new Map<string, number>();
  return {
    list: (tenantId) => listLiveTasks(db, tenantId, workerStaleMs),
    async check(tenantId, uses) {
      // A task that is not a valid name is refused by the job's own validation, with its own message.
      const named = uses.filter((u) => typeof u.task === 'string' && TASK_PATTERN.test(u.task));
      if (named.length === 0) return [];
      const now = clock.nowMs();
      const keyOf = (task: string): string => `${tenantId}\u0000${task}`;
      const asked = [...new Set(named.map((u) => u.task))].filter((task) => (handledUntil.get(keyOf(task)) ?? 0) <= now);
      if (asked.length === 0) return [];
      const { strictTasks, unhandled } = await findUnhandledTasks(db, tenantId, asked, workerStaleMs);
      if (handledUntil.size > CACHE_LIMIT) handledUntil.clear();
      for (const task of asked) if (!unhandled.includes(task)) handledUntil.set(keyOf(task), now + HANDLED_TASK_CACHE_MS);
      if (unhandled.length === 0) return [];
      if (strictTasks) {
        const errors = named.filter((u) => unhandled.includes(u.task)).map((u) => ({ pointer: `${u.pointer}/task`, message: unhandledTaskMessage(u.task) }));
        throw new AppError('TASK_UNKNOWN', `${errors[0]!.message}; this tenant refuses jobs for tasks no live worker handles (strictTasks)`, { errors });
      }
      return unhandled.map((task) => ({ code: 'TASK_UNKNOWN', message: unhandledTaskMessage(task), task }));
    },
  };
}
