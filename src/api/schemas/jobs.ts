import { Type } from 'typebox';
import { JOB_STATUSES } from '../../core/job-states.js';
import { JobSubmitSchema } from '../../core/job-spec.js';
import { redactSensitive } from '../../core/redaction.js';
import type { JobRow } from '../../db/queries/job-rows.js';
import { NullableTimestamp, Timestamp } from './common.js';

const Json = Type.Unknown({ description: 'any JSON value' });

/** Options a submitter may give: the core's one declaration (src/core/job-spec.ts), which the SDK validates with too. */
export const JobSubmit = JobSubmitSchema;

/** One attempt's recorded failure. */
const AttemptError = Type.Object({
  attempt: Type.Integer(),
  kind: Type.String(),
  message: Type.String(),
  name: Type.Optional(Type.String()),
  stack: Type.Optional(Type.String({ description: 'Stack trace as the worker reported it (in-process or remote), redacted like the message' })),
  workerId: Type.Union([Type.String(), Type.Null()]),
  at: Type.String(),
});

/** A job as the API shows it. */
export const Job = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    queue: Type.String(),
    task: Type.String(),
    status: Type.Union(JOB_STATUSES.map((s) => Type.Literal(s))),
    priority: Type.Integer(),
    runAt: Timestamp,
    attempt: Type.Integer({ description: 'attempts started over the job’s life' }),
    maxAttempts: Type.Integer({ description: 'attempts allowed in the current run' }),
    attemptsLeft: Type.Integer(),
    payload: Json,
    result: Json,
    progress: Json,
    errors: Type.Array(AttemptError),
    labels: Type.Record(Type.String(), Type.String()),
    placement: Type.Object({
      kind: Type.String(),
      zone: Type.Union([Type.String(), Type.Null()]),
      workerId: Type.Union([Type.String(), Type.Null()]),
      assignedZone: Type.Union([Type.String(), Type.Null()]),
      assignedWorker: Type.Union([Type.String(), Type.Null()]),
    }),
    timeoutMs: Type.Union([Type.Integer(), Type.Null()]),
    idempotencyKey: Type.Union([Type.String(), Type.Null()]),
    workerId: Type.Union([Type.String(), Type.Null()]),
    cancelRequestedAt: NullableTimestamp,
    scheduleId: Type.Union([Type.String(), Type.Null()]),
    fireAt: NullableTimestamp,
    createdBy: Type.Union([Type.String(), Type.Null()]),
    traceParent: Type.Union([Type.String(), Type.Null()], { description: 'W3C traceparent of the span that submitted the job' }),
    createdAt: Timestamp,
    startedAt: NullableTimestamp,
    finishedAt: NullableTimestamp,
  },
  { $id: 'Job' },
);

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

/**
 * The job as `GET /api/v1/jobs/:id` shows it: {@link jobView} with each error's stack trace, as
 * the worker reported it (in-process or remote). Lists and audit entries leave stacks out: up to
 * 8 KiB per attempt.
 */
export function jobDetailView(row: JobRow): Record<string, unknown> {
  return { ...jobView(row), errors: row.errors };
}

/** Map a stored job to its API view (internal fields such as lease tokens stay inside). */
export function jobView(row: JobRow): Record<string, unknown> {
  return {
    id: row.id,
    queue: row.queue,
    task: row.task,
    status: row.status,
    priority: row.priority,
    runAt: row.runAt.toISOString(),
    attempt: row.attempt,
    maxAttempts: row.maxAttempts,
    attemptsLeft: Math.max(0, row.maxAttempts - (row.attempt - row.attemptBase)),
    // Inline credentials (an Authorization header, a password variable) stay with the worker.
    payload: redactSensitive(row.payload),
    result: row.result ?? null,
    progress: row.progress ?? null,
    errors: row.errors.map(({ stack: _stack, ...e }) => e),
    labels: row.labels ?? {},
    placement: {
      kind: row.placement,
      zone: row.placementZone,
      workerId: row.placementWorker,
      assignedZone: row.assignedZone,
      assignedWorker: row.assignedWorker,
    },
    timeoutMs: row.timeoutMs,
    idempotencyKey: row.idempotencyKey,
    workerId: row.workerId,
    cancelRequestedAt: iso(row.cancelRequestedAt),
    scheduleId: row.scheduleId,
    fireAt: iso(row.fireAt),
    createdBy: row.createdBy,
    traceParent: row.traceParent,
    createdAt: row.createdAt.toISOString(),
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
  };
}
