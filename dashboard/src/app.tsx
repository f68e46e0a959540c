/** Session bootstrap (refresh token → session, else login), then the routed pages. */
import { useEffect, useState, type ReactNode } from 'react';
import { api, hasSession, onSessionChange, refresh, type Me } from './api';
import { Layout } from './components/layout';
import { ErrorBox, Loading } from './components/ui';
import { AuditPage } from './pages/audit';
import { FailuresPage } from './pages/failures';
import { JobPage } from './pages/job';
import { JobsPage } from './pages/jobs';
import { KeysPage } from './pages/keys';
import { LoginPage } from './pages/login';
import { OverviewPage } from './pages/overview';
import { QueuesPage } from './pages/queues';
import { SchedulesPage } from './pages/schedules';
import { SecretsPage } from './pages/secrets';
import { AccountPage } from './pages/account';
import { SubmitPage } from './pages/submit';
import { TenantsPage } from './pages/tenants';
import { UsersPage } from './pages/users';
import { WorkersPage } from './pages/workers';
import { match, useLocation } from './router';
import { SessionProvider } from './session';

type State = { kind: 'starting' } | { kind: 'anonymous' } | { kind: 'in'; me: Me } | { kind: 'error'; error: unknown };

export function App(): ReactNode {
  const [state, setState] = useState<State>({ kind: 'starting' });

  useEffect(() => {
    const enter = async (): Promise<void> => {
      if (!hasSession() && !(await refresh())) {
        setState({ kind: 'anonymous' });
        return;
      }
      try {
        setState({ kind: 'in', me: await api<Me>('GET', '/api/v1/me') });
      } catch (error) {
        setState(hasSession() ? { kind: 'error', error } : { kind: 'anonymous' });
      }
    };
    void enter();
    return onSessionChange(() => {
      if (!hasSession()) setState({ kind: 'anonymous' });
      else void enter();
    });
  }, []);

  switch (state.kind) {
    case 'starting':
      return <Loading label="Starting…" />;
    case 'anonymous':
      return <LoginPage />;
    case 'error':
      return <ErrorBox error={state.error} onRetry={() => window.location.reload()} />;
    case 'in':
      return (
        <SessionProvider me={state.me}>
          <Layout>
            <Routes />
          </Layout>
        </SessionProvider>
      );
  }
}

function Routes(): ReactNode {
  const { path } = useLocation();
  let params: Record<string, string> | null;
  if (path === '/' || path === '') return <OverviewPage />;
  if (path === '/jobs') return <JobsPage />;
  if ((params = match('/jobs/:id', path))) return <JobPage key={params.id} id={params.id!} />;
  if (path === '/failures') return <FailuresPage />;
  if (path === '/schedules' || path.startsWith('/schedules/')) return <SchedulesPage />;
  if (path === '/queues') return <QueuesPage />;
  if (path === '/workers') return <WorkersPage />;
  if (path === '/submit') return <SubmitPage />;
  if (path === '/audit') return <AuditPage />;
  if (path === '/users') return <UsersPage />;
  if (path === '/keys') return <KeysPage />;
  if (path === '/secrets') return <SecretsPage />;
  if (path === '/account') return <AccountPage />;
  if (path === '/tenants') return <TenantsPage />;
  return (
    <div className="state">
      <h1>Not found</h1>
      <p>There is no page at this address.</p>
    </div>
  );
}
