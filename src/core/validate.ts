/**
 * Rules a JSON schema cannot say (storable text, real timestamps, bounded JSON), and small
 * validators for service inputs that have no schema. Each returns field errors instead of
 * throwing so a caller can report every problem at once. Pure.
 */
import type { FieldError } from '../errors/app-error.js';

declare global {
  interface String {
    /** ES2024; present in Node ≥ 20. */
    isWellFormed(): boolean;
  }
}

/** Names of queues, tasks and schedules: ASCII, start alphanumeric, ≤ 128 chars (mirrors SQL CHECKs). */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** Task names may also contain `/` (namespaces like `billing/charge`). */
export const TASK_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;

/** Limits on JSON values stored in PostgreSQL. */
export interface JsonLimits {
  /** Most bytes of the serialised value. */
  maxBytes: number;
  /** Deepest nesting of arrays/objects. */
  maxDepth: number;
}

/** Defaults: 1 MiB, depth 32. */
export const DEFAULT_JSON_LIMITS: JsonLimits = Object.freeze({ maxBytes: 1_048_576, maxDepth: 32 });

/**
 * Text PostgreSQL cannot store or that would break consumers: NUL (rejected by text and jsonb)
 * and lone UTF-16 surrogates (not valid Unicode, rejected by jsonb).
 */
export function badTextReason(text: string): string | null {
  if (text.includes('\u0000')) return 'must not contain the NUL character (\\u0000)';
  if (!text.isWellFormed()) return 'must be valid Unicode (it contains a lone surrogate)';
  return null;
}

/** Check a string field: type, length in code points, storable text. */
export function checkString(
  value: unknown,
  pointer: string,
  options: { min?: number; max: number; pattern?: RegExp; patternHint?: string },
): FieldError[] {
  if (typeof value !== 'string') return [{ pointer, message: 'must be a string' }];
  const bad = badTextReason(value);
  if (bad) return [{ pointer, message: bad }];
  // UTF-16 length ≥ code points, so the (allocating) code-point count is needed only near the limit.
  const length = value.length <= options.max ? value.length : [...value].length;
  const min = options.min ?? 1;
  if (length < min) return [{ pointer, message: min === 1 ? 'must not be empty' : `must be at least ${min} characters` }];
  if (length > options.max) return [{ pointer, message: `must be at most ${options.max} characters` }];
  if (options.pattern && !options.pattern.test(value)) {
    return [{ pointer, message: options.patternHint ?? `must match ${String(options.pattern)}` }];
  }
  return [];
}

/** Check an integer field within bounds. */
export function checkInteger(value: unknown, pointer: string, min: number, max: number): FieldError[] {
  if (typeof value !== 'number' || !Number.isInteger(value)) return [{ pointer, message: 'must be an integer' }];
  if (value < min || value > max) return [{ pointer, message: `must be between ${min} and ${max}` }];
  return [];
}

/** Check a finite number within bounds. */
export function checkNumber(value: unknown, pointer: string, min: number, max: number): FieldError[] {
  if (typeof value !== 'number' || !Number.isFinite(value)) return [{ pointer, message: 'must be a finite number' }];
  if (value < min || value > max) return [{ pointer, message: `must be between ${min} and ${max}` }];
  return [];
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * Parse a timestamp: a Date, or an RFC 3339 string *with* an offset. Impossible calendar dates
 * (2026-02-30) and out-of-range years are rejected rather than rolled over as `Date.parse` would.
 */
export function parseTimestamp(value: unknown, pointer: string): { value?: Date; errors: FieldError[] } {
  if (value instanceof Date) {
    const year = value.getUTCFullYear();
    if (Number.isNaN(value.getTime()) || year < 1970 || year > 9999) {
      return { errors: [{ pointer, message: 'must be a valid date between the years 1970 and 9999' }] };
    }
    return { value, errors: [] };
  }
  if (typeof value !== 'string') return { errors: [{ pointer, message: 'must be an RFC 3339 timestamp string' }] };
  const m = RFC3339.exec(value);
  if (!m) {
    return { errors: [{ pointer, message: 'must be an RFC 3339 timestamp with an offset, e.g. 2026-05-01T12:00:00Z' }] };
  }
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number, number, number, number, number, number,
  ];
  const probe = new Date(Date.UTC(year, month - 1, day));
  const offset = /([+-])(\d{2}):(\d{2})$/.exec(m[8]!);
  const parsed = new Date(value);
  if (
    year < 1970 || year > 9999 || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day ||
    hour > 23 || minute > 59 || second > 59 ||
    (offset !== null && (Number(offset[2]) > 23 || Number(offset[3]) > 59)) ||
    Number.isNaN(parsed.getTime())
  ) {
    return { errors: [{ pointer, message: 'is not a real date and time (or its UTC offset is out of range)' }] };
  }
  return { value: parsed, errors: [] };
}

/**
 * Check that a value is plain JSON that PostgreSQL's jsonb accepts: no undefined/functions/
 * symbols/bigints, finite numbers, storable strings and keys, bounded depth and size. Returns the
 * serialised text when it had to be computed for the size check (large values only).
 */
export function checkJsonValue(
  value: unknown,
  pointer: string,
  limits: JsonLimits = DEFAULT_JSON_LIMITS,
): { json?: string; errors: FieldError[]; tooLarge?: boolean } {
  const errors: FieldError[] = [];
  const bound = walkJson(value, pointer, 0, limits.maxDepth, errors);
  if (errors.length > 0) return { errors };
  // `bound` over-estimates the serialised size, so small values skip the exact (serialising) check.
  if (bound <= limits.maxBytes) return { errors };
  const json = JSON.stringify(value ?? null);
  if (Buffer.byteLength(json, 'utf8') > limits.maxBytes) {
    return { errors: [{ pointer, message: `must serialise to at most ${limits.maxBytes} bytes` }], tooLarge: true };
  }
  return { json, errors };
}

/** Walk a value, collecting errors; returns an upper bound of its serialised size in bytes. */
function walkJson(value: unknown, pointer: string, depth: number, maxDepth: number, errors: FieldError[]): number {
  if (errors.length >= 20) return 0;
  if (value === null || typeof value === 'boolean') return 5;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) errors.push({ pointer, message: 'must be a finite number' });
    return 24;
  }
  if (typeof value === 'string') {
    const bad = badTextReason(value);
    if (bad) errors.push({ pointer, message: bad });
    // Worst case: every UTF-16 unit escaped as \uXXXX (6 bytes).
    return 2 + value.length * 6;
  }
  if (typeof value !== 'object') {
    errors.push({ pointer, message: `is not JSON (${typeof value})` });
    return 0;
  }
  if (depth >= maxDepth) {
    errors.push({ pointer, message: `nests deeper than ${maxDepth} levels` });
    return 0;
  }
  if (Array.isArray(value)) {
    let size = 2;
    value.forEach((item, i) => (size += 1 + walkJson(item, `${pointer}/${i}`, depth + 1, maxDepth, errors)));
    return size;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (value instanceof Date) return 30; // serialises to an ISO string
  if (proto !== Object.prototype && proto !== null) {
    errors.push({ pointer, message: 'must be a plain object' });
    return 0;
  }
  let size = 2;
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    const item = (value as Record<string, unknown>)[key];
    const bad = badTextReason(key);
    if (bad) errors.push({ pointer: `${pointer}/${escapePointer(key)}`, message: `key ${bad}` });
    else if (item !== undefined) size += 4 + key.length * 6 + walkJson(item, `${pointer}/${escapePointer(key)}`, depth + 1, maxDepth, errors);
  }
  return size;
}

/**
 * Every string (and object key) in `value` that PostgreSQL cannot store (see {@link badTextReason}),
 * at its JSON pointer: the rule a JSON schema cannot say about text fields.
 */
export function unstorableText(value: unknown, pointer: string): FieldError[] {
  if (typeof value === 'string') {
    const bad = badTextReason(value);
    return bad ? [{ pointer, message: bad }] : [];
  }
  if (typeof value !== 'object' || value === null) return [];
  if (Array.isArray(value)) return value.flatMap((item, i) => unstorableText(item, `${pointer}/${i}`));
  return Object.entries(value).flatMap(([key, item]) => {
    const bad = badTextReason(key);
    const at = `${pointer}/${escapePointer(key)}`;
    return bad ? [{ pointer: at, message: `key ${bad}` }] : unstorableText(item, at);
  });
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
