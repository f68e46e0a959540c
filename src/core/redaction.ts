/**
 * Sensitive fields submitted inline (docs/security.md): an http job's `Authorization` header, a
 * cookie, an API key in a header, a shell job's `DB_PASSWORD`… are kept for the worker but shown
 * to nobody: every read of a job or schedule, and the audit log, gets `[redacted]` in their
 * place. Secret references (`{"$secret": NAME}`) are shown as they are: they hold no value.
 * The SQL mirror used by text search is in src/db/queries/job-admin.ts; a test keeps them in step.
 */
import { isSecretRef } from './secret-refs.js';

/** What a sensitive value is shown as. */
export const REDACTED_VALUE = '[redacted]';

/**
 * Field names whose values are sensitive, wherever they appear in a payload (header names,
 * environment variables, any key): case-insensitive substrings, plus `auth` alone.
 */
export const SENSITIVE_NAME = /token|secret|passw(?:or)?d|api[-_]?key|authori[sz]ation|cookie|private[-_]?key|credential|^auth$/i;

/** Whether a field of this name holds a sensitive value. */
export function isSensitiveName(name: string): boolean {
  return SENSITIVE_NAME.test(name);
}

/** Whether a value under a sensitive name is hidden: strings, numbers, objects and arrays; not null or booleans (flags such as `passwordChanged`). */
function hides(value: unknown): boolean {
  if (value === null || typeof value === 'boolean' || isSecretRef(value)) return false;
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'object';
}

/** A copy of `value` with every sensitive field's value replaced by {@link REDACTED_VALUE}, at any depth. */
export function redactSensitive(value: unknown, depth = 0): unknown {
  // Stored payloads are at most 32 levels deep; the bound keeps the walk safe on anything else.
  // A reference holds a name, not a value: shown as it is (its `$secret` key is not a secret field).
  if (depth > 64 || value === null || typeof value !== 'object' || isSecretRef(value)) return value;
  if (Array.isArray(value)) return value.map((item) => redactSensitive(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = isSensitiveName(key) && hides(inner) ? REDACTED_VALUE : redactSensitive(inner, depth + 1);
  }
  return out;
}

/**
 * `incoming` with every sensitive field that still reads {@link REDACTED_VALUE} given back its
 * value from `stored`, so that a form filled from a redacted read (the dashboard's schedule
 * editor) cannot overwrite a header it was never shown.
 */
export function restoreRedacted(incoming: unknown, stored: unknown, depth = 0): unknown {
  if (depth > 64 || incoming === null || typeof incoming !== 'object' || stored === null || typeof stored !== 'object') return incoming;
  if (Array.isArray(incoming)) {
    return Array.isArray(stored) ? incoming.map((item, i) => restoreRedacted(item, stored[i], depth + 1)) : incoming;
  }
  if (Array.isArray(stored)) return incoming;
  const previous = stored as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(incoming)) {
    out[key] = inner === REDACTED_VALUE && isSensitiveName(key) && key in previous ? previous[key] : restoreRedacted(inner, previous[key], depth + 1);
  }
  return out;
}
