/**
 * Keeping resolved secret values out of what an attempt writes back (docs/secrets.md): the
 * payload's references are resolved for the handler, and everything that leaves the handler —
 * its result, its error, its job log lines and progress, its process log lines — passes through
 * the attempt's redactor first. Used only for jobs whose payload references a secret.
 */
import type { Logger, LogFields } from '../core/deps.js';
import type { Settlement } from '../core/attempt-outcome.js';
import { findSecretRefs, resolveSecretRefs, secretRedactor, validateSecretRefs, type SecretRedactor } from '../core/secret-refs.js';
import type { SecretResolver } from '../engine/secrets/index.js';
import { SecretDecryptionError } from '../engine/secrets/index.js';
import { AppError, isAppError, PermanentError } from '../errors/index.js';

/** A payload with its references replaced, and the redactor for the values it now holds. */
export interface ResolvedPayload {
  payload: unknown;
  redactor: SecretRedactor;
}

/**
 * Resolve the references of a job's payload. A malformed reference, a missing secret or a value
 * that cannot be decrypted will not get better on a retry: those fail the attempt permanently,
 * with a message that names the secret (never a value). Other errors (the database is down) are
 * rethrown as they are, so the job is retried with its backoff.
 */
export async function resolvePayloadSecrets(resolver: SecretResolver, tenantId: string, payload: unknown): Promise<ResolvedPayload> {
  try {
    const malformed = validateSecretRefs(payload);
    if (malformed.length > 0) {
      throw new AppError('VALIDATION_FAILED', malformed.map((e) => `${e.pointer || '/'} ${e.message}`).join('; '), { errors: malformed });
    }
    const names = [...new Set(findSecretRefs(payload).map((r) => r.name))];
    const values = names.length > 0 ? await resolver.resolve(tenantId, names) : new Map<string, string>();
    return { payload: resolveSecretRefs(payload, values), redactor: secretRedactor(values.values()) };
  } catch (error) {
    if (error instanceof SecretDecryptionError || isAppError(error, 'SECRET_NOT_FOUND') || isAppError(error, 'SECRET_REFERENCE_UNKNOWN') || isAppError(error, 'VALIDATION_FAILED')) {
      throw new PermanentError(`the payload's secret references could not be resolved: ${(error as Error).message}`, { cause: error });
    }
    throw error;
  }
}

/** A JSON-shaped copy (Dates and toJSON objects become what would be stored), or the value itself. */
function jsonShaped(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  try {
    return JSON.parse(JSON.stringify(value)) as unknown;
  } catch {
    // Cycles and BigInts: decideOutcome reports the result as unstorable anyway.
    return value;
  }
}

/** A copy of a thrown error with its message, stack and own fields redacted; its class and name kept (they steer the job). */
function redactError(error: unknown, redactor: SecretRedactor): unknown {
  if (typeof error === 'string') return redactor.text(error);
  if (!(error instanceof Error)) return redactor.deep(jsonShaped(error));
  const copy = Object.create(Object.getPrototypeOf(error) as object) as Error & Record<string, unknown>;
  for (const [key, value] of Object.entries(error)) copy[key] = redactor.deep(jsonShaped(value));
  copy.name = error.name;
  copy.message = redactor.text(error.message);
  if (error.stack !== undefined) copy.stack = redactor.text(error.stack);
  return copy;
}

/** How the handler settled, with every secret value taken out of its result or error. */
export function redactSettlement(settled: Settlement, redactor: SecretRedactor): Settlement {
  return settled.ok ? { ok: true, value: redactor.deep(jsonShaped(settled.value)) } : { ok: false, error: redactError(settled.error, redactor) };
}

/** Log fields with secret values redacted (undefined stays undefined). */
export function redactFields(fields: LogFields | undefined, redactor: SecretRedactor): LogFields | undefined {
  if (fields === undefined) return undefined;
  // An Error serialises to {}: keep what a log reader needs of it, redacted like the rest.
  const plain = Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, value instanceof Error ? { type: value.name, message: value.message, stack: value.stack } : value]));
  return redactor.deep(jsonShaped(plain)) as LogFields;
}

/** A process logger whose messages and fields are redacted, for the handler's `ctx.logger`. */
export function redactingLogger(logger: Logger, redactor: SecretRedactor): Logger {
  const wrap = (level: 'debug' | 'info' | 'warn' | 'error') => (fields: LogFields, message?: string): void => {
    const clean = redactFields(fields, redactor) ?? {};
    if (message === undefined) logger[level](clean);
    else logger[level](clean, redactor.text(message));
  };
  return {
    debug: wrap('debug'),
    info: wrap('info'),
    warn: wrap('warn'),
    error: wrap('error'),
    child: (bindings) => redactingLogger(logger.child(redactFields(bindings, redactor) ?? {}), redactor),
  };
}
