/** A minimal server-sent-events reader over fetch (what a browser's EventSource does, with headers). */
import { SseReader } from '../../src/client/sse.js';

export interface SseEvent {
  id: string | null;
  event: string;
  data: unknown;
}

export interface SseStream {
  status: number;
  headers: Headers;
  /** Every event received so far, in order. */
  events: SseEvent[];
  /** The next event (after those already taken by earlier `next` calls) that satisfies `match`. */
  next(match?: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

/** Open `url` as an event stream; resolves once the response headers arrived. */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const events: SseEvent[] = [];
  const waiters = new Set<() => void>();
  let cursor = 0;
  const ended = (async () => {
    if (!res.body) return;
    const decoder = new TextDecoder();
    const reader = new SseReader();
    try {
      for await (const chunk of res.body) {
        for (const parsed of reader.push(decoder.decode(chunk as Uint8Array, { stream: true }))) {
          events.push({ id: parsed.id, event: parsed.type, data: parsed.data });
          for (const wake of waiters) wake();
        }
      }
    } catch {
      // aborted
    } finally {
      for (const wake of waiters) wake();
    }
  })();
  let done = false;
  void ended.then(() => (done = true));
  return {
    status: res.status,
    headers: res.headers,
    events,
    ended,
    close: () => controller.abort(),
    next(match = () => true, timeoutMs = 10_000) {
      return new Promise<SseEvent>((resolve, reject) => {
        const look = (): boolean => {
          while (cursor < events.length) {
            const e = events[cursor++]!;
            if (match(e)) {
              resolve(e);
              return true;
            }
          }
          if (done) reject(new Error(`the stream ended; events so far: ${JSON.stringify(events)}`));
          return done;
        };
        if (look()) return;
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`no matching event within ${timeoutMs} ms; events so far: ${JSON.stringify(events)}`));
        }, timeoutMs);
        const wake = (): void => {
          if (look()) {
            clearTimeout(timer);
            waiters.delete(wake);
          }
        };
        waiters.add(wake);
      });
    },
  };
}
