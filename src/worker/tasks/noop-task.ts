/**
 * The `noop` built-in: returns null at once. Benchmarks use it to measure the platform's own
 * overhead, so it allocates nothing: no promise, no closure per call.
 */
import type { TaskHandler } from '../types.js';

/** The `noop` task handler. */
export const noopTask: TaskHandler<unknown, null> = () => null;
