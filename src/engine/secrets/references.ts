/**
 * Submit-time checks of secret references: a job or schedule that names a secret the tenant does
 * not have is refused when it is submitted, not when its first attempt fails hours later.
 */
import { findSecretRefs, hasSecretRefs, validateSecretRefs } from '../../core/secret-refs.js';
import type { Queryable } from '../../db/pool.js';
import { existingSecretNames } from '../../db/queries/secrets.js';
import { AppError, type FieldError } from '../../errors/index.js';

/** One JSON value to check and where it sits in the request (e.g. `/payload` or `/jobs/3/payload`). */
export interface SecretRefItem {
  pointer: string;
  payload: unknown;
}

/**
 * Check every reference in `items`: VALIDATION_FAILED for a malformed one (a `$secret` object with
 * other keys, or whose name is not a string or not a valid name), SECRET_REFERENCE_UNKNOWN when a
 * named secret does not exist in the tenant. Pointers in `errors[]` are `item.pointer` + the
 * reference's pointer, e.g. `/payload/headers/authorization`. One query for all names; none when
 * nothing references a secret.
 */
export async function assertSecretRefsExist(db: Queryable, tenantId: string, items: readonly SecretRefItem[]): Promise<void> {
  if (!items.some((item) => hasSecretRefs(item.payload))) return;
  const malformed: FieldError[] = items.flatMap((item) => validateSecretRefs(item.payload).map((e) => ({ pointer: `${item.pointer}${e.pointer}`, message: e.message })));
  if (malformed.length > 0) throw new AppError('VALIDATION_FAILED', `${malformed[0]!.pointer}: ${malformed[0]!.message}`, { errors: malformed });
  const refs = items.flatMap((item) => findSecretRefs(item.payload).map((r) => ({ pointer: `${item.pointer}${r.pointer}`, name: r.name })));
  if (refs.length === 0) return;
  const existing = await existingSecretNames(db, tenantId, [...new Set(refs.map((r) => r.name))]);
  const missing = refs.filter((r) => !existing.has(r.name));
  if (missing.length === 0) return;
  const names = [...new Set(missing.map((m) => `"${m.name}"`))].join(', ');
  throw new AppError('SECRET_REFERENCE_UNKNOWN', `the payload references ${names}, which this tenant has no secret for`, {
    errors: missing.map((m) => ({ pointer: m.pointer, message: `secret "${m.name}" does not exist` })),
  });
}
