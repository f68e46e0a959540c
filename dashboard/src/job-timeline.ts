/**
 * A job's timeline from the fields the API gives (no DOM, no clock: unit-tested in
 * test/unit/dashboard-job-timeline.test.ts).
 *
 * The entries are built in the order the job lived them, which is time order: times come from
 * two clocks (the database's `now()` for startedAt/finishedAt, the reporting process for an
 * error's `at`), so sorting by timestamps could put "Attempt 3 failed" a few milliseconds before
 * "Attempt 3 started". Ties and clock skew therefore cannot reorder: submitted, then per attempt
 * its start, its end and any cancel while it waited for the next one, then the final status, and
 * last the time a waiting job is due (always after the failure that made it wait).
 */

/** The parts of a job the timeline reads. */
export interface TimelineJob {
  status: string;
  attempt: number;
  createdAt: string;
  runAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  errors: ReadonlyArray<{ attempt: number; kind: string; at: string }>;
}

/** One line of the timeline; `at` is null when the server did not record the time. */
export interface TimelineEntry {
  key: string;
  kind: 'submitted' | 'started' | 'ended' | 'cancelled-waiting' | 'finished' | 'due';
  label: string;
  at: string | null;
  /** For the start and end of an attempt: its number. */
  attempt?: number;
}

function endLabel(attempt: number, kind: string): string {
  switch (kind) {
    case 'cancelled':
      return `Attempt ${attempt} cancelled`;
    case 'timeout':
      return `Attempt ${attempt} timed out`;
    case 'lease-expired':
      return `Attempt ${attempt} lost its worker (lease expired)`;
    default:
      return `Attempt ${attempt} failed`;
  }
}

const FINISHED: Record<string, string> = { completed: 'Completed', failed: 'Failed', cancelled: 'Cancelled' };

/**
 * Every event of the job's life in order: submitted; each attempt's start (its time is known
 * only for the latest attempt: the server keeps one `startedAt`) and end; the final status; and,
 * while it waits, when it is due.
 */
export function jobTimeline(job: TimelineJob): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  const push = (entry: TimelineEntry): void => void out.push(entry);
  push({ key: 'submitted', kind: 'submitted', label: 'Submitted', at: job.createdAt });

  // An attempt's first error is its end; a later one with the same number is a cancel of the job
  // while it waited for its next attempt (the waiting job keeps the last attempt's number).
  const ends = new Map<number, { kind: string; at: string }>();
  const waitingCancels: Array<{ attempt: number; at: string }> = [];
  for (const e of job.errors) {
    if (e.attempt >= 1 && !ends.has(e.attempt)) ends.set(e.attempt, e);
    else waitingCancels.push(e);
  }
  const cancelAt = (from: number): void => {
    // Cancels recorded after the end of attempt `from` (and before the next one started).
    for (const c of waitingCancels.filter((w) => w.attempt === from)) {
      push({ key: `cancelled-waiting-${from}-${c.at}`, kind: 'cancelled-waiting', label: 'Cancelled while waiting', at: c.at });
    }
  };
  cancelAt(0);
  for (let n = 1; n <= job.attempt; n++) {
    const current = n === job.attempt;
    const startedAt = current ? job.startedAt : null;
    push({ key: `started-${n}`, kind: 'started', label: `Attempt ${n} started`, at: startedAt, attempt: n });
    const end = ends.get(n);
    if (end) push({ key: `ended-${n}`, kind: 'ended', label: endLabel(n, end.kind), at: end.at, attempt: n });
    cancelAt(n);
  }
  const finished = FINISHED[job.status];
  if (finished && job.finishedAt) push({ key: 'finished', kind: 'finished', label: finished, at: job.finishedAt });
  if (job.status === 'queued' || job.status === 'scheduled') push({ key: 'due', kind: 'due', label: 'Due', at: job.runAt });
  return out;
}
