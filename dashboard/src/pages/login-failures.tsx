/**
 * The failed-login trail (admins), shown under the audit log: failed, throttled and disabled logins
 * and wrong current passwords on this tenant's users, one line per minute, address, username and
 * reason. Kept apart from the audit chain (docs/security.md).
 */
import type { ReactNode } from 'react';
import { api } from '../api';
import { DataTable } from '../components/data-table';
import { dateTime } from '../format';
import { useResource } from '../hooks';
import type { ResponseOf } from '../../../src/client/api-shapes.js';

type LoginFailure = ResponseOf<'/api/v1/security/login-failures', 'get'>['failures'][number];

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
      <DataTable
        label="Failed logins"
        resource={resource}
        empty="No failed logins."
        rows={rows}
        rowKey={(f) => `${f.minute}|${f.clientIp}|${f.username}|${f.reason}`}
        columns={[
          { header: 'Last attempt', title: (f) => f.at, cell: (f) => dateTime(f.at) },
          { header: 'Username', rowHeader: true, cell: (f) => <>{f.username}{f.userId === null ? <span className="muted"> (no such user)</span> : null}</> },
          { header: 'Address', cellClassName: 'mono', cell: (f) => f.clientIp },
          { header: 'Reason', cell: (f) => REASON[f.reason] ?? f.reason },
          { header: 'Attempts', cell: (f) => f.attempts },
        ]}
      />
    </section>
  );
}
