/**
 * Schedules: the list (next fire in the schedule's zone, pause/resume, trigger now), and the
 * routes below it: /schedules/new, /schedules/:id, /schedules/:id/edit.
 */
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { api, ApiError } from '../api';
import { DataTable } from '../components/data-table';
import { Confirm, ErrorBox, PageHeader } from '../components/ui';
import { useResource } from '../hooks';
import { useLiveEvents, type LiveEvent } from '../live-stream';
import { shortId } from '../format';
import { Link, match, navigate, setQuery, useLocation } from '../router';
import { useCan } from '../session';
import { FireTime, PausedBadge, timingWords, useThrottled, type Schedule, type ScheduleList } from './schedule-common';
import { ScheduleDetailPage } from './schedule-detail';
import { ScheduleFormPage } from './schedule-form';

const PAGE = 50;

export function SchedulesPage(): ReactNode {
  const { path } = useLocation();
  let params: Record<string, string> | null;
  if (path === '/schedules' || path === '/schedules/') return <ScheduleListPage />;
  if (match('/schedules/new', path)) return <ScheduleFormPage key="new" />;
  if ((params = match('/schedules/:id/edit', path))) return <ScheduleFormPage key={`edit-${params.id}`} id={params.id!} />;
  if ((params = match('/schedules/:id', path))) return <ScheduleDetailPage key={params.id} id={params.id!} />;
  return (
    <div className="state">
      <h1>Not found</h1>
      <p>
        There is no page at this address. <Link to="/schedules">All schedules</Link>
      </p>
    </div>
  );
}

type Pending = { kind: 'trigger'; schedule: Schedule } | null;

function ScheduleListPage(): ReactNode {
  const { query } = useLocation();
  const can = useCan();
  const canWrite = can('schedules:write');
  const after = query.get('after') ?? '';
  const resource = useResource(() => api<ScheduleList>('GET', '/api/v1/schedules', { query: { after, limit: PAGE } }), after);
  const { data, reload: load, setData } = resource;
  const [pending, setPending] = useState<Pending>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [message, setMessage] = useState<ReactNode>(null);
  const [, setTick] = useState(0);

  // "in 3m" stays true while the page is open.
  useEffect(() => {
    const timer = setInterval(() => setTick((n) => n + 1), 30_000);
    return () => clearInterval(timer);
  }, []);

  const reload = useThrottled(() => void load(), 1000);
  const onEvent = useCallback((event: LiveEvent) => {
    if (event.type === 'schedule' || event.type === 'reset') reload();
  }, [reload]);
  useLiveEvents({ query: { types: 'schedule' } }, onEvent);

  const setPaused = async (schedule: Schedule, paused: boolean): Promise<void> => {
    setBusy(schedule.id);
    setActionError(null);
    setMessage(null);
    try {
      const updated = await api<Schedule>('POST', `/api/v1/schedules/${encodeURIComponent(schedule.id)}/${paused ? 'pause' : 'resume'}`);
      setData((current) => current && { ...current, schedules: current.schedules.map((s) => (s.id === updated.id ? updated : s)) });
      setMessage(`${updated.name} ${paused ? 'paused' : 'resumed'}.`);
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy(null);
    }
  };

  const trigger = async (schedule: Schedule): Promise<void> => {
    setBusy(schedule.id);
    setActionError(null);
    setMessage(null);
    try {
      const { jobId } = await api<{ jobId: string }>('POST', `/api/v1/schedules/${encodeURIComponent(schedule.id)}/trigger`);
      setPending(null);
      setMessage(
        <>
          {schedule.name} triggered: <Link to={`/jobs/${jobId}`}>job {shortId(jobId)}</Link>
        </>,
      );
      void load();
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy(null);
    }
  };

  const schedules = data?.schedules ?? [];
  return (
    <>
      <PageHeader title="Schedules">
        {canWrite ? (
          <Link to="/schedules/new" className="btn btn-primary">
            New schedule
          </Link>
        ) : null}
      </PageHeader>
      <div className="toolbar" aria-live="polite">
        {message ? <span role="status">{message}</span> : null}
      </div>
      {actionError && !pending ? <ErrorBox error={actionError} /> : null}
      <DataTable
        label="Schedules"
        className="sched-table"
        resource={resource}
        empty={
          <>
            <p>
              <strong>No schedules{after ? ' on this page' : ' yet'}.</strong>
            </p>
            <p>
              A schedule submits a job for you again and again: on a cron expression read in a time zone you choose (say, every weekday at 02:30 in Europe/Berlin) or at a fixed interval (every 5 minutes). Each fire is
              recorded as a run, with the job it started or why it was skipped.
            </p>
            {canWrite && !after ? (
              <Link to="/schedules/new" className="btn btn-primary">
                Create the first schedule
              </Link>
            ) : null}
          </>
        }
        rows={schedules}
        rowKey={(s) => s.id}
        rowProps={(s) => ({ 'data-schedule-id': s.id })}
        columns={[
          {
            header: 'Name',
            cellClassName: 'truncate',
            cell: (s) => (
              <div>
                <Link to={`/schedules/${s.id}`} title={s.description ?? s.name}>
                  {s.name}
                </Link>
                <span className="muted sched-sub">
                  {s.task} on {s.queue}
                </span>
              </div>
            ),
          },
          {
            header: 'Timing',
            cellClassName: 'wrap sched-timing',
            cell: (s) => (
              <div>
                {timingWords(s)}
                {s.cron ? <span className="muted sched-sub mono">{s.cron}</span> : null}
              </div>
            ),
          },
          { header: 'Time zone', cell: (s) => s.timezone },
          { header: 'Next fire', cellClassName: 'sched-when', cell: (s) => (s.paused ? <span className="muted">— (paused)</span> : <FireTime iso={s.nextFireAt} timeZone={s.timezone} compact />) },
          { header: 'Last fire', cellClassName: 'sched-when', cell: (s) => <FireTime iso={s.lastFireAt} timeZone={s.timezone} compact /> },
          { header: 'State', cell: (s) => <PausedBadge paused={s.paused} /> },
          ...(canWrite
            ? [
                {
                  header: 'Actions',
                  cell: (s: Schedule) => (
                    <div className="sched-actions">
                      <button type="button" className="btn btn-small" disabled={busy === s.id} aria-label={`${s.paused ? 'Resume' : 'Pause'} ${s.name}`} onClick={() => void setPaused(s, !s.paused)}>
                        {s.paused ? 'Resume' : 'Pause'}
                      </button>
                      <button type="button" className="btn btn-small" disabled={busy === s.id} aria-label={`Trigger ${s.name} now`} onClick={() => { setActionError(null); setPending({ kind: 'trigger', schedule: s }); }}>
                        Trigger now
                      </button>
                      <Link to={`/schedules/${s.id}/edit`} className="btn btn-small" aria-label={`Edit ${s.name}`}>
                        Edit
                      </Link>
                    </div>
                  ),
                },
              ]
            : []),
        ]}
      />
      <div className="pager">
        {after ? (
          <button type="button" className="btn" onClick={() => setQuery({ after: null })}>
            First page
          </button>
        ) : null}
        {data?.nextCursor ? (
          <button type="button" className="btn" onClick={() => navigate(`/schedules?after=${encodeURIComponent(data.nextCursor!)}`)}>
            Next page
          </button>
        ) : null}
      </div>

      {pending?.kind === 'trigger' ? (
        <Confirm title={`Trigger ${pending.schedule.name} now?`} confirmLabel="Trigger now" busy={busy === pending.schedule.id} onCancel={() => setPending(null)} onConfirm={() => void trigger(pending.schedule)}>
          <p>
            One job of task <strong>{pending.schedule.task}</strong> is submitted to queue <strong>{pending.schedule.queue}</strong> right away, outside the timing and whatever the overlap policy. The regular fire times do not change.
          </p>
          {actionError instanceof ApiError || actionError instanceof Error ? <ErrorBox error={actionError} /> : null}
        </Confirm>
      ) : null}
    </>
  );
}
