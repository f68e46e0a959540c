import type { EventEmitter } from 'node:events';

/** Resolve when `emitter` emits `event` with arguments that satisfy `match`; reject after `timeoutMs`. */
export function waitForEvent<T extends unknown[]>(
  emitter: EventEmitter<Record<string, T>> | EventEmitter,
  event: string,
  match: (...args: T) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<T> {
  const e = emitter as EventEmitter;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      e.off(event, listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${event}`));
    }, timeoutMs);
    const listener = (...args: unknown[]) => {
      if (match(...(args as T))) {
        clearTimeout(timer);
        e.off(event, listener);
        resolve(args as T);
      }
    };
    e.on(event, listener);
  });
}

/** Poll `check` until it returns a truthy value (for state only visible in the database). */
export async function eventually<T>(check: () => Promise<T | null | undefined | false>, timeoutMs = 10_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** A promise with its resolve function exposed (a latch a handler can wait on). */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
