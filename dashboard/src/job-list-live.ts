/**
 * Live `job` events laid over a loaded page of the jobs list (pure: unit-tested in
 * test/unit/dashboard-job-list-live.test.ts).
 *
 * The list subscribes to every status (filtered by queue, task and schedule only, which never
 * change): a stream filtered by status never tells about a job leaving that status, so a
 * `?status=running` row would stay "running" forever. A row that leaves the filter shows its new
 * status and is marked as no longer matching (rows never vanish under the pointer); a job that
 * enters the filter, or a new one, is counted for the "N new — show" button, not inserted.
 */
import { isNotOlder, type JobStatus } from '../../src/core/job-states.js';

/** The data of a `job` event. */
export interface JobEventData {
  jobId: string;
  status: JobStatus;
  attempt: number;
}

/** The parts of a list row this reads. */
export interface LiveRow {
  id: string;
  status: JobStatus;
  attempt: number;
}

/** What one event does to the list. */
export interface EventEffect<T> {
  /** The rows, changed or the same array when nothing changed. */
  rows: T[];
  /** Not in the list but now matching it: count it as new (unless on an older page). */
  fresh: boolean;
  /** A row changed to a status that may have come with a new error or result: read it again. */
  refetch: boolean;
}

/** Whether a status passes the list's status filter (empty: every status). */
export function matchesStatus(statuses: ReadonlySet<string>, status: string): boolean {
  return statuses.size === 0 || statuses.has(status);
}

/** Apply one `job` event to the rows. */
export function applyJobEvent<T extends LiveRow>(rows: T[], event: JobEventData, statuses: ReadonlySet<string>): EventEffect<T> {
  const index = rows.findIndex((r) => r.id === event.jobId);
  if (index < 0) {
    // With no status filter only a submission is news; with one, so is a job entering it.
    const fresh = statuses.size === 0 ? event.status === 'queued' && event.attempt === 0 : statuses.has(event.status);
    return { rows, fresh, refetch: false };
  }
  const row = rows[index]!;
  // NOTIFY may deliver a change after a read that already shows a later one.
  if (!isNotOlder(row, event) || (row.status === event.status && row.attempt === event.attempt)) return { rows, fresh: false, refetch: false };
  const next = rows.slice();
  next[index] = { ...row, status: event.status, attempt: event.attempt };
  // An attempt's error (or a result) is not in the event: the row's "Last error" needs a read.
  return { rows: next, fresh: false, refetch: event.status !== 'running' };
}

/** Put a row read again in place of its older sighting (an older read is ignored). */
export function replaceRow<T extends LiveRow>(rows: T[], fresh: T): T[] {
  const index = rows.findIndex((r) => r.id === fresh.id);
  if (index < 0 || !isNotOlder(rows[index]!, fresh)) return rows;
  const next = rows.slice();
  next[index] = fresh;
  return next;
}

/**
 * Lay a new read of the list over what is shown. Changes the stream delivered while the read was
 * in flight (`seen`) win over the read's older snapshot. With `keep` (a read the page made on its
 * own, after a reconnect, not one the user asked for), a shown row that no longer matches the
 * status filter stays where it was, although the read no longer has it: rows never vanish under
 * the pointer, only through the "hide" button.
 */
export function mergeRead<T extends LiveRow>(answer: readonly T[], seen: ReadonlyMap<string, Pick<LiveRow, 'status' | 'attempt'>>, keep: readonly T[], statuses: ReadonlySet<string>): T[] {
  const merged = answer.map((job) => {
    const later = seen.get(job.id);
    return later && isNotOlder(job, later) ? { ...job, status: later.status, attempt: later.attempt } : job;
  });
  const ids = new Set(merged.map((j) => j.id));
  keep.forEach((row, index) => {
    if (!ids.has(row.id) && !matchesStatus(statuses, row.status)) merged.splice(Math.min(index, merged.length), 0, row);
  });
  return merged;
}
