/**
 * Users (admins): list, create (username, password, role), change role, disable/enable, delete.
 * The API refuses deleting yourself (403); its answer is shown as is.
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import { useResource } from '../hooks';
import { api, fieldError, type Role } from '../api';
import { Confirm, ErrorBox, Field, ListStates, PageHeader } from '../components/ui';
import { ago } from '../format';
import { useCan, useMe } from '../session';

interface User {
  id: string;
  tenantId: string;
  username: string;
  role: Role;
  superadmin: boolean;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
  lastLoginAt: string | null;
}

const ROLES: readonly Role[] = ['viewer', 'manager', 'admin'];
const ROLE_HINT: Record<Role, string> = {
  viewer: 'reads jobs, schedules, queues, workers',
  manager: 'also submits, cancels and retries jobs, edits schedules',
  admin: 'everything, including queues, users, keys and the audit log',
};

type Pending = { kind: 'delete' | 'disable' | 'enable'; user: User } | { kind: 'role'; user: User; role: Role } | null;

export function UsersPage(): ReactNode {
  const can = useCan();
  const me = useMe();
  const resource = useResource(async () => (await api<{ users: User[] }>('GET', '/api/v1/users')).users);
  const { data: users, loading, reload: load } = resource;
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
      else await api<User>('PATCH', path, { body: p.kind === 'role' ? { role: p.role } : { disabled: p.kind === 'disable' } });
      setMessage(
        p.kind === 'delete' ? `Deleted ${p.user.username}.` : p.kind === 'role' ? `${p.user.username} is now ${p.role}.` : `${p.user.username} is ${p.kind === 'disable' ? 'disabled' : 'enabled'}.`,
      );
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
      <ListStates list={resource} empty="No users." />
      {list.length > 0 ? (
        <div className="table-wrap">
          <table aria-label="Users" aria-busy={loading} className="stack">
            <thead>
              <tr>
                <th scope="col">Username</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Last login</th>
                <th scope="col">Created</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.map((u) => {
                const self = me.kind === 'user' && me.id === u.id;
                return (
                  <tr key={u.id} data-user-id={u.id}>
                    <th scope="row" className="truncate row-head" title={u.id}>
                      {u.username}
                      {self ? <span className="muted"> (you)</span> : null}
                      {u.superadmin ? <span className="badge badge-super">superadmin</span> : null}
                    </th>
                    <td data-label="Role">
                      <label>
                        <span className="sr-only">Role of {u.username}</span>
                        <select value={u.role} onChange={(e) => { setActionError(null); setPending({ kind: 'role', user: u, role: e.target.value as Role }); }}>
                          {ROLES.map((r) => (
                            <option key={r} value={r}>
                              {r}
                            </option>
                          ))}
                        </select>
                      </label>
                    </td>
                    <td data-label="Status">{u.disabled ? <span className="badge badge-disabled">disabled</span> : <span className="badge badge-active">active</span>}</td>
                    <td data-label="Last login" title={u.lastLoginAt ?? undefined}>{u.lastLoginAt ? ago(u.lastLoginAt) : <span className="muted">never</span>}</td>
                    <td data-label="Created" title={u.createdAt}>{ago(u.createdAt)}</td>
                    <td data-label="Actions">
                      <div className="row-actions">
                        <button type="button" className="btn btn-small" aria-label={`${u.disabled ? 'Enable' : 'Disable'} user ${u.username}`} onClick={() => { setActionError(null); setPending({ kind: u.disabled ? 'enable' : 'disable', user: u }); }}>
                          {u.disabled ? 'Enable' : 'Disable'}
                        </button>
                        <button type="button" className="btn btn-small btn-danger-outline" aria-label={`Delete user ${u.username}`} onClick={() => { setActionError(null); setPending({ kind: 'delete', user: u }); }}>
                          Delete
                        </button>
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}

      {pending ? (
        <Confirm
          title={
            pending.kind === 'delete'
              ? `Delete user ${pending.user.username}?`
              : pending.kind === 'role'
                ? `Make ${pending.user.username} ${pending.role}?`
                : `${pending.kind === 'disable' ? 'Disable' : 'Enable'} user ${pending.user.username}?`
          }
          confirmLabel={pending.kind === 'delete' ? 'Delete user' : pending.kind === 'role' ? 'Change role' : pending.kind === 'disable' ? 'Disable user' : 'Enable user'}
          danger={pending.kind === 'delete' || pending.kind === 'disable'}
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

function describe(p: Exclude<Pending, null>): string {
  switch (p.kind) {
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
