/** Submit a job: task, queue, JSON payload (checked as you type), run at, priority, attempts. */
import { useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { api, type Job } from '../api';
import { errorsFor, FormProblem } from '../components/form-problem';
import { Field, PageHeader } from '../components/ui';
import { navigate } from '../router';
import { useOfferedTasks } from '../live-tasks';

const FIELDS = ['/task', '/queue', '/payload', '/runAt', '/priority', '/maxAttempts'].map((pointer) => ({ pointer }));

export function SubmitPage(): ReactNode {
  const [task, setTask] = useState('fibonacci');
  const [queue, setQueue] = useState('default');
  const [payload, setPayload] = useState('{\n  "n": 30\n}');
  const [runAt, setRunAt] = useState('');
  const [priority, setPriority] = useState('0');
  const [maxAttempts, setMaxAttempts] = useState('3');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const offered = useOfferedTasks();

  const parsed = useMemo((): { ok: true; value: unknown } | { ok: false; message: string } => {
    if (payload.trim() === '') return { ok: true, value: {} };
    try {
      return { ok: true, value: JSON.parse(payload) as unknown };
    } catch (err) {
      return { ok: false, message: err instanceof Error ? err.message : 'not JSON' };
    }
  }, [payload]);

  const errors = errorsFor(error, FIELDS);
  const fieldError = (pointer: string): string | null => errors.at(pointer);

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if (!parsed.ok) return;
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, unknown> = { task: task.trim(), queue: queue.trim() || 'default', payload: parsed.value, priority: Number(priority), maxAttempts: Number(maxAttempts) };
      if (runAt) body.runAt = new Date(runAt).toISOString();
      const job = await api<Job>('POST', '/api/v1/jobs', { body });
      navigate(`/jobs/${job.id}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageHeader title="Submit a job" />
      <form className="panel" onSubmit={(e) => void submit(e)} aria-label="Submit a job" noValidate>
        <Field label="Task" hint="A task a worker runs: built-in ones and those live workers announce are listed; other names work too." error={fieldError('/task')}>
          {(id) => (
            <>
              <input id={id} list={`${id}-tasks`} value={task} onChange={(e) => setTask(e.target.value)} required maxLength={128} />
              <datalist id={`${id}-tasks`}>
                {offered.map((t) => (
                  <option key={t} value={t} />
                ))}
              </datalist>
            </>
          )}
        </Field>
        <Field label="Queue" error={fieldError('/queue')}>{(id) => <input id={id} value={queue} onChange={(e) => setQueue(e.target.value)} maxLength={128} />}</Field>
        <Field label="Payload (JSON)" error={parsed.ok ? fieldError('/payload') : `Not valid JSON: ${parsed.message}`}>
          {(id) => <textarea id={id} value={payload} onChange={(e) => setPayload(e.target.value)} spellCheck={false} aria-invalid={!parsed.ok} />}
        </Field>
        <div className="grid">
          <Field label="Run at (empty: now)" error={fieldError('/runAt')}>{(id) => <input id={id} type="datetime-local" value={runAt} onChange={(e) => setRunAt(e.target.value)} />}</Field>
          <Field label="Priority" hint="-1000 to 1000; higher runs first" error={fieldError('/priority')}>
            {(id) => <input id={id} type="number" min={-1000} max={1000} step={1} value={priority} onChange={(e) => setPriority(e.target.value)} />}
          </Field>
          <Field label="Attempts" error={fieldError('/maxAttempts')}>{(id) => <input id={id} type="number" min={1} max={1000} step={1} value={maxAttempts} onChange={(e) => setMaxAttempts(e.target.value)} />}</Field>
        </div>
        <FormProblem error={error} errors={errors} />
        <button type="submit" className="btn btn-primary" disabled={busy || !parsed.ok || task.trim() === ''}>
          {busy ? 'Submitting…' : 'Submit'}
        </button>
      </form>
    </>
  );
}
