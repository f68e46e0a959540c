/** Small statistics helpers. All inputs are plain numbers (usually milliseconds). */

export interface Summary {
  n: number;
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  min: number | null;
}

/** Percentile (0..100) by linear interpolation between closest ranks, on an already sorted array. */
export function percentileSorted(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  if (sorted.length === 1) return sorted[0] ?? null;
  const rank = (Math.min(100, Math.max(0, p)) / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (rank - lo);
}

export function percentile(values: readonly number[], p: number): number | null {
  return percentileSorted(sortNumbers(values), p);
}

export function sortNumbers(values: readonly number[]): number[] {
  return Array.from(Float64Array.from(values).sort());
}

export function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

export function median(values: readonly number[]): number | null {
  return percentile(values, 50);
}

/** p50/p90/p99/max/min/mean, rounded to `digits` decimals. */
export function summarize(values: readonly number[], digits = 2): Summary {
  const sorted = sortNumbers(values);
  return {
    n: sorted.length,
    mean: round(mean(sorted), digits),
    p50: round(percentileSorted(sorted, 50), digits),
    p90: round(percentileSorted(sorted, 90), digits),
    p99: round(percentileSorted(sorted, 99), digits),
    max: round(sorted.length ? sorted[sorted.length - 1]! : null, digits),
    min: round(sorted.length ? sorted[0]! : null, digits),
  };
}

export function round(v: number | null | undefined, digits = 2): number | null {
  if (v == null || !Number.isFinite(v)) return null;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** Median and [min, max] of a set of repetitions, rounded to `digits` decimals; nulls when empty. */
export interface MedianRange {
  median: number | null;
  range: [number, number] | null;
  n: number;
}

/** The median and range of `values` (e.g. one figure over a case's repetitions). */
export function medianRange(values: readonly number[], digits = 0): MedianRange {
  const sorted = sortNumbers(values);
  const lo = round(sorted[0], digits);
  const hi = round(sorted[sorted.length - 1], digits);
  return {
    median: round(percentileSorted(sorted, 50), digits),
    range: lo != null && hi != null ? [lo, hi] : null,
    n: sorted.length,
  };
}
