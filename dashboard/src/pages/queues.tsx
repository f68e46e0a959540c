/**
 * Queues: job counts by status (each links to the filtered jobs list), throughput of the last
 * five minutes, paused state and concurrency limit. Admins (queues:write) pause/resume and set
 * the limit. Live: queue and job events refetch, throttled to once every 2 s.
 */
import { useCallback, useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { api, JOB_STATUSES } from '../api';
import { DataTable } from '../components/data-table';
import { Confirm, ErrorBox, Field, PageHeader } from '../components/ui';
import { useLiveEvents, type LiveEvent } from '../live-stream';
import { count } from '../format';
import { useResource, useThrottled } from '../hooks';
import { Link } from '../router';
import { useCan } from '../session';
import type { ResponseOf } from '../../../src/client/api-shapes.js';

type Queue = ResponseOf<'/api/v1/queues', 'get'>['queues'][number];

type Action = { kind: 'pause' | 'resume'; queue: Queue } | { kind: 'limit'; queue: Queue } | null;

const THROTTLE_MS = 2000;

export function QueuesPage(): ReactNode {
  const can = useCan();
  const canWrite = can('queues:write');
  const resource = useResource(async () => (await api<{ queues: Queue[] }>('GET', '/api/v1/queues')).queues);
  const { data: queues, loading, reload: load, setData: setQueues } = resource;
  const [action, setAction] = useState<Action>(null);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);
  const [message, setMessage] = useState<string | null>(null);

  // At most one refetch every 2 s; events inside the window collapse into one at its end.
  const throttledLoad = useThrottled(() => void load(), THROTTLE_MS);

  const onEvent = useCallback(
    (event: LiveEvent) => {
      if (event.type === 'reset') void load();
      else if (event.type === 'queue' || event.type === 'job') throttledLoad();
    },
    [load, throttledLoad],
  );
  useLiveEvents({ query: { types: 'queue,job' } }, onEvent, '', (resumed) => {
    if (!resumed) throttledLoad();
  });

  const run = async (path: string, method: string, body: unknown, done: string): Promise<void> => {
    setBusy(true);
    setActionError(null);
    try {
      const updated = await api<Queue>(method, path, body === undefined ? {} : { body });
      setQueues((current) => current?.map((q) => (q.name === updated.name ? { ...q, paused: updated.paused, concurrencyLimit: updated.concurrencyLimit } : q)) ?? current);
      setAction(null);
      setMessage(done);
      void load();
    } catch (err) {
      setMessage(null);
      setActionError(err);
    } finally {
      setBusy(false);
    }
  };

  const qPath = (name: string, what: string): string => `/api/v1/queues/${encodeURIComponent(name)}/${what}`;

  return (
    <>
      <PageHeader title="Queues">
        <button type="button" className="btn" onClick={() => void load()} disabled={loading}>
          Refresh
        </button>
      </PageHeader>
      <div className="live-msg" aria-live="polite">
        {message ? <span role="status">{message}</span> : null}
      </div>
      {actionError && !action ? <ErrorBox error={actionError} /> : null}
      <DataTable
        label="Queues"
        resource={resource}
        empty={<>No queues yet. A queue appears when the first job is submitted to it{can('jobs:write') ? <> — <Link to="/submit">submit a job</Link></> : null}.</>}
        rows={queues ?? []}
        rowKey={(q) => q.name}
        rowProps={(q) => ({ 'data-queue': q.name })}
        columns={[
          { header: 'Queue', rowHeader: true, cellClassName: 'truncate', title: (q) => q.name, cell: (q) => <Link to={`/jobs?queue=${encodeURIComponent(q.name)}`}>{q.name}</Link> },
          { header: 'State', cell: (q) => (q.paused ? <span className="badge badge-paused">paused</span> : <span className="badge badge-active">active</span>) },
          { header: 'Jobs by status', cellClassName: 'wrap', cell: (q) => <StatusCounts queue={q} /> },
          {
            header: 'Last 5 min',
            cell: (q) => (
              <>
                {count(q.completedLast5m)} completed, <span className={q.failedLast5m > 0 ? 'error-text' : undefined}>{count(q.failedLast5m)} failed</span>
              </>
            ),
          },
          { header: 'Concurrency limit', cell: (q) => (q.concurrencyLimit === null ? <span className="muted">no limit</span> : `${count(q.concurrencyLimit)} at once`) },
          ...(canWrite
            ? [
                {
                  header: 'Actions',
                  cell: (q: Queue) => (
                    <div className="row-actions">
                      <button type="button" className="btn btn-small" aria-label={`${q.paused ? 'Resume' : 'Pause'} queue ${q.name}`} onClick={() => { setActionError(null); setAction({ kind: q.paused ? 'resume' : 'pause', queue: q }); }}>
                        {q.paused ? 'Resume' : 'Pause'}
                      </button>
                      <button type="button" className="btn btn-small" aria-label={`Set concurrency limit of ${q.name}`} onClick={() => { setActionError(null); setAction({ kind: 'limit', queue: q }); }}>
                        Set concurrency limit
                      </button>
                    </div>
                  ),
                },
              ]
            : []),
        ]}
      />

      {action && action.kind !== 'limit' ? (
        <Confirm
          title={action.kind === 'pause' ? `Pause queue ${action.queue.name}?` : `Resume queue ${action.queue.name}?`}
          confirmLabel={action.kind === 'pause' ? 'Pause queue' : 'Resume queue'}
          danger={action.kind === 'pause'}
          busy={busy}
          onCancel={() => { setAction(null); setActionError(null); }}
          onConfirm={() => void run(qPath(action.queue.name, action.kind), 'POST', undefined, `Queue ${action.queue.name} ${action.kind === 'pause' ? 'paused' : 'resumed'}.`)}
        >
          {action.kind === 'pause' ? (
            <p>
              Workers stop starting jobs from <strong>{action.queue.name}</strong>. Its jobs stay queued — nothing is cancelled or lost — and run once the queue is resumed ({count((action.queue.counts.queued ?? 0) + (action.queue.counts.scheduled ?? 0))} waiting now). Jobs already running ({count(action.queue.counts.running ?? 0)}) finish normally.
            </p>
          ) : (
            <p>
              Workers start taking jobs from <strong>{action.queue.name}</strong> again; its {count(action.queue.counts.queued ?? 0)} queued jobs will run.
            </p>
          )}
          {actionError ? <ErrorBox error={actionError} /> : null}
        </Confirm>
      ) : null}
      {action && action.kind === 'limit' ? (
        <LimitDialog
          queue={action.queue}
          busy={busy}
          error={actionError}
          onCancel={() => { setAction(null); setActionError(null); }}
          onSave={(limit) => void run(qPath(action.queue.name, 'concurrency'), 'PUT', { limit }, limit === null ? `Queue ${action.queue.name}: no concurrency limit.` : `Queue ${action.queue.name}: at most ${limit} running at once.`)}
        />
      ) : null}
    </>
  );
}

function LimitDialog({ queue, busy, error, onCancel, onSave }: { queue: Queue; busy: boolean; error: unknown; onCancel: () => void; onSave: (limit: number | null) => void }): ReactNode {
  const ref = useRef<HTMLDialogElement>(null);
  const [noLimit, setNoLimit] = useState(queue.concurrencyLimit === null);
  const [value, setValue] = useState(queue.concurrencyLimit === null ? '' : String(queue.concurrencyLimit));
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  const n = Number(value);
  const valid = noLimit || (value.trim() !== '' && Number.isInteger(n) && n >= 1 && n <= 1_000_000);
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (!valid || busy) return;
    onSave(noLimit ? null : n);
  };
  return (
    <dialog ref={ref} className="dialog" aria-labelledby="limit-title" onCancel={(e) => { e.preventDefault(); onCancel(); }}>
      <form onSubmit={submit} noValidate>
        <h2 id="limit-title">Concurrency limit of {queue.name}</h2>
        <p className="muted">How many of this queue’s jobs may run at once, across all workers.</p>
        <label className="check">
          <input type="checkbox" checked={noLimit} onChange={(e) => setNoLimit(e.target.checked)} /> No limit
        </label>
        <Field label="Maximum running jobs" hint="A whole number from 1 to 1,000,000." error={!noLimit && value.trim() !== '' && !valid ? 'Enter a whole number from 1 to 1,000,000.' : null}>
          {(id) => <input id={id} type="number" min={1} max={1_000_000} step={1} value={value} disabled={noLimit} onChange={(e) => setValue(e.target.value)} autoFocus={!noLimit} />}
        </Field>
        {error ? <ErrorBox error={error} /> : null}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onCancel} disabled={busy}>
            Close
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy || !valid}>
            {busy ? 'Saving…' : 'Save limit'}
          </button>
        </div>
      </form>
    </dialog>
  );
}

/** A queue's jobs by status, each count linking to those jobs. */
function StatusCounts({ queue: q }: { queue: Queue }): ReactNode {
  const statuses = JOB_STATUSES.filter((s) => (q.counts[s] ?? 0) > 0);
  if (statuses.length === 0) return <span className="muted">no jobs</span>;
  return (
    <ul className="counts" aria-label={`Jobs of ${q.name} by status`}>
      {statuses.map((s) => (
        <li key={s}>
          <Link to={`/jobs?queue=${encodeURIComponent(q.name)}&status=${s}`} className={`count count-${s}`}>
            <span className="count-n">{count(q.counts[s] ?? 0)}</span> {s}
          </Link>
        </li>
      ))}
    </ul>
  );
}
