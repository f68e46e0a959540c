/**
 * The `sleep` built-in: waits, holding a worker slot, without using CPU. Useful for testing
 * timeouts, cancellation and concurrency limits.
 */
import type { SleepPayload } from '../../core/builtin-payloads.js';
import type { JobContext } from '../types.js';
import type { AsyncTaskHandler } from './options.js';
import { checkedPayload } from './payload.js';

/** The `sleep` task handler: resolves with null after `ms`, or rejects with the signal's reason on abort. */
export function sleepTask(): AsyncTaskHandler<null> {
  return (raw: unknown, ctx: JobContext): Promise<null> => {
    const { signal } = ctx;
    return new Promise<null>((resolve, reject) => {
      // Validation throws inside the executor, so a bad payload rejects rather than throws.
      const { ms } = checkedPayload<SleepPayload>('sleep', raw);
      if (signal.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const onAbort = (): void => {
        // Clear the timer so an aborted day-long sleep does not keep the process alive.
        clearTimeout(timer);
        reject(signal.reason as Error);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(null);
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  };
}
