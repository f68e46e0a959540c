/**
 * Retry delays: exponential with jitter, capped. Pure: the random source is injected so
 * tests can pin it, and the delay is added to the database clock by the caller (docs/decisions.md #3).
 */

/** How long to wait before the next attempt after a failure. */
export interface BackoffOptions {
  /** `exponential` grows by `factor` per attempt; `fixed` always waits `baseMs`. @defaultValue 'exponential' */
  type?: 'exponential' | 'fixed';
  /** Delay after the first failed attempt, in ms. @defaultValue 1000 */
  baseMs?: number;
  /** Growth per attempt for `exponential`. @defaultValue 2 */
  factor?: number;
  /** Upper bound on the delay before jitter, in ms. @defaultValue 3_600_000 (1 hour) */
  maxMs?: number;
  /** Random spread as a fraction of the delay: 0.2 means ±20 %. @defaultValue 0.2 */
  jitter?: number;
}

/** Backoff options with every field filled in. */
export type ResolvedBackoff = Required<BackoffOptions>;

/** Defaults used when a job sets no backoff. */
export const DEFAULT_BACKOFF: ResolvedBackoff = Object.freeze({
  type: 'exponential',
  baseMs: 1000,
  factor: 2,
  maxMs: 3_600_000,
  jitter: 0.2,
});

/** Fill in defaults. Validation of ranges happens in `validate-job-options.ts`. */
export function resolveBackoff(options: BackoffOptions | undefined | null): ResolvedBackoff {
  return { ...DEFAULT_BACKOFF, ...(options ?? {}) };
}

/**
 * Delay in ms before retrying after failed attempt number `attempt` (1-based).
 * `random` returns a number in [0, 1).
 */
export function backoffDelayMs(options: ResolvedBackoff, attempt: number, random: () => number): number {
  const n = Math.max(1, Math.floor(attempt));
  const raw = options.type === 'fixed' ? options.baseMs : options.baseMs * Math.pow(options.factor, n - 1);
  const capped = Math.min(options.maxMs, raw);
  const spread = capped * options.jitter;
  const jittered = capped - spread + 2 * spread * random();
  return Math.max(0, Math.round(jittered));
}
