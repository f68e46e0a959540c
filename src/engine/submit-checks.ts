/**
 * What every way into the queue checks before it stores a job or a schedule (the producer behind
 * `jp.jobs.add` and `POST /api/v1/jobs`, batches, schedule create and patch): tasks the
 * installation has not enabled are refused, built-in task payloads are validated (with their http
 * targets checked against the address policy), and secret references must name secrets of the
 * tenant. A schedule would otherwise store a job template that only a worker refuses, minutes or
 * months later. After the insert, a repeated idempotency key must repeat the job it names.
 */
import { validateBuiltinPayload, validateHttpUrl, type BuiltinPayloadPolicy } from '../core/builtin-payloads.js';
import { idempotencyMismatch, type IdempotentFields, type NormalizedJob } from '../core/job-spec.js';
import { hasSecretRefs } from '../core/secret-refs.js';
import type { Queryable } from '../db/pool.js';
import { AppError, type FieldError } from '../errors/index.js';
import { assertSecretRefsExist } from './secrets/index.js';

/** The installation's rules for submitted work. */
export interface SubmitPolicy {
  /** Built-in tasks whose payloads are checked (the ones this installation's workers run). */
  checkedTasks: readonly string[];
  /**
   * Tasks refused outright: installation settings, which no tenant can change. `shell` is here
   * unless JOBPLANE_SHELL_ENABLED is on.
   */
  disabledTasks: readonly string[];
  /** The http task's address policy. */
  payloadPolicy?: BuiltinPayloadPolicy;
}

/** Without configuration: nothing is checked but the task that must be switched on. */
export const DEFAULT_SUBMIT_POLICY: SubmitPolicy = Object.freeze({ checkedTasks: [], disabledTasks: ['shell'] });

/**
 * The SDK's default: its workers run only the handlers their caller gives, so a task named `http`
 * or `shell` is the caller's own and nothing is refused or checked unless an installation's
 * policy is passed.
 */
export const NO_SUBMIT_CHECKS: SubmitPolicy = Object.freeze({ checkedTasks: [], disabledTasks: [] });

/** One job or job template to check; `pointer` locates it in the request (`''`, `/jobs/3`). */
export interface SubmittedWork {
  pointer: string;
  task: unknown;
  payload: unknown;
}

/** Whether an http payload's refused URL is refused only for where it points (it would pass if private targets were allowed). */
function refusedForTarget(payload: unknown, policy: BuiltinPayloadPolicy): boolean {
  const url = typeof payload === 'object' && payload !== null ? (payload as { url?: unknown }).url : undefined;
  return validateHttpUrl(url, { ...policy, allowPrivateNetworks: true }).length === 0;
}

/**
 * Check tasks and payloads without the database: TASK_DISABLED for a task the installation has
 * not enabled, URL_NOT_ALLOWED for an http target the address policy refuses, VALIDATION_FAILED
 * for any other payload problem. Every error carries its JSON pointer into the request.
 */
export function checkTasksAndPayloads(items: readonly SubmittedWork[], policy: SubmitPolicy): void {
  const disabled = items.filter((item) => typeof item.task === 'string' && policy.disabledTasks.includes(item.task));
  if (disabled.length > 0) {
    const task = disabled[0]!.task as string;
    throw new AppError('TASK_DISABLED', `the ${task} task is not enabled on this installation${task === 'shell' ? ' (an operator sets JOBPLANE_SHELL_ENABLED=true)' : ''}`, {
      errors: disabled.map((item) => ({ pointer: `${item.pointer}/task`, message: `${String(item.task)} is not enabled on this installation` })),
    });
  }
  const targets: FieldError[] = [];
  const others: FieldError[] = [];
  for (const item of items) {
    if (typeof item.task !== 'string' || !policy.checkedTasks.includes(item.task)) continue;
    const found = validateBuiltinPayload(item.task, item.payload ?? null, policy.payloadPolicy);
    // The URL is parsed once more only when it was refused, to tell a private target from a bad URL.
    const byTarget = item.task === 'http' && found.some((e) => e.pointer === '/url') && refusedForTarget(item.payload, policy.payloadPolicy ?? {});
    for (const error of found) {
      const located = { pointer: `${item.pointer}/payload${error.pointer}`, message: error.message };
      (byTarget && error.pointer === '/url' ? targets : others).push(located);
    }
  }
  if (others.length > 0) throw new AppError('VALIDATION_FAILED', `${others[0]!.pointer}: ${others[0]!.message}`, { errors: [...others, ...targets] });
  if (targets.length > 0) throw new AppError('URL_NOT_ALLOWED', `${targets[0]!.pointer}: ${targets[0]!.message}`, { errors: targets });
}

/**
 * Everything {@link checkTasksAndPayloads} checks, then that every `{"$secret": …}` reference
 * names a secret of `tenantId` (SECRET_REFERENCE_UNKNOWN; one query for the whole request).
 */
export async function checkSubmission(db: Queryable, tenantId: string, items: readonly SubmittedWork[], policy: SubmitPolicy): Promise<void> {
  await checkSubmissionNow(db, tenantId, items, policy);
}

/**
 * {@link checkSubmission} that answers synchronously when it can: null when no payload holds a
 * secret reference (nothing to look up), else the promise of the lookup. The producer keeps
 * same-tick submits in one group commit this way.
 */
export function checkSubmissionNow(db: Queryable, tenantId: string, items: readonly SubmittedWork[], policy: SubmitPolicy): Promise<void> | null {
  checkTasksAndPayloads(items, policy);
  if (!items.some((item) => hasSecretRefs(item.payload))) return null;
  return assertSecretRefsExist(db, tenantId, items.map((item) => ({ pointer: `${item.pointer}/payload`, payload: item.payload })));
}

/**
 * A submit answered with the job its idempotency key already names must have asked for that job:
 * a different task, queue, payload, priority or maxAttempts is IDEMPOTENCY_CONFLICT (422), with
 * a field error for each.
 */
export function assertIdempotentRepeat(job: NormalizedJob, existing: IdempotentFields & { id: string; idempotencyKey: string | null }): void {
  const differs = idempotencyMismatch(job, existing);
  if (differs.length === 0) return;
  throw new AppError('IDEMPOTENCY_CONFLICT', `idempotency key ${JSON.stringify(existing.idempotencyKey)} already names job ${existing.id}, submitted with a different ${differs.join(', ')}; use a new key for a different job`, {
    errors: differs.map((f) => ({ pointer: `/${f}`, message: 'differs from the job this idempotency key already names' })),
  });
}
