/**
 * The job lifecycle (docs/decisions.md #4): exactly six statuses and the transitions between them.
 * This table is the single source of truth; migration 0001 mirrors it in a trigger, and
 * `test/integration/job-states-sql.test.ts` proves the two agree pair by pair.
 */

/** Every status a job can have. */
export const JOB_STATUSES = ['queued', 'scheduled', 'running', 'completed', 'failed', 'cancelled'] as const;

/** A job's status. "Delayed" and "retrying" are views of `queued`, not statuses. */
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Statuses a job does not leave on its own (only a manual retry re-queues failed/cancelled). */
export const TERMINAL_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];

/**
 * Allowed status changes, keyed by the current status.
 * - queued → scheduled: placed on a zone/worker; queued → running: claimed without placement.
 * - scheduled → queued: placement withdrawn (e.g. the zone lost its last worker).
 * - running → queued: failed with attempts left, lease expired, or released at shutdown.
 * - failed/cancelled → queued: manual retry.
 */
export const JOB_TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  queued: ['scheduled', 'running', 'cancelled'],
  scheduled: ['queued', 'running', 'cancelled'],
  running: ['queued', 'completed', 'failed', 'cancelled'],
  completed: [],
  failed: ['queued'],
  cancelled: ['queued'],
};

/** Whether a job may move from `from` to `to` (staying in the same status is always allowed). */
export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return from === to || JOB_TRANSITIONS[from].includes(to);
}

/** Whether `value` names a job status. */
export function isJobStatus(value: unknown): value is JobStatus {
  return typeof value === 'string' && (JOB_STATUSES as readonly string[]).includes(value);
}

/** Whether a status is terminal. */
export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** Every allowed (from, to) pair with from ≠ to, in table order; used to check the SQL mirror. */
export function allowedTransitionPairs(): Array<[JobStatus, JobStatus]> {
  return JOB_STATUSES.flatMap((from) => JOB_TRANSITIONS[from].map((to): [JobStatus, JobStatus] => [from, to]));
}

/**
 * How far along its life a job is, for ordering two sightings of it (a list row read from the
 * database and a live event) without timestamps. `attempt` rises when a worker claims the job, so
 * attempt n is step 2n-1 while running and step 2n once it left the worker (queued again for a
 * retry, or finished). Waiting before the first claim is step 0. A manual retry (failed or
 * cancelled → queued, same attempt) stays on the same step: a tie, which the caller resolves in
 * favour of the newer-looking sighting.
 */
export function lifecycleStep(status: JobStatus, attempt: number): number {
  return status === 'running' ? 2 * attempt - 1 : 2 * attempt;
}

/** Whether sighting `b` of a job is not older than sighting `a` (see `lifecycleStep`). */
export function isNotOlder(a: { status: JobStatus; attempt: number }, b: { status: JobStatus; attempt: number }): boolean {
  return lifecycleStep(b.status, b.attempt) >= lifecycleStep(a.status, a.attempt);
}
