/**
 * How to show a job's progress value, which is any JSON a handler reported (pure: unit-tested in
 * test/unit/dashboard-progress.test.ts). Understood shapes: a number (a percentage), `{ percent }`
 * and `{ done, of }` (the shape docs/remote-workers.md uses), each optionally with a `message`.
 * Anything else is shown as the JSON it is.
 */

/** A progress value, read for display. */
export type ProgressView =
  | { kind: 'percent'; percent: number; text: string; message: string | null }
  | { kind: 'raw'; value: unknown };

function finite(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

const clamp = (n: number): number => Math.max(0, Math.min(100, n));

/** Read a progress value: a bar with its caption ("7 of 10", "42 %"), or the raw JSON. */
export function progressView(value: unknown): ProgressView {
  if (finite(value)) return { kind: 'percent', percent: clamp(value), text: `${clamp(value).toFixed(0)} %`, message: null };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'raw', value };
  const v = value as Record<string, unknown>;
  const message = typeof v.message === 'string' && v.message !== '' ? v.message : null;
  if (finite(v.done) && finite(v.of) && v.of > 0 && v.done >= 0) {
    return { kind: 'percent', percent: clamp((v.done / v.of) * 100), text: `${v.done.toLocaleString('en')} of ${v.of.toLocaleString('en')}`, message };
  }
  if (finite(v.percent)) return { kind: 'percent', percent: clamp(v.percent), text: `${clamp(v.percent).toFixed(0)} %`, message };
  return { kind: 'raw', value };
}
