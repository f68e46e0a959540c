/**
 * Following a job's log lines by cursor (pure: unit-tested in test/unit/dashboard-log-lines.test.ts).
 * Live events ask for "whatever is new" in bursts (a remote worker's log call and its progress
 * call, a status change): two reads from the same cursor would both return the same lines. So
 * reads run one at a time, a request made during a read becomes one more read after it, and
 * lines are appended by id, never twice.
 */

/** Append `incoming` (in id order) to `current`, skipping lines already there; keep the last `max`. */
export function appendLines<T extends { id: string }>(current: readonly T[], incoming: readonly T[], max = 5000): T[] {
  if (incoming.length === 0) return current as T[];
  const seen = new Set(current.map((l) => l.id));
  const fresh = incoming.filter((l) => !seen.has(l.id) && (seen.add(l.id), true));
  if (fresh.length === 0) return current as T[];
  return [...current, ...fresh].slice(-max);
}

/**
 * Run `read` one at a time: a call while one runs is remembered and runs once after it (any
 * number of calls meanwhile collapse into that one). The returned promise settles when the
 * read that covers this call has finished.
 */
export function serialReader(read: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  let again: Promise<void> | null = null;
  const start = (): Promise<void> => {
    running = read().catch(() => undefined).finally(() => {
      running = null;
    });
    return running;
  };
  return () => {
    if (!running) return start();
    again ??= running.then(() => {
      again = null;
      return start();
    });
    return again;
  };
}
