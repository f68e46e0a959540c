/**
 * Failures: failed jobs grouped by task and (normalised) last error, largest group first, with
 * "retry all in this group". Filters live in the URL. New failures refresh the list, at most
 * every 2 s, so a burst of failures does not turn into a burst of scans.
 */
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { useResource, useThrottled } from '../hooks';
import { api, ApiError } from '../api';
import { DataTable } from '../components/data-table';
import { Confirm, PageHeader } from '../components/ui';
import { useLiveEvents, type LiveEvent } from '../live-stream';
import { ago, count, dateTime, shortId } from '../format';
import { Link, setQuery, useLocation } from '../router';
import { useCan } from '../session';
import type { ResponseOf } from '../../../src/client/api-shapes.js';

type FailureGroup = FailureList['groups'][number];

type FailureList = ResponseOf<'/api/v1/failures', 'get'>;

const WINDOWS = [
  { value: '1h', label: 'Last hour', ms: 3_600_000 },
  { value: '24h', label: 'Last 24 hours', ms: 86_400_000 },
  { value: '7d', label: 'Last 7 days', ms: 7 * 86_400_000 },
  { value: '30d', label: 'Last 30 days', ms: 30 * 86_400_000 },
] as const;
const DEFAULT_WINDOW = '7d';
/** Live updates re-read the list at most this often. */
const REFRESH_MS = 2000;
/** Messages longer than this are cut in the table; the full text is one click (or Enter) away. */
const SHORT = 140;
/** What the API retries per call (MAX_RETRY_PER_CALL). */
const RETRY_CAP = 10_000;

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function FailuresPage(): ReactNode {
  const { query } = useLocation();
  const can = useCan();
  const canWrite = can('jobs:write');
  const windowValue = WINDOWS.some((w) => w.value === query.get('window')) ? query.get('window')! : DEFAULT_WINDOW;
  const filters = { window: windowValue, task: query.get('task') ?? '', queue: query.get('queue') ?? '' };
  const filterKey = JSON.stringify(filters);

  const [target, setTarget] = useState<FailureGroup | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<string | null>(null);

  // Reloaded whenever the filters change; only the latest request may update the page.
  const resource = useResource(() => {
    const ms = WINDOWS.find((w) => w.value === filters.window)!.ms;
    return api<FailureList>('GET', '/api/v1/failures', {
      query: { since: new Date(Date.now() - ms).toISOString(), task: filters.task.trim(), queue: filters.queue.trim() },
    });
  }, filterKey);
  const { data, loading, reload: load } = resource;
  useEffect(() => setResult(null), [filterKey]);

  // Live failures refetch at most every 2 s.
  const refreshSoon = useThrottled(() => void load(), REFRESH_MS);

  const onEvent = useCallback((event: LiveEvent) => {
    if (event.type === 'reset' || event.type === 'job') refreshSoon();
  }, [refreshSoon]);
  useLiveEvents({ query: { types: 'job', status: 'failed', task: filters.task.trim() || undefined, queue: filters.queue.trim() || undefined } }, onEvent, filterKey, (resumed) => {
    if (!resumed) refreshSoon();
  });

  const retry = async (group: FailureGroup): Promise<void> => {
    if (!data) return;
    setBusy(true);
    try {
      const answer = await api<{ retried: number; more: boolean }>('POST', '/api/v1/failures/retry', {
        // The same window (and queue) the list was read with, so the group is the one shown.
        body: { task: group.task, message: group.message, since: data.since, ...(filters.queue.trim() ? { queue: filters.queue.trim() } : {}) },
      });
      setResult(
        `Retried ${count(answer.retried)} ${answer.retried === 1 ? 'job' : 'jobs'} of task ${group.task}.` +
          (answer.more ? ' More of this group are still failed: retry the group again for the next batch.' : ''),
      );
    } catch (err) {
      setResult(`Retry failed: ${err instanceof ApiError ? err.message : String(err)}`);
    } finally {
      setBusy(false);
      setTarget(null);
      void load();
    }
  };

  const groups = data?.groups ?? [];
  const filtered = filters.task !== '' || filters.queue !== '';
  const jobsLink = (g: FailureGroup): string => {
    // The jobs list cannot search error messages; it shows the group's task among failed jobs.
    const params = new URLSearchParams({ status: 'failed', task: g.task });
    if (filters.queue.trim()) params.set('queue', filters.queue.trim());
    if (data) params.set('since', data.since);
    return `/jobs?${params.toString()}`;
  };

  return (
    <>
      <PageHeader title="Failures">
        <button type="button" className="btn" onClick={() => void load()} disabled={loading}>
          Refresh
        </button>
      </PageHeader>
      <form className="filters" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Failed jobs created in
          <select value={filters.window} onChange={(e) => setQuery({ window: e.target.value === DEFAULT_WINDOW ? null : e.target.value })}>
            {WINDOWS.map((w) => (
              <option key={w.value} value={w.value}>
                {w.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Task
          <input value={filters.task} onChange={(e) => setQuery({ task: e.target.value })} size={14} />
        </label>
        <label>
          Queue
          <input value={filters.queue} onChange={(e) => setQuery({ queue: e.target.value })} size={14} />
        </label>
        {filtered || filters.window !== DEFAULT_WINDOW ? (
          <button type="button" className="btn" onClick={() => setQuery({ window: null, task: null, queue: null })}>
            Clear filters
          </button>
        ) : null}
      </form>

      <div className="toolbar" aria-live="polite">
        {data ? (
          <span className="muted">
            {groups.length === 0 ? '' : `${count(groups.reduce((n, g) => n + g.count, 0))} failed jobs in ${count(groups.length)} ${groups.length === 1 ? 'group' : 'groups'}`}
            {data.truncated ? ' (the largest groups only)' : ''}
          </span>
        ) : null}
        {result ? <span role="status">{result}</span> : null}
      </div>

      <DataTable
        label="Failure groups"
        className="fail-table"
        resource={resource}
        empty={filtered ? 'No failures match these filters.' : 'No failures — nice.'}
        rows={groups}
        rowKey={(g) => `${g.task}\u0000${g.message}`}
        columns={[
          {
            header: 'Task',
            cellClassName: 'fail-task',
            cell: (g) => (
              <>
                <span className="mono">{g.task}</span>
                {g.queues.length > 0 ? <div className="muted fail-sub">{g.queues.length === 1 ? `queue ${g.queues[0]}` : `queues ${g.queues.join(', ')}`}</div> : null}
              </>
            ),
          },
          { header: 'Error', cellClassName: 'fail-msg', cell: (g) => <Message group={g} /> },
          { header: 'Count', className: 'fail-num', cellClassName: 'fail-inline', cell: (g) => count(g.count) },
          { header: 'First seen', cellClassName: 'fail-inline', title: (g) => dateTime(g.firstSeen), cell: (g) => ago(g.firstSeen) },
          { header: 'Last seen', cellClassName: 'fail-inline', title: (g) => dateTime(g.lastSeen), cell: (g) => ago(g.lastSeen) },
          {
            header: 'Actions',
            hideHeader: true,
            cell: (g) => (
              <div className="fail-actions">
                <Link to={jobsLink(g)} className="btn btn-small">
                  View jobs
                </Link>
                <Link to={`/jobs/${g.sampleJobId}`} className="btn btn-small" aria-label={`Latest failed job ${shortId(g.sampleJobId)}`}>
                  Latest <span className="mono">{shortId(g.sampleJobId)}</span>
                </Link>
                {canWrite ? (
                  <button type="button" className="btn btn-small" onClick={() => { setResult(null); setTarget(g); }}>
                    Retry all in this group
                  </button>
                ) : null}
              </div>
            ),
          },
        ]}
      />

      {target ? (
        <Confirm
          title={`Retry ${count(target.count)} failed ${target.count === 1 ? 'job' : 'jobs'} of task ${cut(target.task, 60)} with error “${cut(target.message, 100)}”?`}
          confirmLabel={`Retry ${count(Math.min(target.count, RETRY_CAP))}`}
          busy={busy}
          onCancel={() => setTarget(null)}
          onConfirm={() => void retry(target)}
        >
          <p>They will be queued again with a fresh run of attempts. Jobs of this group that fail after this list was read are included too.</p>
          {target.count > RETRY_CAP ? <p>One retry takes at most {count(RETRY_CAP)} jobs; retry the group again for the rest.</p> : null}
          {target.message.length > 100 ? (
            <>
              <p className="muted">Full error:</p>
              <pre className="fail-full">{target.message}</pre>
            </>
          ) : null}
        </Confirm>
      ) : null}
    </>
  );
}

/** The group's message: short ones as they are, long ones cut with the full text in a disclosure. */
function Message({ group }: { group: FailureGroup }): ReactNode {
  const kind = group.kind && group.kind !== 'error' ? <span className="fail-kind">{group.kind}</span> : null;
  const example = group.sampleMessage !== group.message ? (
    <div className="muted fail-sub">
      e.g. <span className="fail-example">{cut(group.sampleMessage, SHORT)}</span>
    </div>
  ) : null;
  if (group.message.length <= SHORT) {
    return (
      <>
        {kind}
        <span className="fail-text">{group.message || '(no message)'}</span>
        {example}
      </>
    );
  }
  return (
    <>
      {kind}
      <details className="fail-details">
        <summary>
          <span className="fail-text">{cut(group.message, SHORT)}</span> <span className="muted">(full text)</span>
        </summary>
        <pre className="fail-full">{group.message}</pre>
      </details>
      {example}
    </>
  );
}
