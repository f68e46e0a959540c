import type { AttemptError } from '../../core/attempt-outcome.js';
import type { JobStatus } from '../../core/job-states.js';

/**
 * Column list and row mapping for the `jobs` table, shared by every query that returns a job.
 * snake_case columns are renamed to camelCase in the SQL itself.
 */
export const JOB_COLUMNS = `
  j.id, j.tenant_id AS "tenantId", j.queue, j.task, j.status, j.priority, j.run_at AS "runAt",
  j.attempt, j.attempt_base AS "attemptBase", j.max_attempts AS "maxAttempts", j.backoff,
  j.timeout_ms AS "timeoutMs", j.idempotency_key AS "idempotencyKey", j.labels, j.payload,
  j.placement, j.placement_zone AS "placementZone", j.placement_worker AS "placementWorker",
  j.deadline_at AS "deadlineAt", j.assigned_zone AS "assignedZone", j.assigned_worker AS "assignedWorker",
  j.worker_id AS "workerId", j.lease_token AS "leaseToken", j.lease_expires_at AS "leaseExpiresAt",
  j.cancel_requested_at AS "cancelRequestedAt", j.progress, j.result, j.errors,
  j.schedule_id AS "scheduleId", j.fire_at AS "fireAt", j.trace_parent AS "traceParent",
  j.created_by AS "createdBy", j.created_at AS "createdAt", j.started_at AS "startedAt",
  j.finished_at AS "finishedAt"`;

export type { AttemptError } from '../../core/attempt-outcome.js';

/** A job as stored. */
export interface JobRow {
  id: string;
  tenantId: string;
  queue: string;
  task: string;
  status: JobStatus;
  priority: number;
  runAt: Date;
  attempt: number;
  attemptBase: number;
  maxAttempts: number;
  backoff: Record<string, unknown> | null;
  timeoutMs: number | null;
  idempotencyKey: string | null;
  labels: Record<string, string> | null;
  payload: unknown;
  placement: 'any' | 'zone' | 'worker' | 'greenest';
  placementZone: string | null;
  placementWorker: string | null;
  deadlineAt: Date | null;
  assignedZone: string | null;
  assignedWorker: string | null;
  workerId: string | null;
  /** bigint, as a decimal string. */
  leaseToken: string;
  leaseExpiresAt: Date | null;
  cancelRequestedAt: Date | null;
  progress: unknown;
  result: unknown;
  errors: AttemptError[];
  scheduleId: string | null;
  fireAt: Date | null;
  traceParent: string | null;
  createdBy: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}
