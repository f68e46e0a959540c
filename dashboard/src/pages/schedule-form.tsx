/**
 * Create or edit a schedule. The cron field explains itself: as you type, the API describes the
 * timing in words and previews the next fire times in the chosen zone (POST /schedules/preview).
 */
import { useEffect, useMemo, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { api, ApiError } from '../api';
import { errorsFor, FormProblem } from '../components/form-problem';
import { ErrorBox, Field, Loading, PageHeader } from '../components/ui';
import { Link, navigate } from '../router';
import { useOfferedTasks } from '../live-tasks';
import { useCan } from '../session';
import { BLANK, fromSchedule, intervalMsOf, scheduleBody, UNITS, type FormState } from '../schedule-form-state';
import { browserZone, MISFIRE_POLICIES, OVERLAP_POLICIES, zonedTime, zoneNames, type Schedule, type SchedulePreview } from './schedule-common';

const PREVIEW_COUNT = 5;

/** /schedules/new and /schedules/:id/edit */
export function ScheduleFormPage({ id }: { id?: string }): ReactNode {
  const can = useCan();
  const [initial, setInitial] = useState<FormState | null>(id ? null : { ...BLANK, timezone: browserZone() });
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    if (!id) return;
    api<Schedule>('GET', `/api/v1/schedules/${encodeURIComponent(id)}`)
      .then((s) => setInitial(fromSchedule(s)))
      .catch((err: unknown) => setError(err));
  }, [id]);

  if (!can('schedules:write')) {
    return (
      <>
        <PageHeader title={id ? 'Edit schedule' : 'New schedule'} />
        <div className="state error" role="alert">
          Your role may read schedules but not change them. <Link to={id ? `/schedules/${id}` : '/schedules'}>Back</Link>
        </div>
      </>
    );
  }
  if (error) return <ErrorBox error={error} onRetry={() => window.location.reload()} />;
  if (!initial) return <Loading label="Loading schedule…" />;
  return <ScheduleForm id={id} initial={initial} />;
}

function ScheduleForm({ id, initial }: { id: string | undefined; initial: FormState }): ReactNode {
  const [f, setF] = useState<FormState>(initial);
  const set = <K extends keyof FormState>(key: K, value: FormState[K]): void => setF((current) => ({ ...current, [key]: value }));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [preview, setPreview] = useState<SchedulePreview | null>(null);
  const [previewError, setPreviewError] = useState<ApiError | null>(null);
  const [previewing, setPreviewing] = useState(false);
  const zones = useMemo(() => zoneNames(), []);
  const offered = useOfferedTasks();
  const sequence = useRef(0);

  const intervalMs = intervalMsOf(f);

  const parsed = useMemo((): { ok: true; value: unknown } | { ok: false; message: string } => {
    if (f.payload.trim() === '') return { ok: true, value: {} };
    try {
      return { ok: true, value: JSON.parse(f.payload) as unknown };
    } catch (err) {
      return { ok: false, message: err instanceof Error ? err.message : 'not JSON' };
    }
  }, [f.payload]);

  // The timing as the API reads it; previewed 300 ms after the last keystroke.
  const timing = useMemo((): Record<string, unknown> | null => {
    const timezone = f.timezone.trim() || 'UTC';
    if (f.kind === 'cron') return f.cron.trim() === '' ? null : { cron: f.cron.trim(), timezone };
    return Number.isNaN(intervalMs) ? null : { intervalMs, timezone };
  }, [f.kind, f.cron, intervalMs, f.timezone]);
  const timingKey = JSON.stringify(timing);

  useEffect(() => {
    const mine = ++sequence.current;
    if (!timing) {
      setPreview(null);
      setPreviewError(null);
      setPreviewing(false);
      return;
    }
    setPreviewing(true);
    const timer = setTimeout(() => {
      api<SchedulePreview>('POST', '/api/v1/schedules/preview', { query: { count: PREVIEW_COUNT }, body: { name: 'preview', task: 'preview', ...timing } })
        .then((answer) => {
          if (mine !== sequence.current) return;
          setPreview(answer);
          setPreviewError(null);
        })
        .catch((err: unknown) => {
          if (mine !== sequence.current) return;
          setPreview(null);
          setPreviewError(err instanceof ApiError ? err : new ApiError(0, { code: 'NETWORK', detail: err instanceof Error ? err.message : String(err) }));
        })
        .finally(() => {
          if (mine === sequence.current) setPreviewing(false);
        });
    }, 300);
    return () => clearTimeout(timer);
  // eslint-disable-next-line react-hooks/exhaustive-deps -- keyed by the timing's JSON: previewing again for an equal timing would flicker
  }, [timingKey]);

  // Each error is shown once, next to its field; the timing fields also show the live preview's.
  const timingFields = [
    ...(f.kind === 'cron' ? [{ pointer: '/cron', codes: ['CRON_INVALID', 'CRON_NEVER_FIRES'] }] : [{ pointer: '/intervalMs', codes: ['SCHEDULE_INVALID'] }]),
    { pointer: '/timezone', codes: ['TIMEZONE_INVALID'] },
  ];
  const submitErrors = errorsFor(error, [
    { pointer: '/name', codes: ['SCHEDULE_NAME_TAKEN'] },
    ...['/description', '/task', '/queue', '/payload', '/misfirePolicy', '/overlapPolicy', '/misfireGraceMs', '/jobOptions/priority', '/jobOptions/maxAttempts', '/jobOptions/timeoutMs'].map((pointer) => ({ pointer })),
    ...(f.misfirePolicy === 'catch-up' ? [{ pointer: '/catchUpMax' }] : []),
    ...timingFields,
  ]);
  const previewErrors = errorsFor(previewError, timingFields);
  const submitError = (pointer: string): string | null => submitErrors.at(pointer);
  const cronError = f.kind === 'cron' ? (previewErrors.at('/cron') ?? submitError('/cron')) : null;
  const intervalError = f.kind === 'interval' ? (Number.isNaN(intervalMs) ? 'Enter a number.' : (previewErrors.at('/intervalMs') ?? submitError('/intervalMs'))) : null;
  const zoneError = previewErrors.at('/timezone') ?? submitError('/timezone');
  // A preview problem that no field shows (e.g. "give exactly one of cron or intervalMs").
  const otherPreviewError = previewError && previewErrors.fieldCount === 0 ? previewError : null;

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if (!parsed.ok) return;
    setBusy(true);
    setError(null);
    try {
      const body = scheduleBody(f, parsed.value);
      const saved = id
        ? await api<Schedule>('PATCH', `/api/v1/schedules/${encodeURIComponent(id)}`, { body })
        : await api<Schedule>('POST', '/api/v1/schedules', { body });
      navigate(`/schedules/${saved.id}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  const misfire = MISFIRE_POLICIES.find((p) => p.value === f.misfirePolicy);
  const overlap = OVERLAP_POLICIES.find((p) => p.value === f.overlapPolicy);
  const zone = preview?.timezone ?? (f.timezone.trim() || 'UTC');
  const title = id ? `Edit ${initial.name}` : 'New schedule';

  return (
    <>
      <nav aria-label="Breadcrumb" className="sched-crumbs">
        <Link to="/schedules">Schedules</Link> <span aria-hidden="true">›</span> {id ? <Link to={`/schedules/${id}`}>{initial.name}</Link> : <span>New</span>}
      </nav>
      <PageHeader title={title} />
      <form className="panel sched-form" onSubmit={(e) => void submit(e)} aria-label={title} noValidate>
        <div className="grid">
          <Field label="Name" hint="Letters, digits and . _ : - ; unique among your schedules." error={submitError('/name')}>
            {(fid) => <input id={fid} value={f.name} onChange={(e) => set('name', e.target.value)} required maxLength={128} autoComplete="off" placeholder="e.g. nightly-report" />}
          </Field>
          <Field label="Description (optional)" error={submitError('/description')}>
            {(fid) => <input id={fid} value={f.description} onChange={(e) => set('description', e.target.value)} maxLength={2000} />}
          </Field>
        </div>

        <fieldset className="sched-timing-set">
          <legend>Timing</legend>
          <div className="sched-radios">
            <label className="check">
              <input type="radio" name="sched-kind" value="cron" checked={f.kind === 'cron'} onChange={() => set('kind', 'cron')} /> Cron
            </label>
            <label className="check">
              <input type="radio" name="sched-kind" value="interval" checked={f.kind === 'interval'} onChange={() => set('kind', 'interval')} /> Interval
            </label>
          </div>
          {f.kind === 'cron' ? (
            <Field
              label="Cron expression"
              hint={<>minute hour day-of-month month day-of-week (a 6th field in front adds seconds). E.g. <code>*/5 * * * *</code> every 5 minutes, <code>30 2 * * 1-5</code> weekdays at 02:30, <code>@daily</code>.</>}
              error={cronError}
            >
              {(fid) => (
                <input id={fid} className="mono sched-cron" value={f.cron} onChange={(e) => set('cron', e.target.value)} required maxLength={256} spellCheck={false} autoComplete="off" placeholder="*/5 * * * *" aria-invalid={cronError ? true : undefined} />
              )}
            </Field>
          ) : (
            <div className="sched-interval">
              <Field label="Repeat every" hint="At least 1 second. Intervals are fixed lengths of real time: they ignore time zones and daylight saving." error={intervalError}>
                {(fid) => <input id={fid} type="number" min={1} step="any" value={f.every} onChange={(e) => set('every', e.target.value)} aria-invalid={intervalError ? true : undefined} />}
              </Field>
              <Field label="Unit">
                {(fid) => (
                  <select id={fid} value={f.unit} onChange={(e) => set('unit', e.target.value)}>
                    {UNITS.map((u) => (
                      <option key={u.value} value={u.value}>
                        {u.label}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
            </div>
          )}
          <Field label="Time zone" hint="An IANA zone such as Europe/Berlin or UTC; the cron expression is read on its wall clock, with daylight saving." error={zoneError}>
            {(fid) => (
              <>
                <input id={fid} list={`${fid}-zones`} value={f.timezone} onChange={(e) => set('timezone', e.target.value)} autoComplete="off" spellCheck={false} placeholder="UTC" aria-invalid={zoneError ? true : undefined} />
                <datalist id={`${fid}-zones`}>
                  {zones.map((z) => (
                    <option key={z} value={z} />
                  ))}
                </datalist>
              </>
            )}
          </Field>
          <section className="sched-preview" aria-label="Timing preview" aria-live="polite" aria-busy={previewing}>
            {!timing ? <p className="muted">{f.kind === 'cron' ? 'Type a cron expression to see when it fires.' : 'Enter an interval to see when it fires.'}</p> : null}
            {timing && !preview && !previewError ? <p className="muted">Working out the fire times…</p> : null}
            {otherPreviewError ? <p className="error-text">{otherPreviewError.message}</p> : null}
            {previewError && !otherPreviewError ? <p className="muted">No fire times until the timing is valid: see the message above.</p> : null}
            {preview && !previewError ? (
              <>
                <p className="sched-words">
                  <strong>{preview.describe}</strong>
                  {previewing ? <span className="muted"> (updating…)</span> : null}
                </p>
                <p className="muted sched-sub">Next {preview.fireTimes.length} fire times, in {zone}{zone !== browserZone() ? ' and your time' : ''}:</p>
                <ol className="sched-fires" aria-label="Next fire times">
                  {preview.fireTimes.map((t) => (
                    <li key={t}>
                      <time dateTime={t}>{zonedTime(t, zone)}</time>
                      {zone !== browserZone() ? <span className="muted sched-sub">your time {zonedTime(t)}</span> : null}
                    </li>
                  ))}
                </ol>
              </>
            ) : null}
          </section>
        </fieldset>

        <div className="grid">
          <Field label="Task" hint="The task each fire submits; workers must know it." error={submitError('/task')}>
            {(fid) => (
              <>
                <input id={fid} list={`${fid}-tasks`} value={f.task} onChange={(e) => set('task', e.target.value)} required maxLength={128} autoComplete="off" />
                <datalist id={`${fid}-tasks`}>
                  {offered.map((t) => (
                    <option key={t} value={t} />
                  ))}
                </datalist>
              </>
            )}
          </Field>
          <Field label="Queue" error={submitError('/queue')}>
            {(fid) => <input id={fid} value={f.queue} onChange={(e) => set('queue', e.target.value)} maxLength={128} autoComplete="off" />}
          </Field>
        </div>
        <Field label="Payload (JSON)" hint="Given to every job this schedule submits." error={parsed.ok ? submitError('/payload') : `Not valid JSON: ${parsed.message}`}>
          {(fid) => <textarea id={fid} value={f.payload} onChange={(e) => set('payload', e.target.value)} spellCheck={false} aria-invalid={!parsed.ok} />}
        </Field>

        <div className="grid">
          <Field label="Misfire policy" hint={misfire?.explain} error={submitError('/misfirePolicy')}>
            {(fid) => (
              <select id={fid} value={f.misfirePolicy} onChange={(e) => set('misfirePolicy', e.target.value)}>
                {MISFIRE_POLICIES.map((p) => (
                  <option key={p.value} value={p.value}>
                    {p.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {f.misfirePolicy === 'catch-up' ? (
            <Field label="Catch up at most" hint="1 to 1000 missed fires." error={submitError('/catchUpMax')}>
              {(fid) => <input id={fid} type="number" min={1} max={1000} step={1} value={f.catchUpMax} onChange={(e) => set('catchUpMax', e.target.value)} />}
            </Field>
          ) : null}
          <Field label="Overlap policy" hint={overlap?.explain} error={submitError('/overlapPolicy')}>
            {(fid) => (
              <select id={fid} value={f.overlapPolicy} onChange={(e) => set('overlapPolicy', e.target.value)}>
                {OVERLAP_POLICIES.map((p) => (
                  <option key={p.value} value={p.value}>
                    {p.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
        <div className="grid">
          <Field label="Misfire grace (seconds)" hint="A fire this late still counts as on time; later ones follow the misfire policy." error={submitError('/misfireGraceMs')}>
            {(fid) => <input id={fid} type="number" min={0} max={86_400} step={1} value={f.graceS} onChange={(e) => set('graceS', e.target.value)} />}
          </Field>
        </div>

        <fieldset className="sched-job-options">
          <legend>Options of each job (empty = the job defaults)</legend>
          <div className="grid">
            <Field label="Priority" hint="-1000 to 1000; higher runs first. Default 0." error={submitError('/jobOptions/priority')}>
              {(fid) => <input id={fid} type="number" min={-1000} max={1000} step={1} value={f.priority} onChange={(e) => set('priority', e.target.value)} />}
            </Field>
            <Field label="Max attempts" hint="1 to 1000. Default 3." error={submitError('/jobOptions/maxAttempts')}>
              {(fid) => <input id={fid} type="number" min={1} max={1000} step={1} value={f.maxAttempts} onChange={(e) => set('maxAttempts', e.target.value)} />}
            </Field>
            <Field label="Timeout (seconds)" hint="Per attempt. Default: none." error={submitError('/jobOptions/timeoutMs')}>
              {(fid) => <input id={fid} type="number" min={0.001} step="any" value={f.timeoutS} onChange={(e) => set('timeoutS', e.target.value)} />}
            </Field>
          </div>
          {Object.keys(f.otherJobOptions).length > 0 ? <p className="muted">Also kept as they are: {Object.keys(f.otherJobOptions).join(', ')} (set through the API).</p> : null}
        </fieldset>

        <label className="check sched-paused">
          <input type="checkbox" checked={f.paused} onChange={(e) => set('paused', e.target.checked)} /> Paused (saved, but does not fire until resumed)
        </label>

        <FormProblem error={error} errors={submitErrors} />
        <div className="sched-buttons">
          <button type="submit" className="btn btn-primary" disabled={busy || !parsed.ok}>
            {busy ? 'Saving…' : id ? 'Save changes' : 'Create schedule'}
          </button>
          <Link to={id ? `/schedules/${id}` : '/schedules'} className="btn">
            Cancel
          </Link>
        </div>
      </form>
    </>
  );
}
