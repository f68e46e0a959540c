/**
 * Failure groups (`GET /api/v1/failures`): pure rules shared by the query and its tests.
 *
 * Failed jobs are grouped by task and by the *normalised* message of their last error, so that
 * "job 0193… not found" and "job 0194… not found" are one problem rather than one group per job.
 * Normalisation replaces, in this order:
 *   1. RFC 3339 / ISO 8601 timestamps             → `<time>`
 *   2. UUIDs                                      → `<uuid>`
 *   3. runs of 16 or more hex digits with at least one decimal digit among them (hashes, trace
 *      ids, long numbers; "deadbeefdeadbeefab"-like words made of a–f only stay) → `<hex>`
 *   4. runs of 4 or more decimal digits (ids, ports, byte counts, durations) → `<n>`
 * Shorter numbers stay: "HTTP 503" and "HTTP 404" are different problems, as are "attempt 3".
 *
 * The patterns are written in the common subset of JavaScript and PostgreSQL (ARE) regular
 * expressions: the database applies them with `regexp_replace(…, 'g')` (src/db/queries/failures.ts)
 * and {@link normaliseFailureMessage} applies the same list here, so both agree on a group's key.
 */

/** Replacements applied in order, each to every match (global). */
export const MESSAGE_NORMALISERS: ReadonlyArray<{ pattern: string; replacement: string }> = [
  { pattern: '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?', replacement: '<time>' },
  { pattern: '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}', replacement: '<uuid>' },
  { pattern: '(?=[0-9a-fA-F]*[0-9])[0-9a-fA-F]{16,}', replacement: '<hex>' },
  { pattern: '[0-9]{4,}', replacement: '<n>' },
];

const compiled = MESSAGE_NORMALISERS.map((n) => ({ re: new RegExp(n.pattern, 'g'), replacement: n.replacement }));

/** The group key of an error message (what the database computes for grouping). */
export function normaliseFailureMessage(message: string): string {
  let out = message;
  for (const { re, replacement } of compiled) out = out.replace(re, replacement);
  return out;
}

/** Default window of `GET /api/v1/failures`. */
export const DEFAULT_FAILURE_WINDOW_MS = 7 * 24 * 60 * 60_000;
/** At most this many groups are returned (largest first). */
export const MAX_FAILURE_GROUPS = 200;
/** One retry call requeues at most this many jobs; `more: true` says to call again. */
export const MAX_RETRY_PER_CALL = 10_000;
