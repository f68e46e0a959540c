/**
 * One schedule: its configuration, the next 10 fire times in its zone (and the viewer's), its runs
 * with the job each started or why it was skipped, and pause/resume, trigger, edit, delete.
 */
import { useCallback, useState, type ReactNode } from 'react';
import { api, ApiError } from '../api';
import { DataTable } from '../components/data-table';
import { Confirm, ErrorBox, JsonBlock, Loading, PageHeader, StatusBadge } from '../components/ui';
import { useLiveEvents, type LiveEvent } from '../live-stream';
import { useResource } from '../hooks';
import { dateTime, shortId } from '../format';
import { Link, navigate } from '../router';
import { useCan } from '../session';
import {
  FireTime,
  MISFIRE_POLICIES,
  OVERLAP_POLICIES,
  PausedBadge,
  policyLabel,
  timingWords,
  useThrottled,
  zonedTime,
  type Schedule,
  type SchedulePreview,
  type ScheduleRun,
} from './schedule-common';

type Action = 'trigger' | 'delete' | null;

function intervalWords(ms: number): string {
  const units: Array<[number, string]> = [[86_400_000, 'day'], [3_600_000, 'hour'], [60_000, 'minute'], [1000, 'second']];
  const [size, name] = units.find(([u]) => ms % u === 0) ?? [1, 'millisecond'];
  const n = ms / size;
  return `${n.toLocaleString()} ${n === 1 ? name : `${name}s`}`;
}

export function ScheduleDetailPage({ id }: { id: string }): ReactNode {
  const can = useCan();
  const canWrite = can('schedules:write');
  const path = `/api/v1/schedules/${encodeURIComponent(id)}`;
  // Each shows only its latest load: an event's refetch and an action's refetch may cross.
  const scheduleResource = useResource(() => api<Schedule>('GET', path), path);
  const previewResource = useResource(() => api<SchedulePreview>('GET', `${path}/preview`, { query: { count: 10 } }), path);
  const runsResource = useResource(async () => (await api<{ runs: ScheduleRun[] }>('GET', `${path}/runs`, { query: { limit: 50 } })).runs, path);
  const { data: schedule } = scheduleResource;
  const { data: preview, error: previewError } = previewResource;
  const { data: runs, reload: loadRuns } = runsResource;
  const [deleted, setDeleted] = useState(false);
  const error = deleted ? new ApiError(404, { code: 'SCHEDULE_NOT_FOUND', detail: 'This schedule was deleted.' }) : scheduleResource.error;
  const [action, setAction] = useState<Action>(null);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);
  const [message, setMessage] = useState<ReactNode>(null);

  const { reload: reloadScheduleNow } = scheduleResource;
  const { reload: reloadPreviewNow } = previewResource;
  const loadSchedule = useCallback(async () => {
    await Promise.all([reloadScheduleNow(), reloadPreviewNow()]);
  }, [reloadScheduleNow, reloadPreviewNow]);

  const reloadSchedule = useThrottled(() => void loadSchedule(), 1000);
  const reloadRuns = useThrottled(() => void loadRuns(), 1000);
  const onEvent = useCallback(
    (event: LiveEvent) => {
      if (event.type === 'schedule' || event.type === 'reset') {
        if (event.data.action === 'deleted') {
          setDeleted(true);
          return;
        }
        reloadSchedule();
        reloadRuns();
      }
      if (event.type === 'job') reloadRuns();
    },
    [reloadSchedule, reloadRuns],
  );
  useLiveEvents({ query: { types: 'schedule,job', scheduleId: id } }, onEvent, id, (resumed) => {
    if (resumed) return;
    reloadSchedule();
    reloadRuns();
  });

  const act = async (kind: 'pause' | 'resume' | 'trigger' | 'delete'): Promise<void> => {
    setBusy(true);
    setActionError(null);
    setMessage(null);
    try {
      if (kind === 'delete') {
        await api('DELETE', path);
        navigate('/schedules');
        return;
      }
      if (kind === 'trigger') {
        const { jobId } = await api<{ jobId: string }>('POST', `${path}/trigger`);
        setMessage(
          <>
            Triggered: <Link to={`/jobs/${jobId}`}>job {shortId(jobId)}</Link>
          </>,
        );
        void loadRuns();
      } else {
        await api<Schedule>('POST', `${path}/${kind}`);
        setMessage(kind === 'pause' ? 'Paused: it will not fire until resumed.' : 'Resumed: fire times missed while paused are skipped.');
        await loadSchedule();
      }
      setAction(null);
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy(false);
    }
  };

  if (error) {
    return (
      <>
        <ErrorBox error={error} onRetry={() => void loadSchedule()} />
        <p>
          <Link to="/schedules">All schedules</Link>
        </p>
      </>
    );
  }
  if (!schedule) return <Loading label="Loading schedule…" />;
  const s = schedule;
  const misfire = MISFIRE_POLICIES.find((p) => p.value === s.misfirePolicy);
  const overlap = OVERLAP_POLICIES.find((p) => p.value === s.overlapPolicy);

  return (
    <>
      <nav aria-label="Breadcrumb" className="sched-crumbs">
        <Link to="/schedules">Schedules</Link> <span aria-hidden="true">›</span> <span>{s.name}</span>
      </nav>
      <PageHeader title={s.name}>
        <PausedBadge paused={s.paused} />
        {canWrite ? (
          <>
            <button type="button" className="btn" disabled={busy} onClick={() => void act(s.paused ? 'resume' : 'pause')}>
              {s.paused ? 'Resume' : 'Pause'}
            </button>
            <button type="button" className="btn" disabled={busy} onClick={() => { setActionError(null); setAction('trigger'); }}>
              Trigger now
            </button>
            <Link to={`/schedules/${s.id}/edit`} className="btn">
              Edit
            </Link>
            <button type="button" className="btn btn-danger" disabled={busy} onClick={() => { setActionError(null); setAction('delete'); }}>
              Delete
            </button>
          </>
        ) : null}
      </PageHeader>
      <div className="toolbar" aria-live="polite">
        {message ? <span role="status">{message}</span> : null}
      </div>
      {actionError && !action ? <ErrorBox error={actionError} /> : null}
      {s.description ? <p className="sched-description">{s.description}</p> : null}

      <div className="grid">
        <section className="panel" aria-labelledby="sched-config">
          <h2 id="sched-config">Configuration</h2>
          <dl className="facts">
            <dt>Timing</dt>
            <dd>{timingWords(s)}</dd>
            {s.cron ? (
              <>
                <dt>Cron</dt>
                <dd className="mono">{s.cron}</dd>
              </>
            ) : (
              <>
                <dt>Interval</dt>
                <dd>{s.intervalMs === null ? '—' : `every ${intervalWords(s.intervalMs)}`}</dd>
              </>
            )}
            <dt>Time zone</dt>
            <dd>{s.timezone}</dd>
            <dt>Task</dt>
            <dd>{s.task}</dd>
            <dt>Queue</dt>
            <dd>
              <Link to={`/jobs?queue=${encodeURIComponent(s.queue)}`}>{s.queue}</Link>
            </dd>
            <dt>Misfires</dt>
            <dd>
              {policyLabel(MISFIRE_POLICIES, s.misfirePolicy)}
              {s.misfirePolicy === 'catch-up' ? ` (at most ${s.catchUpMax})` : ''}
              <div className="muted sched-sub">
                {misfire?.explain} Late by more than {s.misfireGraceMs / 1000} s counts as missed.
              </div>
            </dd>
            <dt>Overlap</dt>
            <dd>
              {policyLabel(OVERLAP_POLICIES, s.overlapPolicy)}
              {overlap ? <div className="muted sched-sub">{overlap.explain}</div> : null}
            </dd>
            <dt>Next fire</dt>
            <dd>{s.paused ? <span className="muted">none while paused</span> : <FireTime iso={s.nextFireAt} timeZone={s.timezone} />}</dd>
            <dt>Last fire</dt>
            <dd>
              <FireTime iso={s.lastFireAt} timeZone={s.timezone} />
            </dd>
            <dt>Created</dt>
            <dd>
              {dateTime(s.createdAt)}
              {s.createdBy ? <span className="muted"> by {s.createdBy}</span> : null}
            </dd>
            <dt>Changed</dt>
            <dd>{dateTime(s.updatedAt)}</dd>
            <dt>Id</dt>
            <dd className="mono">{s.id}</dd>
          </dl>
        </section>
        <section className="panel" aria-labelledby="sched-next">
          <h2 id="sched-next">Next 10 fire times</h2>
          {s.paused ? <p className="muted">Paused. If resumed now, it would fire at these times.</p> : null}
          {previewError ? <ErrorBox error={previewError} onRetry={() => void loadSchedule()} /> : null}
          {!preview && !previewError ? <Loading label="Computing fire times…" /> : null}
          {preview ? (
            preview.fireTimes.length === 0 ? (
              <p className="muted">No more fire times.</p>
            ) : (
              <ol className="sched-fires" aria-label="Next fire times">
                {preview.fireTimes.map((t) => (
                  <li key={t}>
                    <time dateTime={t}>{zonedTime(t, preview.timezone)}</time>
                    <span className="muted sched-sub">your time {zonedTime(t)}</span>
                  </li>
                ))}
              </ol>
            )
          ) : null}
        </section>
      </div>

      <section className="panel" aria-labelledby="sched-payload">
        <h2 id="sched-payload">Payload</h2>
        <JsonBlock value={s.payload} label="Payload" />
        {Object.keys(s.jobOptions).length > 0 ? (
          <>
            <h3 className="sched-h3">Job options</h3>
            <JsonBlock value={s.jobOptions} label="Job options" />
          </>
        ) : null}
      </section>

      <section className="panel" aria-labelledby="sched-runs">
        <h2 id="sched-runs">Runs</h2>
        <p className="muted">
          Each fire time, newest first: the job it submitted, or why it was skipped. <Link to={`/jobs?scheduleId=${encodeURIComponent(s.id)}`}>All jobs of this schedule</Link>
        </p>
        <DataTable
          label="Runs"
          className="sched-table"
          resource={runsResource}
          empty={<span className="muted">No runs yet. The first is due {s.nextFireAt && !s.paused ? zonedTime(s.nextFireAt, s.timezone) : 'when it is resumed'}.</span>}
          rows={runs ?? []}
          rowKey={(run) => `${run.fireAt}-${run.createdAt}-${run.jobId ?? run.reason}`}
          columns={[
            { header: 'Fire time', cellClassName: 'sched-when', cell: (run) => <FireTime iso={run.fireAt} timeZone={s.timezone} /> },
            { header: 'Outcome', cell: (run) => <span className={`badge badge-${run.outcome === 'enqueued' ? 'enqueued' : 'skipped'}`}>{run.outcome}</span> },
            { header: 'Reason', cellClassName: 'wrap', cell: (run) => run.reason },
            {
              header: 'Job',
              cell: (run) =>
                run.jobId ? (
                  <span className="sched-job">
                    <Link to={`/jobs/${run.jobId}`} className="mono" title={run.jobId} aria-label={`Job ${shortId(run.jobId)}`}>
                      {shortId(run.jobId)}
                    </Link>
                    {run.jobStatus ? <StatusBadge status={run.jobStatus} /> : null}
                  </span>
                ) : (
                  <span className="muted">—</span>
                ),
            },
          ]}
        />
      </section>

      {action === 'trigger' ? (
        <Confirm title={`Trigger ${s.name} now?`} confirmLabel="Trigger now" busy={busy} onCancel={() => setAction(null)} onConfirm={() => void act('trigger')}>
          <p>
            One job of task <strong>{s.task}</strong> is submitted to queue <strong>{s.queue}</strong> right away, outside the timing and whatever the overlap policy. The regular fire times do not change.
          </p>
          {actionError ? <ErrorBox error={actionError} /> : null}
        </Confirm>
      ) : null}
      {action === 'delete' ? (
        <Confirm title={`Delete ${s.name}?`} confirmLabel="Delete schedule" danger busy={busy} onCancel={() => setAction(null)} onConfirm={() => void act('delete')}>
          <p>It stops firing and its run history is deleted with it. Jobs it already submitted stay, and keep running.</p>
          {actionError ? <ErrorBox error={actionError} /> : null}
        </Confirm>
      ) : null}
    </>
  );
}
