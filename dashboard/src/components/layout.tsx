/** The frame around every page: navigation (by role), who is logged in, theme, logout. */
import { useEffect, useState, type ReactNode } from 'react';
import { logout } from '../api';
import { Link, useLocation } from '../router';
import { useCan, useMe, type Permission } from '../session';
import { StreamStatus } from './stream-status';

const NAV: Array<{ to: string; label: string; permission: Permission }> = [
  { to: '/', label: 'Overview', permission: 'jobs:read' },
  { to: '/jobs', label: 'Jobs', permission: 'jobs:read' },
  { to: '/failures', label: 'Failures', permission: 'jobs:read' },
  { to: '/schedules', label: 'Schedules', permission: 'schedules:read' },
  { to: '/queues', label: 'Queues', permission: 'queues:read' },
  { to: '/workers', label: 'Workers', permission: 'workers:read' },
  { to: '/submit', label: 'Submit a job', permission: 'jobs:write' },
  { to: '/audit', label: 'Audit log', permission: 'audit:read' },
  { to: '/users', label: 'Users', permission: 'admin' },
  { to: '/keys', label: 'API keys', permission: 'admin' },
  { to: '/secrets', label: 'Secrets', permission: 'secrets:read' },
  { to: '/tenants', label: 'Tenants', permission: 'tenants' },
];

type Theme = 'light' | 'dark' | 'system';

function useTheme(): [Theme, (t: Theme) => void] {
  const [theme, setTheme] = useState<Theme>(() => (localStorage.getItem('jobplane.theme') as Theme | null) ?? 'system');
  useEffect(() => {
    localStorage.setItem('jobplane.theme', theme);
    if (theme === 'system') document.documentElement.removeAttribute('data-theme');
    else document.documentElement.setAttribute('data-theme', theme);
  }, [theme]);
  return [theme, setTheme];
}

export function Layout({ children }: { children: ReactNode }): ReactNode {
  const me = useMe();
  const can = useCan();
  const { path } = useLocation();
  const [open, setOpen] = useState(false);
  const [theme, setTheme] = useTheme();
  useEffect(() => setOpen(false), [path]);
  const active = (to: string): boolean => (to === '/' ? path === '/' : path === to || path.startsWith(`${to}/`));
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <button type="button" className="btn menu-button" aria-expanded={open} aria-controls="nav" onClick={() => setOpen(!open)}>
          Menu
        </button>
        <Link to="/" className="brand">
          Jobplane
        </Link>
        <div className="topbar-right">
          <StreamStatus />
          <label className="theme">
            <span className="sr-only">Theme</span>
            <select value={theme} onChange={(e) => setTheme(e.target.value as Theme)}>
              <option value="system">System theme</option>
              <option value="light">Light</option>
              <option value="dark">Dark</option>
            </select>
          </label>
          <span className="who" data-testid="who">
            {me.kind === 'user' ? (
              <Link to="/account" title="Your account and password">
                {me.username ?? me.id}
              </Link>
            ) : (
              me.id
            )}{' '}
            <span className="muted">({me.superadmin ? 'superadmin' : (me.role ?? 'key')})</span>
          </span>
          <button type="button" className="btn" onClick={() => void logout()}>
            Log out
          </button>
        </div>
      </header>
      <nav id="nav" className={`nav${open ? ' open' : ''}`} aria-label="Main">
        <ul>
          {NAV.filter((item) => can(item.permission)).map((item) => (
            <li key={item.to}>
              <Link to={item.to} aria-current={active(item.to) ? 'page' : undefined}>
                {item.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
