/**
 * One job: status timeline, payload, result, every attempt's error, progress, log lines that
 * stream while it runs, trace id, and the actions the role allows.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { api, ApiError, type Job, type LogLine } from '../api';
import { Confirm, ErrorBox, Field, JsonBlock, Loading, PageHeader, StatusBadge } from '../components/ui';
import { useLiveEvents, type LiveEvent } from '../live-stream';
import { useResource, useThrottled } from '../hooks';
import { jobTimeline } from '../job-timeline';
import { appendLines, serialReader } from '../log-lines';
import { progressView } from '../progress';
import { ago, dateTime, duration } from '../format';
import { Link } from '../router';
import { useCan } from '../session';
import { useLiveTaskNames } from '../live-tasks';

type Action = 'cancel' | 'retry' | 'reschedule' | null;

export function JobPage({ id }: { id: string }): ReactNode {
  const can = useCan();
  // Answers can arrive out of order (an event's refetch may overtake an action's answer, which
  // waits for its audit entry): useResource shows only the latest load.
  const { data: job, error, reload: loadJob } = useResource(() => api<Job>('GET', `/api/v1/jobs/${encodeURIComponent(id)}`), id);
  const [logs, setLogs] = useState<LogLine[]>([]);
  const [action, setAction] = useState<Action>(null);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);
  const lastLogId = useRef<string | null>(null);
  // Read again whenever the job changes status: a worker may have started meanwhile.
  const liveTasks = useLiveTaskNames(useCan()('workers:read'), `${id}:${job?.status ?? ''}`);

  // One read at a time from the cursor (see log-lines.ts): two reads from the same cursor would
  // both append the same lines. Errors are swallowed: the job view shows them; logs are secondary.
  const loadLogs = useMemo(() => serialReader(async () => {
    const { lines } = await api<{ lines: LogLine[] }>('GET', `/api/v1/jobs/${encodeURIComponent(id)}/logs`, { query: { after: lastLogId.current ?? undefined, limit: 1000 } });
    if (lines.length > 0) {
      lastLogId.current = lines[lines.length - 1]!.id;
      setLogs((current) => appendLines(current, lines));
    }
  }), [id]);
  // Progress arrives as job-output too, in bursts: the job is read again at most once a second.
  const loadJobSoon = useThrottled(() => void loadJob(), 500);

  useEffect(() => {
    lastLogId.current = null;
    setLogs([]);
    void loadLogs();
  }, [loadLogs]);

  const onEvent = useCallback(
    (event: LiveEvent) => {
      if (event.type === 'job' || event.type === 'reset') void loadJob();
      else if (event.type === 'job-output') loadJobSoon();
      if (event.type === 'job-output' || event.type === 'reset' || (event.type === 'job' && event.data.status !== 'running')) void loadLogs();
    },
    [loadJob, loadJobSoon, loadLogs],
  );
  useLiveEvents({ path: `/api/v1/jobs/${encodeURIComponent(id)}/events` }, onEvent, id);

  const act = async (kind: Exclude<Action, null>, body?: unknown): Promise<void> => {
    setBusy(true);
    setActionError(null);
    try {
      await api<Job>('POST', `/api/v1/jobs/${encodeURIComponent(id)}/${kind}`, body === undefined ? {} : { body });
      // Not the action's answer: the job may have moved on while it travelled (a cancelled
      // handler stops at once). A load started now is at least as new.
      await loadJob();
      setAction(null);
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy(false);
    }
  };

  if (error) return <ErrorBox error={error} onRetry={() => void loadJob()} />;
  if (!job) return <Loading />;
  const canWrite = can('jobs:write');
  const waiting = job.status === 'queued' || job.status === 'scheduled';
  const cancellable = waiting || (job.status === 'running' && !job.cancelRequestedAt);
  const retryable = job.status === 'failed' || job.status === 'cancelled';

  return (
    <>
      <PageHeader title={`Job ${job.id.slice(-8)}`}>
        <StatusBadge status={job.status} />
        {canWrite && cancellable ? (
          <button type="button" className="btn" onClick={() => setAction('cancel')}>
            Cancel
          </button>
        ) : null}
        {canWrite && retryable ? (
          <button type="button" className="btn" onClick={() => setAction('retry')}>
            Retry
          </button>
        ) : null}
        {canWrite && waiting ? (
          <button type="button" className="btn" onClick={() => setAction('reschedule')}>
            Reschedule / priority
          </button>
        ) : null}
      </PageHeader>
      {actionError && !action ? <ErrorBox error={actionError} /> : null}
      {waiting && liveTasks && !liveTasks.has(job.task) ? (
        <p className="notice" role="status">
          No live worker handles task <strong>{job.task}</strong>: the job waits until a worker that runs it starts.
        </p>
      ) : null}
      {job.cancelRequestedAt && job.status === 'running' ? <p className="notice">Cancel requested {ago(job.cancelRequestedAt)}; waiting for the handler to stop.</p> : null}

      <div className="grid">
        <section className="panel" aria-labelledby="facts">
          <h2 id="facts">Details</h2>
          <dl className="facts">
            <dt>Id</dt>
            <dd className="mono">{job.id}</dd>
            <dt>Task</dt>
            <dd>{job.task}</dd>
            <dt>Queue</dt>
            <dd>
              <Link to={`/jobs?queue=${encodeURIComponent(job.queue)}`}>{job.queue}</Link>
            </dd>
            <dt>Priority</dt>
            <dd>{job.priority}</dd>
            <dt>Attempts</dt>
            <dd>
              {job.attempt} started, {String(job.attemptsLeft ?? '—')} left of {job.maxAttempts}
            </dd>
            <dt>Worker</dt>
            <dd className="mono">{job.workerId ?? '—'}</dd>
            {job.scheduleId ? (
              <>
                <dt>Schedule</dt>
                <dd>
                  <Link to={`/schedules/${job.scheduleId}`}>{job.scheduleId.slice(-8)}</Link>
                </dd>
              </>
            ) : null}
            <dt>Created by</dt>
            <dd className="mono">{job.createdBy ?? '—'}</dd>
            <dt>Trace</dt>
            <dd className="mono">{typeof job.traceParent === 'string' ? job.traceParent.split('-')[1] : '—'}</dd>
          </dl>
        </section>
        <section className="panel" aria-labelledby="timeline">
          <h2 id="timeline">Timeline</h2>
          <ol className="timeline" aria-label="Timeline">
            {jobTimeline(job).map((entry) => (
              <li key={entry.key}>
                {entry.label}{' '}
                <span className="muted">
                  {entry.at ? dateTime(entry.at) : 'time not recorded'}
                  {entry.kind === 'due' ? ` (${ago(entry.at)})` : ''}
                  {entry.kind === 'finished' && job.status === 'completed' ? ` — ran ${duration(job.startedAt, job.finishedAt)}` : ''}
                </span>
              </li>
            ))}
          </ol>
          {job.status === 'running' && job.progress !== null && job.progress !== undefined ? <Progress value={job.progress} /> : null}
        </section>
      </div>

      <section className="panel" aria-labelledby="payload">
        <h2 id="payload">Payload</h2>
        <JsonBlock value={job.payload} label="Payload" />
      </section>
      {job.status === 'completed' ? (
        <section className="panel" aria-labelledby="result">
          <h2 id="result">Result</h2>
          <JsonBlock value={job.result} label="Result" />
        </section>
      ) : null}
      {job.errors.length > 0 ? (
        <section className="panel" aria-labelledby="attempts">
          <h2 id="attempts">Attempt errors</h2>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Attempt</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Message</th>
                  <th scope="col">Worker</th>
                  <th scope="col">At</th>
                </tr>
              </thead>
              <tbody>
                {job.errors.map((e) => (
                  <tr key={`${e.attempt}-${e.at}`}>
                    <td>{e.attempt}</td>
                    <td>{e.kind}</td>
                    <td className="wrap">
                      {e.name ? <strong className="mono">{e.name}: </strong> : null}
                      {e.message}
                      {e.stack ? (
                        <details className="error-stack">
                          <summary>Stack trace</summary>
                          <pre className="mono">{e.stack}</pre>
                        </details>
                      ) : null}
                    </td>
                    <td className="mono truncate">{e.workerId ?? '—'}</td>
                    <td>{dateTime(e.at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ) : null}
      <section className="panel" aria-labelledby="logs">
        <h2 id="logs">Log lines</h2>
        {logs.length === 0 ? (
          <p className="muted">No log lines{job.status === 'running' ? ' yet' : ''}.</p>
        ) : (
          <div className="logs" role="log" aria-live="polite" aria-label="Log lines" tabIndex={0}>
            {logs.map((line) => (
              <div key={line.id} className={`line lvl-${line.level}`}>
                <span className="muted">
                  #{line.attempt} {new Date(line.at).toLocaleTimeString()}
                </span>{' '}
                {line.message}
                {line.fields ? <span className="muted"> {JSON.stringify(line.fields)}</span> : null}
              </div>
            ))}
          </div>
        )}
      </section>

      {action === 'cancel' ? (
        <Confirm title="Cancel this job?" confirmLabel="Cancel job" danger busy={busy} onCancel={() => setAction(null)} onConfirm={() => void act('cancel')}>
          <p>{job.status === 'running' ? 'The running handler is asked to stop; if it does not within the grace period, its lease is revoked.' : 'It will not run.'}</p>
          {actionError ? <ErrorBox error={actionError} /> : null}
        </Confirm>
      ) : null}
      {action === 'retry' ? (
        <Confirm title="Retry this job?" confirmLabel="Retry" busy={busy} onCancel={() => setAction(null)} onConfirm={() => void act('retry')}>
          <p>It is queued again with a fresh run of {job.maxAttempts} attempts; its error history is kept.</p>
          {actionError ? <ErrorBox error={actionError} /> : null}
        </Confirm>
      ) : null}
      {action === 'reschedule' ? <RescheduleDialog job={job} busy={busy} error={actionError} onCancel={() => setAction(null)} onSave={(body) => void act('reschedule', body)} /> : null}
    </>
  );
}

function Progress({ value }: { value: unknown }): ReactNode {
  const view = progressView(value);
  if (view.kind === 'raw') return <JsonBlock value={view.value} label="Progress" />;
  return (
    <div>
      <progress className="progress-bar" max={100} value={view.percent} aria-label="Progress" /> <span className="muted progress-caption">{view.text}</span>
      {view.message ? <div className="muted">{view.message}</div> : null}
    </div>
  );
}

function RescheduleDialog({ job, busy, error, onCancel, onSave }: { job: Job; busy: boolean; error: unknown; onCancel: () => void; onSave: (body: { runAt?: string; priority?: number }) => void }): ReactNode {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const d = new Date(job.runAt);
  const [runAt, setRunAt] = useState(`${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`);
  const [priority, setPriority] = useState(String(job.priority));
  const [local, setLocal] = useState<string | null>(null);
  const save = (e?: FormEvent): void => {
    e?.preventDefault();
    const p = Number(priority);
    if (!Number.isInteger(p) || p < -1000 || p > 1000) {
      setLocal('Priority must be a whole number from -1000 to 1000.');
      return;
    }
    const when = new Date(runAt);
    if (Number.isNaN(when.getTime())) {
      setLocal('Pick a date and time.');
      return;
    }
    setLocal(null);
    onSave({ runAt: when.toISOString(), priority: p });
  };
  return (
    <Confirm title="Reschedule" confirmLabel="Save" busy={busy} onCancel={onCancel} onConfirm={() => save()}>
      <form onSubmit={save}>
        <Field label="Run at (your time zone)">{(fid) => <input id={fid} type="datetime-local" value={runAt} onChange={(e) => setRunAt(e.target.value)} />}</Field>
        <Field label="Priority (higher runs first)">{(fid) => <input id={fid} type="number" min={-1000} max={1000} step={1} value={priority} onChange={(e) => setPriority(e.target.value)} />}</Field>
        {local ? <p className="error-text">{local}</p> : null}
        {error instanceof ApiError || error instanceof Error ? <ErrorBox error={error} /> : null}
      </form>
    </Confirm>
  );
}
