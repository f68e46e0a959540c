/**
 * Jobs: filters in the URL, cursor paging, live status updates in place (new jobs are announced,
 * not inserted, and jobs that leave the status filter are marked, not removed, so rows never jump
 * under the pointer; see job-list-live.ts), bulk cancel/retry with a count-exact confirmation.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { api, ApiError, JOB_STATUSES, type Job, type JobList, type JobStatus } from '../api';
import { DataTable, type Column } from '../components/data-table';
import { Confirm, CursorPager, PageHeader, StatusBadge } from '../components/ui';
import { useResource } from '../hooks';
import { applyJobEvent, matchesStatus, mergeRead, replaceRow, type JobEventData } from '../job-list-live';
import { useLiveEvents, type LiveEvent } from '../live-stream';
import { serialReader } from '../log-lines';
import { ago, shortId } from '../format';
import { Link, setQuery, useLocation } from '../router';
import { useCan } from '../session';

const PAGE = 50;

function toLocalInput(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

type BulkAction = 'cancel' | 'retry';

export function JobsPage(): ReactNode {
  const { query } = useLocation();
  const can = useCan();
  const filters = {
    status: query.get('status') ?? '',
    queue: query.get('queue') ?? '',
    task: query.get('task') ?? '',
    scheduleId: query.get('scheduleId') ?? '',
    since: query.get('since') ?? '',
    until: query.get('until') ?? '',
    q: query.get('q') ?? '',
    cursor: query.get('cursor') ?? '',
  };
  const filterKey = JSON.stringify(filters);
  const [freshIds, setFreshIds] = useState<ReadonlySet<string>>(new Set());
  const fresh = freshIds.size;
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [bulk, setBulk] = useState<BulkAction | null>(null);
  const [bulkBusy, setBulkBusy] = useState(false);
  const [bulkResult, setBulkResult] = useState<string | null>(null);
  const [text, setText] = useState(filters.q);
  const [schedules, setSchedules] = useState<Array<{ id: string; name: string }>>([]);
  const canReadSchedules = can('schedules:read');
  useEffect(() => {
    if (!canReadSchedules) return;
    api<{ schedules: Array<{ id: string; name: string }> }>('GET', '/api/v1/schedules', { query: { limit: 500 } })
      .then((r) => setSchedules(r.schedules))
      .catch(() => setSchedules([]));
  }, [canReadSchedules]);
  const statuses = useMemo(() => new Set(filters.status.split(',').filter(Boolean)), [filters.status]);

  // A read of the list is a snapshot that may predate events the stream delivers while it is in
  // flight; those events are kept and laid over its answer (unless the answer is further along).
  // Only the newest read's answer is shown (useResource).
  const reads = useRef({ inFlight: 0, keepLeft: false, seen: new Map<string, { status: JobStatus; attempt: number }>() });
  // The rows as the last event left them (state updates land later), for deciding what an event does.
  const rows = useRef<Job[]>([]);
  // The filters the shown rows were read with: a read of other filters keeps none of them.
  const shownKey = useRef('');
  const resource = useResource(async (): Promise<JobList> => {
    const state = reads.current;
    const keepLeft = state.keepLeft;
    state.keepLeft = false;
    state.inFlight += 1;
    state.seen = new Map();
    try {
      const list = await api<JobList>('GET', '/api/v1/jobs', {
        query: { status: filters.status, queue: filters.queue, task: filters.task, scheduleId: filters.scheduleId, since: filters.since, until: filters.until, q: filters.q, cursor: filters.cursor, limit: PAGE },
      });
      // What is shown now (events may have moved rows out of the filter while the read was out).
      const keep = keepLeft && shownKey.current === filterKey ? rows.current : [];
      shownKey.current = filterKey;
      setFreshIds(new Set());
      return { ...list, jobs: mergeRead(list.jobs, state.seen, keep, statuses) };
    } finally {
      state.inFlight -= 1;
    }
  }, filterKey);
  const { data, setData, reload } = resource;
  rows.current = data?.jobs ?? [];
  /** Read the list again; `keepLeft` for reads the page makes on its own (see mergeRead). */
  const load = useCallback((options: { keepLeft?: boolean } = {}): Promise<void> => {
    if (options.keepLeft) reads.current.keepLeft = true;
    return reload();
  }, [reload]);

  useEffect(() => setSelected(new Set()), [filterKey]);

  // A row whose job changed may have a new error (the event does not carry it): read that job
  // again, one read per job at a time.
  const rowReaders = useRef(new Map<string, () => Promise<void>>());
  const refetchRow = useCallback((id: string) => {
    let read = rowReaders.current.get(id);
    if (!read) {
      read = serialReader(async () => {
        const job = await api<Job>('GET', `/api/v1/jobs/${encodeURIComponent(id)}`);
        rows.current = replaceRow(rows.current, job);
        setData((current) => (current ? { ...current, jobs: replaceRow(current.jobs, job) } : current));
      });
      rowReaders.current.set(id, read);
    }
    void read();
  }, [setData]);

  const onEvent = useCallback((event: LiveEvent) => {
    if (event.type === 'reset') {
      void load({ keepLeft: true });
      return;
    }
    if (event.type !== 'job') return;
    const d = event.data as unknown as JobEventData;
    if (reads.current.inFlight > 0) reads.current.seen.set(d.jobId, { status: d.status, attempt: d.attempt });
    const effect = applyJobEvent(rows.current, d, statuses);
    rows.current = effect.rows;
    setData((current) => (current ? { ...current, jobs: applyJobEvent(current.jobs, d, statuses).rows } : current));
    // A job submitted (or entering the status filter) since this page loaded: count it, unless we are on an older page.
    if (effect.fresh && !filters.cursor) setFreshIds((ids) => (ids.has(d.jobId) ? ids : new Set(ids).add(d.jobId)));
    if (effect.refetch) refetchRow(d.jobId);
  }, [load, filters.cursor, statuses, refetchRow, setData]);
  // A fresh subscription replays nothing: read the list again once it is in place, so a change
  // made between the first read and the subscription is not missed.
  const onOpen = useCallback((resumed: boolean) => {
    if (!resumed) void load({ keepLeft: true });
  }, [load]);
  // Not filtered by status: a job leaving the filtered status must still reach its row.
  useLiveEvents({ query: { types: 'job', queue: filters.queue || undefined, task: filters.task || undefined, scheduleId: filters.scheduleId || undefined } }, onEvent, filterKey, onOpen);

  const jobs = data?.jobs ?? [];
  const left = jobs.filter((j) => !matchesStatus(statuses, j.status));
  const chosen = jobs.filter((j) => selected.has(j.id));
  const cancellable = chosen.filter((j) => j.status === 'queued' || j.status === 'scheduled' || j.status === 'running');
  const retryable = chosen.filter((j) => j.status === 'failed' || j.status === 'cancelled');
  const canWrite = can('jobs:write');

  const runBulk = async (action: BulkAction): Promise<void> => {
    const targets = action === 'cancel' ? cancellable : retryable;
    setBulkBusy(true);
    let ok = 0;
    const failures: string[] = [];
    for (const job of targets) {
      try {
        await api('POST', `/api/v1/jobs/${job.id}/${action}`);
        ok += 1;
      } catch (err) {
        failures.push(`${shortId(job.id)}: ${err instanceof ApiError ? err.message : String(err)}`);
      }
    }
    setBulkBusy(false);
    setBulk(null);
    setSelected(new Set());
    setBulkResult(`${action === 'cancel' ? 'Cancelled' : 'Retried'} ${ok} of ${targets.length} jobs.${failures.length ? ` Failed: ${failures.join('; ')}` : ''}`);
    void load();
  };

  const toggleStatus = (status: string): void => {
    const next = new Set(statuses);
    if (next.has(status)) next.delete(status);
    else next.add(status);
    setQuery({ status: [...next].join(','), cursor: null });
  };

  return (
    <>
      <PageHeader title="Jobs">
        {canWrite ? (
          <Link to="/submit" className="btn btn-primary">
            Submit a job
          </Link>
        ) : null}
      </PageHeader>
      <form
        className="filters"
        aria-label="Filters"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery({ q: text.trim(), cursor: null });
        }}
      >
        <fieldset className="status-filter">
          <legend className="sr-only">Status</legend>
          {JOB_STATUSES.map((s) => (
            <label key={s} className="check">
              <input type="checkbox" checked={statuses.has(s)} onChange={() => toggleStatus(s)} /> {s}
            </label>
          ))}
        </fieldset>
        <label>
          Queue
          <input value={filters.queue} onChange={(e) => setQuery({ queue: e.target.value, cursor: null })} size={12} />
        </label>
        <label>
          Task
          <input value={filters.task} onChange={(e) => setQuery({ task: e.target.value, cursor: null })} size={12} />
        </label>
        {schedules.length > 0 || filters.scheduleId ? (
          <label>
            Schedule
            <select value={filters.scheduleId} onChange={(e) => setQuery({ scheduleId: e.target.value, cursor: null })}>
              <option value="">Any</option>
              {filters.scheduleId && !schedules.some((s) => s.id === filters.scheduleId) ? <option value={filters.scheduleId}>{filters.scheduleId.slice(-8)}</option> : null}
              {schedules.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <label>
          Created after
          <input type="datetime-local" value={toLocalInput(filters.since || null)} onChange={(e) => setQuery({ since: fromLocalInput(e.target.value), cursor: null })} />
        </label>
        <label>
          Created before
          <input type="datetime-local" value={toLocalInput(filters.until || null)} onChange={(e) => setQuery({ until: fromLocalInput(e.target.value), cursor: null })} />
        </label>
        <label>
          Search id, task, queue, payload
          <input type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder="e.g. invoice-42" />
        </label>
        <button type="submit" className="btn">
          Search
        </button>
        {Object.entries(filters).some(([k, v]) => k !== 'cursor' && v) ? (
          <button type="button" className="btn" onClick={() => { setText(''); setQuery({ status: null, queue: null, task: null, scheduleId: null, since: null, until: null, q: null, cursor: null }); }}>
            Clear filters
          </button>
        ) : null}
      </form>

      <div className="toolbar" aria-live="polite">
        {fresh > 0 ? (
          <button type="button" className="btn" onClick={() => void load()}>
            {fresh} new {fresh === 1 ? 'job' : 'jobs'} — show
          </button>
        ) : null}
        {left.length > 0 ? (
          <button type="button" className="btn" onClick={() => setData((current) => (current ? { ...current, jobs: current.jobs.filter((j) => matchesStatus(statuses, j.status)) } : current))}>
            {left.length} no longer {left.length === 1 ? 'matches' : 'match'} the status filter — hide
          </button>
        ) : null}
        {canWrite && chosen.length > 0 ? (
          <>
            <span>{chosen.length} selected</span>
            <button type="button" className="btn" disabled={cancellable.length === 0} onClick={() => setBulk('cancel')}>
              Cancel selected
            </button>
            <button type="button" className="btn" disabled={retryable.length === 0} onClick={() => setBulk('retry')}>
              Retry selected
            </button>
          </>
        ) : null}
        {bulkResult ? <span role="status">{bulkResult}</span> : null}
      </div>

      <DataTable
        label="Jobs"
        className=""
        resource={resource}
        empty="No jobs match these filters."
        rows={jobs}
        rowKey={(job) => job.id}
        rowProps={(job) => {
          const left = !matchesStatus(statuses, job.status);
          return {
            className: [selected.has(job.id) ? 'selected' : '', left ? 'row-left' : ''].filter(Boolean).join(' ') || undefined,
            'data-job-id': job.id,
            'data-left': left || undefined,
            title: left ? 'No longer matches the status filter' : undefined,
          };
        }}
        columns={[
          ...(canWrite
            ? [
                {
                  header: 'Select',
                  heading: <input type="checkbox" aria-label="Select all jobs on this page" checked={chosen.length === jobs.length} onChange={(e) => setSelected(e.target.checked ? new Set(jobs.map((j) => j.id)) : new Set())} />,
                  cell: (job: Job) => (
                    <input
                      type="checkbox"
                      aria-label={`Select job ${shortId(job.id)}`}
                      checked={selected.has(job.id)}
                      onChange={(e) => {
                        const next = new Set(selected);
                        if (e.target.checked) next.add(job.id);
                        else next.delete(job.id);
                        setSelected(next);
                      }}
                    />
                  ),
                },
              ]
            : []),
          ...COLUMNS,
        ]}
      />
      <CursorPager cursor={filters.cursor} nextCursor={data?.nextCursor} />

      {bulk ? (
        <Confirm
          title={bulk === 'cancel' ? `Cancel ${cancellable.length} ${cancellable.length === 1 ? 'job' : 'jobs'}?` : `Retry ${retryable.length} ${retryable.length === 1 ? 'job' : 'jobs'}?`}
          confirmLabel={bulk === 'cancel' ? `Cancel ${cancellable.length}` : `Retry ${retryable.length}`}
          danger={bulk === 'cancel'}
          busy={bulkBusy}
          onCancel={() => setBulk(null)}
          onConfirm={() => void runBulk(bulk)}
        >
          {bulk === 'cancel' ? (
            <p>
              {cancellable.filter((j) => j.status !== 'running').length} waiting will be cancelled at once; {cancellable.filter((j) => j.status === 'running').length} running will be asked to stop.
              {chosen.length - cancellable.length > 0 ? ` ${chosen.length - cancellable.length} already finished will be left alone.` : ''}
            </p>
          ) : (
            <p>
              {retryable.length} failed or cancelled will be queued again with a fresh run of attempts.
              {chosen.length - retryable.length > 0 ? ` ${chosen.length - retryable.length} others will be left alone.` : ''}
            </p>
          )}
        </Confirm>
      ) : null}
    </>
  );
}

const COLUMNS: Array<Column<Job>> = [
  {
    header: 'Job',
    cellClassName: 'mono',
    cell: (job) => (
      <Link to={`/jobs/${job.id}`} title={job.id}>
        {shortId(job.id)}
      </Link>
    ),
  },
  { header: 'Status', cell: (job) => <StatusBadge status={job.status} /> },
  { header: 'Task', cellClassName: 'truncate', title: (job) => job.task, cell: (job) => job.task },
  { header: 'Queue', cellClassName: 'truncate', title: (job) => job.queue, cell: (job) => job.queue },
  { header: 'Attempt', cell: (job) => `${job.attempt}/${job.maxAttempts}` },
  { header: 'Created', title: (job) => job.createdAt, cell: (job) => ago(job.createdAt) },
  { header: 'Last error', cellClassName: 'truncate muted', title: (job) => job.errors.at(-1)?.message, cell: (job) => job.errors.at(-1)?.message ?? '' },
];
