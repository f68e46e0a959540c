/**
 * The `fibonacci` built-in: deliberately CPU-bound work for demos and benchmarks. It computes
 * in short slices and yields to the event loop between them, so the worker's heartbeats, other
 * jobs' I/O and cancellation keep working while it runs.
 */
import type { FibonacciPayload } from '../../core/builtin-payloads.js';
import type { JobContext } from '../types.js';
import type { AsyncTaskHandler, FibonacciTaskOptions } from './options.js';
import { checkedPayload, yieldToEventLoop } from './payload.js';

/** Result of a `fibonacci` job. */
export interface FibonacciResult {
  /** The index computed. */
  n: number;
  /** Number of decimal digits of F(n). */
  digits: number;
  /** F(n) in decimal when it has at most 1000 digits, else its first and last 20 digits joined by `…`. */
  value: string;
}

/** How long one slice of work may hold the event loop, in ms. */
const SLICE_MS = 4;
/** Additions between clock reads (reading the clock costs more than one small addition). */
const STEPS_PER_CHECK = 64;
const FULL_VALUE_MAX_DIGITS = 1000;
const EDGE_DIGITS = 20;

/** Shorten a long decimal string to its first and last digits. */
function abbreviate(decimal: string): string {
  if (decimal.length <= FULL_VALUE_MAX_DIGITS) return decimal;
  return `${decimal.slice(0, EDGE_DIGITS)}…${decimal.slice(-EDGE_DIGITS)}`;
}

/** Compute F(n) iteratively with BigInt, yielding between slices and honouring `ctx.signal`. */
async function fibonacci(n: number, ctx: JobContext): Promise<bigint> {
  let a = 0n;
  let b = 1n;
  let i = 0;
  let reported = -1;
  while (i < n) {
    ctx.signal.throwIfAborted();
    const sliceEnd = performance.now() + SLICE_MS;
    do {
      const stop = Math.min(n, i + STEPS_PER_CHECK);
      for (; i < stop; i += 1) {
        const next = a + b;
        a = b;
        b = next;
      }
    } while (i < n && performance.now() < sliceEnd);
    const percent = Math.floor((i * 100) / n);
    if (percent !== reported) {
      reported = percent;
      ctx.progress(percent);
    }
    if (i < n) await yieldToEventLoop();
  }
  ctx.signal.throwIfAborted();
  return a;
}

/** The `fibonacci` task handler; `n` may be 0..`options.maxN`. */
export function fibonacciTask(options: FibonacciTaskOptions): AsyncTaskHandler<FibonacciResult> {
  return async (raw: unknown, ctx: JobContext): Promise<FibonacciResult> => {
    const { n } = checkedPayload<FibonacciPayload>('fibonacci', raw, { fibonacciMaxN: options.maxN });
    const decimal = (await fibonacci(n, ctx)).toString();
    return { n, digits: decimal.length, value: abbreviate(decimal) };
  };
}
