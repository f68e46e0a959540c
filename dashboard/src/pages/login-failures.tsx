/**
 * The failed-login trail (admins), shown under the audit log: failed, throttled and disabled logins
 * and wrong current passwords on this tenant's users, one line per minute, address, username and
 * reason. Kept apart from the audit chain (docs/security.md).
 */
import type { ReactNode } from 'react';
import { api } from '../api';
import { ListStates } from '../components/ui';
import { dateTime } from '../format';
import { useResource } from '../hooks';

interface LoginFailure {
  at: string;
  firstAt: string;
  minute: string;
  clientIp: string;
  username: string;
  reason: string;
  userId: string | null;
  attempts: number;
}

const REASON: Record<string, string> = {
  'invalid-credentials': 'wrong password',
  throttled: 'throttled (429)',
  disabled: 'disabled user',
  'wrong-current-password': 'wrong current password',
};

export function LoginFailures(): ReactNode {
  const resource = useResource(async () => (await api<{ failures: LoginFailure[] }>('GET', '/api/v1/security/login-failures', { query: { limit: 50 } })).failures);
  const rows = resource.data ?? [];
  return (
    <section className="panel" aria-labelledby="login-failures-title">
      <div className="toolbar">
        <h2 id="login-failures-title">Failed logins</h2>
        <button type="button" className="btn btn-small" onClick={() => void resource.reload()} disabled={resource.loading}>
          Refresh
        </button>
      </div>
      <p className="muted">The latest 50 lines; each counts the attempts of one minute from one address. Kept 30 days.</p>
      <ListStates list={resource} empty="No failed logins." />
      {rows.length > 0 ? (
        <div className="table-wrap">
          <table aria-label="Failed logins" className="stack">
            <thead>
              <tr>
                <th scope="col">Last attempt</th>
                <th scope="col">Username</th>
                <th scope="col">Address</th>
                <th scope="col">Reason</th>
                <th scope="col">Attempts</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((f) => (
                <tr key={`${f.minute}|${f.clientIp}|${f.username}|${f.reason}`}>
                  <td data-label="Last attempt" title={f.at}>{dateTime(f.at)}</td>
                  <th scope="row" className="row-head">{f.username}{f.userId === null ? <span className="muted"> (no such user)</span> : null}</th>
                  <td data-label="Address" className="mono">{f.clientIp}</td>
                  <td data-label="Reason">{REASON[f.reason] ?? f.reason}</td>
                  <td data-label="Attempts">{f.attempts}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
