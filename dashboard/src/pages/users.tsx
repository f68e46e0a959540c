/**
 * Users (admins): list, create (username, password, role), change role, disable/enable, delete;
 * superadmins also grant and remove superadmin. Accounts that outrank you, and your own disable and
 * delete, have their controls off with the reason (the API refuses them anyway: src/core/account-rules.ts);
 * other refusals (the last admin, the last superadmin) are shown as the API words them.
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import { useResource } from '../hooks';
import { api, fieldError, type Role } from '../api';
import { DataTable, type Column } from '../components/data-table';
import { Confirm, ErrorBox, Field, PageHeader } from '../components/ui';
import { ago } from '../format';
import { useCan, useMe } from '../session';
import { accountRank, principalRank } from '../../../src/core/account-rules.js';
import type { Principal } from '../../../src/core/access.js';
import type { ResponseOf } from '../../../src/client/api-shapes.js';

/** A user as the API lists them; their role is always one of the three. */
type User = Omit<ResponseOf<'/api/v1/users', 'get'>['users'][number], 'role'> & { role: Role };

const ROLES: readonly Role[] = ['viewer', 'manager', 'admin'];
const ROLE_HINT: Record<Role, string> = {
  viewer: 'reads jobs, schedules, queues, workers',
  manager: 'also submits, cancels and retries jobs, edits schedules',
  admin: 'everything, including queues, users, keys and the audit log',
};

type Pending = { kind: 'delete' | 'disable' | 'enable' | 'grant-super' | 'remove-super'; user: User } | { kind: 'role'; user: User; role: Role } | null;

export function UsersPage(): ReactNode {
  const can = useCan();
  const me = useMe();
  const resource = useResource(async () => (await api<{ users: User[] }>('GET', '/api/v1/users')).users);
  const { data: users, reload: load } = resource;
  const [creating, setCreating] = useState(false);
  const [pending, setPending] = useState<Pending>(null);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);
  const [message, setMessage] = useState<string | null>(null);


  if (!can('admin')) return <ErrorBox error={new Error('Only administrators can manage users.')} />;

  const act = async (p: Exclude<Pending, null>): Promise<void> => {
    setBusy(true);
    setActionError(null);
    try {
      const path = `/api/v1/users/${encodeURIComponent(p.user.id)}`;
      if (p.kind === 'delete') await api('DELETE', path);
      else await api<User>('PATCH', path, { body: patchOf(p) });
      setMessage(done(p));
      setPending(null);
      void load();
    } catch (err) {
      setMessage(null);
      setActionError(err);
    } finally {
      setBusy(false);
    }
  };

  const list = users ?? [];
  const myRank = principalRank(me as unknown as Principal);
  const superadmin = me.kind === 'user' && me.superadmin === true;
  /** Why the controls of `u` are off, or null. */
  const lockedReason = (u: User): string | null => (accountRank(u) > myRank ? `${u.username} holds more power than you: only a superadmin may change this account` : null);
  const isSelf = (u: User): boolean => me.kind === 'user' && me.id === u.id;

  const columns: Array<Column<User>> = [
    {
      header: 'Username',
      rowHeader: true,
      cellClassName: 'truncate',
      title: (u) => u.id,
      cell: (u) => (
        <>
          {u.username}
          {isSelf(u) ? <span className="muted"> (you)</span> : null}
          {u.superadmin ? <span className="badge badge-super">superadmin</span> : null}
        </>
      ),
    },
    {
      header: 'Role',
      cell: (u) => {
        const locked = lockedReason(u);
        return (
          <label>
            <span className="sr-only">Role of {u.username}</span>
            <select value={u.role} disabled={locked !== null} title={locked ?? undefined} onChange={(e) => { setActionError(null); setPending({ kind: 'role', user: u, role: e.target.value as Role }); }}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </label>
        );
      },
    },
    { header: 'Status', cell: (u) => (u.disabled ? <span className="badge badge-disabled">disabled</span> : <span className="badge badge-active">active</span>) },
    { header: 'Last login', title: (u) => u.lastLoginAt, cell: (u) => (u.lastLoginAt ? ago(u.lastLoginAt) : <span className="muted">never</span>) },
    { header: 'Created', title: (u) => u.createdAt, cell: (u) => ago(u.createdAt) },
    {
      header: 'Actions',
      cell: (u) => {
        const locked = lockedReason(u);
        const selfReason = isSelf(u) ? 'You cannot disable or delete yourself' : null;
        return (
          <div className="row-actions">
            <button type="button" className="btn btn-small" disabled={(locked ?? selfReason) !== null} title={locked ?? selfReason ?? undefined} aria-label={`${u.disabled ? 'Enable' : 'Disable'} user ${u.username}`} onClick={() => { setActionError(null); setPending({ kind: u.disabled ? 'enable' : 'disable', user: u }); }}>
              {u.disabled ? 'Enable' : 'Disable'}
            </button>
            <button type="button" className="btn btn-small btn-danger-outline" disabled={(locked ?? selfReason) !== null} title={locked ?? selfReason ?? undefined} aria-label={`Delete user ${u.username}`} onClick={() => { setActionError(null); setPending({ kind: 'delete', user: u }); }}>
              Delete
            </button>
            {superadmin && u.tenantId === me.tenantId ? (
              <button type="button" className="btn btn-small" aria-label={`${u.superadmin ? 'Remove superadmin from' : 'Make superadmin'} ${u.username}`} onClick={() => { setActionError(null); setPending({ kind: u.superadmin ? 'remove-super' : 'grant-super', user: u }); }}>
                {u.superadmin ? 'Remove superadmin' : 'Make superadmin'}
              </button>
            ) : null}
          </div>
        );
      },
    },
  ];

  return (
    <>
      <PageHeader title="Users">
        {!creating ? (
          <button type="button" className="btn btn-primary" onClick={() => { setCreating(true); setMessage(null); }}>
            Create user
          </button>
        ) : null}
      </PageHeader>
      {creating ? (
        <CreateUser
          onCancel={() => setCreating(false)}
          onCreated={(u) => {
            setCreating(false);
            setMessage(`Created ${u.username} (${u.role}).`);
            void load();
          }}
        />
      ) : null}
      <div className="live-msg" aria-live="polite">
        {message ? <span role="status">{message}</span> : null}
      </div>
      {actionError && !pending ? <ErrorBox error={actionError} /> : null}
      <DataTable label="Users" resource={resource} empty="No users." rows={list} rowKey={(u) => u.id} rowProps={(u) => ({ 'data-user-id': u.id })} columns={columns} />

      {pending ? (
        <Confirm
          title={titleOf(pending)}
          confirmLabel={CONFIRM_LABEL[pending.kind]}
          danger={pending.kind === 'delete' || pending.kind === 'disable' || pending.kind === 'grant-super'}
          busy={busy}
          onCancel={() => { setPending(null); setActionError(null); }}
          onConfirm={() => void act(pending)}
        >
          <p>{describe(pending)}</p>
          {actionError ? <ErrorBox error={actionError} /> : null}
        </Confirm>
      ) : null}
    </>
  );
}

const CONFIRM_LABEL: Record<Exclude<Pending, null>['kind'], string> = {
  delete: 'Delete user',
  role: 'Change role',
  disable: 'Disable user',
  enable: 'Enable user',
  'grant-super': 'Make superadmin',
  'remove-super': 'Remove superadmin',
};

function patchOf(p: Exclude<Pending, null>): Record<string, unknown> {
  switch (p.kind) {
    case 'role':
      return { role: p.role };
    case 'grant-super':
    case 'remove-super':
      return { superadmin: p.kind === 'grant-super' };
    default:
      return { disabled: p.kind === 'disable' };
  }
}

function titleOf(p: Exclude<Pending, null>): string {
  switch (p.kind) {
    case 'delete':
      return `Delete user ${p.user.username}?`;
    case 'role':
      return `Make ${p.user.username} ${p.role}?`;
    case 'grant-super':
      return `Make ${p.user.username} a superadmin?`;
    case 'remove-super':
      return `Remove superadmin from ${p.user.username}?`;
    default:
      return `${p.kind === 'disable' ? 'Disable' : 'Enable'} user ${p.user.username}?`;
  }
}

function done(p: Exclude<Pending, null>): string {
  switch (p.kind) {
    case 'delete':
      return `Deleted ${p.user.username}.`;
    case 'role':
      return `${p.user.username} is now ${p.role}.`;
    case 'grant-super':
      return `${p.user.username} is now a superadmin.`;
    case 'remove-super':
      return `${p.user.username} is no longer a superadmin.`;
    default:
      return `${p.user.username} is ${p.kind === 'disable' ? 'disabled' : 'enabled'}.`;
  }
}

function describe(p: Exclude<Pending, null>): string {
  switch (p.kind) {
    case 'grant-super':
      return `${p.user.username} will operate the whole installation: every tenant, every user of this tenant, every setting.`;
    case 'remove-super':
      return `${p.user.username} keeps the ${p.user.role} role of this tenant. The last superadmin cannot give the flag away.`;
    case 'delete':
      return `${p.user.username} will no longer be able to log in, and the account is removed. This cannot be undone.`;
    case 'disable':
      return `${p.user.username} is logged out everywhere and cannot log in until enabled again.`;
    case 'enable':
      return `${p.user.username} can log in again.`;
    case 'role':
      return `${p.user.username} changes from ${p.user.role} to ${p.role}: ${ROLE_HINT[p.role]}.`;
  }
}

function CreateUser({ onCancel, onCreated }: { onCancel: () => void; onCreated: (u: User) => void }): ReactNode {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const tooShort = password.length > 0 && password.length < 12;

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onCreated(await api<User>('POST', '/api/v1/users', { body: { username: username.trim(), password, role } }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="panel" aria-labelledby="create-user-title" onSubmit={(e) => void submit(e)} noValidate>
      <h2 id="create-user-title">New user</h2>
      <div className="grid">
        <Field label="Username" error={fieldError(error, '/username')}>
          {(id) => <input id={id} value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="off" required maxLength={64} autoFocus />}
        </Field>
        <Field label="Password" hint="At least 12 characters." error={tooShort ? 'At least 12 characters.' : fieldError(error, '/password')}>
          {(id) => <input id={id} type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" required maxLength={256} />}
        </Field>
        <Field label="Role" hint={ROLE_HINT[role]} error={fieldError(error, '/role')}>
          {(id) => (
            <select id={id} value={role} onChange={(e) => setRole(e.target.value as Role)}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      {error ? <ErrorBox error={error} /> : null}
      <div className="toolbar">
        <button type="submit" className="btn btn-primary" disabled={busy || username.trim() === '' || password.length < 12}>
          {busy ? 'Creating…' : 'Create'}
        </button>
        <button type="button" className="btn" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}
