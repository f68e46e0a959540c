/**
 * The test's own database calls during a fault: retried while the database is unreachable or
 * read-only, so the observer survives what it inflicts. Only idempotent work belongs in here.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { databaseFault } from '../../../src/db/pool.js';

/** Run `fn` until it succeeds or fails for another reason than the database; give up after `timeoutMs`. */
export async function retrying<T>(fn: () => Promise<T>, timeoutMs = 30_000, label = 'database call'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (databaseFault(error) === null || Date.now() > deadline) {
        throw Object.assign(new Error(`${label} failed after ${attempt} attempt(s): ${(error as Error).message}`), { cause: error });
      }
      await delay(Math.min(500, 25 * attempt));
    }
  }
}
