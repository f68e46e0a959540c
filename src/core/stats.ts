/**
 * Time buckets of the overview statistics (pure: no I/O). A window is cut into about
 * {@link TARGET_BUCKETS} equal buckets aligned to multiples of the bucket size since the epoch, so
 * two reads a few seconds apart put the same events in the same buckets (charts do not wobble).
 */

/** Buckets a window is cut into (the last one may be partial: it ends now). */
export const TARGET_BUCKETS = 60;
/** Smallest and largest window the API accepts, in minutes. */
export const STATS_WINDOW_MIN_MINUTES = 5;
export const STATS_WINDOW_MAX_MINUTES = 1440;
/**
 * How long before the window a job may have been created and still be counted. Job ids are UUID
 * v7 (time-ordered), so bounding creation time bounds the primary-key range scanned; a job created
 * earlier than this (a long delay, a long run, a manual retry of an old job) is left out.
 */
export const STATS_LOOKBACK_MS = 6 * 3_600_000;

export interface BucketPlan {
  /** Start of the first bucket (ms since the epoch, inclusive). */
  fromMs: number;
  /** End of the last bucket (ms since the epoch, exclusive): the end of the bucket holding `nowMs`. */
  toMs: number;
  bucketMs: number;
  buckets: number;
  /** Smallest creation time (ms) of a job that is counted. */
  createdAfterMs: number;
}

/** Plan the buckets of a window of `windowMinutes` ending at `nowMs`. */
export function planBuckets(windowMinutes: number, nowMs: number, lookbackMs = STATS_LOOKBACK_MS): BucketPlan {
  const windowMs = windowMinutes * 60_000;
  // Whole seconds, so bucket edges read well on an axis.
  const bucketMs = Math.max(1000, Math.ceil(windowMs / TARGET_BUCKETS / 1000) * 1000);
  const toMs = (Math.floor(nowMs / bucketMs) + 1) * bucketMs;
  const buckets = Math.ceil(windowMs / bucketMs);
  const fromMs = toMs - buckets * bucketMs;
  return { fromMs, toMs, bucketMs, buckets, createdAfterMs: fromMs - lookbackMs };
}

/** One bucket's aggregate as the database returns it (only buckets with events). */
export interface BucketRow {
  index: number;
  completed: number;
  failed: number;
  cancelled: number;
  started: number;
  latencyAvgMs: number | null;
  latencyP95Ms: number | null;
}

export interface Bucket {
  /** Start of the bucket (ms since the epoch). */
  startMs: number;
  completed: number;
  failed: number;
  started: number;
  latencyAvgMs: number | null;
  latencyP95Ms: number | null;
}

/** Every bucket of the plan in order, empty ones filled with zeros (and null latencies). */
export function fillBuckets(plan: BucketPlan, rows: readonly BucketRow[]): Bucket[] {
  const byIndex = new Map(rows.map((r) => [r.index, r]));
  return Array.from({ length: plan.buckets }, (_, i) => {
    const row = byIndex.get(i);
    return {
      startMs: plan.fromMs + i * plan.bucketMs,
      completed: row?.completed ?? 0,
      failed: row?.failed ?? 0,
      started: row?.started ?? 0,
      latencyAvgMs: row?.latencyAvgMs == null ? null : Math.round(row.latencyAvgMs),
      latencyP95Ms: row?.latencyP95Ms == null ? null : Math.round(row.latencyP95Ms),
    };
  });
}

/** Failed share of finished (completed + failed) jobs, 0..1, or null when none finished. */
export function failureRate(completed: number, failed: number): number | null {
  const finished = completed + failed;
  return finished === 0 ? null : failed / finished;
}
