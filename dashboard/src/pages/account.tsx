/**
 * Your account: who you are, and a new password (the current one is required, wrong guesses are
 * throttled like logins; afterwards every session of yours ends, this one included).
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import { api, fieldError, logout } from '../api';
import { ErrorBox, Field, PageHeader } from '../components/ui';
import { useMe } from '../session';

export function AccountPage(): ReactNode {
  const me = useMe();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);

  if (me.kind !== 'user') return <ErrorBox error={new Error('You are signed in with an API key, which has no password.')} />;

  const tooShort = next.length > 0 && next.length < 12;
  const mismatch = again.length > 0 && again !== next;
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api('POST', '/api/v1/me/password', { body: { currentPassword: current, newPassword: next } });
      setDone(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageHeader title="Your account" />
      <section className="panel" aria-labelledby="account-who">
        <h2 id="account-who">{me.username}</h2>
        <p className="muted">
          Role {me.role}
          {me.superadmin ? ', superadmin' : ''}.
        </p>
      </section>
      {done ? (
        <section className="panel" role="status">
          <h2>Password changed</h2>
          <p>Every session of yours has ended. Log in again with the new password.</p>
          <button type="button" className="btn btn-primary" onClick={() => void logout()}>
            Log in again
          </button>
        </section>
      ) : (
        <form className="panel" aria-labelledby="password-title" onSubmit={(e) => void submit(e)} noValidate>
          <h2 id="password-title">Change password</h2>
          <div className="grid">
            <Field label="Current password" error={fieldError(error, '/currentPassword')}>
              {(id) => <input id={id} type="password" value={current} onChange={(e) => setCurrent(e.target.value)} autoComplete="current-password" required maxLength={1024} />}
            </Field>
            <Field label="New password" hint="At least 12 characters." error={tooShort ? 'At least 12 characters.' : fieldError(error, '/newPassword')}>
              {(id) => <input id={id} type="password" value={next} onChange={(e) => setNext(e.target.value)} autoComplete="new-password" required maxLength={256} />}
            </Field>
            <Field label="New password again" error={mismatch ? 'The two new passwords differ.' : null}>
              {(id) => <input id={id} type="password" value={again} onChange={(e) => setAgain(e.target.value)} autoComplete="new-password" required maxLength={256} />}
            </Field>
          </div>
          {error ? <ErrorBox error={error} /> : null}
          <div className="toolbar">
            <button type="submit" className="btn btn-primary" disabled={busy || current === '' || next.length < 12 || again !== next}>
              {busy ? 'Changing…' : 'Change password'}
            </button>
          </div>
        </form>
      )}
    </>
  );
}
