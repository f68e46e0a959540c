/**
 * Tenants (superadmins): every tenant with its user count, and a form that creates a tenant with
 * its first admin in one step (the API does both in one transaction).
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import { useResource } from '../hooks';
import { api, fieldError } from '../api';
import { DataTable } from '../components/data-table';
import { ErrorBox, Field, PageHeader } from '../components/ui';
import { ago } from '../format';
import { useCan } from '../session';
import type { ResponseOf } from '../../../src/client/api-shapes.js';

type Tenant = ResponseOf<'/api/v1/tenants', 'get'>['tenants'][number];

export function TenantsPage(): ReactNode {
  const can = useCan();
  const resource = useResource(async () => (await api<{ tenants: Tenant[] }>('GET', '/api/v1/tenants')).tenants);
  const { data: tenants, reload } = resource;
  const [creating, setCreating] = useState(false);
  const [message, setMessage] = useState<string | null>(null);

  if (!can('tenants')) return <ErrorBox error={new Error('Only superadmins can manage tenants.')} />;
  const list = tenants ?? [];

  return (
    <>
      <PageHeader title="Tenants">
        {!creating ? (
          <button type="button" className="btn btn-primary" onClick={() => { setCreating(true); setMessage(null); }}>
            Create tenant
          </button>
        ) : null}
      </PageHeader>
      {creating ? (
        <CreateTenant
          onCancel={() => setCreating(false)}
          onCreated={(t, admin) => {
            setCreating(false);
            setMessage(`Created ${t.name} (${t.slug}). Its admin logs in as ${admin}.`);
            void reload();
          }}
        />
      ) : null}
      <div className="live-msg" aria-live="polite">
        {message ? <span role="status">{message}</span> : null}
      </div>
      <DataTable
        label="Tenants"
        resource={resource}
        empty="No tenants."
        rows={list}
        rowKey={(t) => t.id}
        rowProps={(t) => ({ 'data-tenant-id': t.id })}
        columns={[
          { header: 'Name', rowHeader: true, cellClassName: 'truncate', title: (t) => t.id, cell: (t) => t.name },
          { header: 'Slug', cell: (t) => <code>{t.slug}</code> },
          { header: 'Users', className: 'num', cell: (t) => t.users },
          { header: 'Created', title: (t) => t.createdAt, cell: (t) => ago(t.createdAt) },
        ]}
      />
    </>
  );
}

function CreateTenant({ onCancel, onCreated }: { onCancel: () => void; onCreated: (t: Tenant, admin: string) => void }): ReactNode {
  const [slug, setSlug] = useState('');
  const [name, setName] = useState('');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const tooShort = password.length > 0 && password.length < 12;

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const created = await api<{ tenant: Tenant; admin: { username: string } }>('POST', '/api/v1/tenants', {
        body: { slug: slug.trim(), name: name.trim(), admin: { username: username.trim(), password } },
      });
      onCreated(created.tenant, created.admin.username);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const slugError = fieldError(error, '/slug', ['TENANT_SLUG_TAKEN']);
  const usernameError = fieldError(error, '/admin/username', ['USERNAME_TAKEN']);
  const shownInFields = slugError !== null || usernameError !== null;

  return (
    <form className="panel" aria-labelledby="create-tenant-title" onSubmit={(e) => void submit(e)} noValidate>
      <h2 id="create-tenant-title">New tenant</h2>
      <div className="grid">
        <Field label="Name" error={fieldError(error, '/name')}>
          {(id) => <input id={id} value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" required maxLength={200} autoFocus />}
        </Field>
        <Field label="Slug" hint="Lower-case letters, digits and dashes; unique." error={slugError}>
          {(id) => <input id={id} value={slug} onChange={(e) => setSlug(e.target.value)} autoComplete="off" required maxLength={63} />}
        </Field>
      </div>
      <h3 className="sched-h3">Its first admin</h3>
      <div className="grid">
        <Field label="Admin username" hint="Usernames are unique across tenants." error={usernameError}>
          {(id) => <input id={id} value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="off" required maxLength={64} />}
        </Field>
        <Field label="Admin password" hint="At least 12 characters." error={tooShort ? 'At least 12 characters.' : fieldError(error, '/admin/password')}>
          {(id) => <input id={id} type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" required maxLength={256} />}
        </Field>
      </div>
      {error && !shownInFields ? <ErrorBox error={error} /> : null}
      <div className="toolbar">
        <button type="submit" className="btn btn-primary" disabled={busy || slug.trim() === '' || name.trim() === '' || username.trim() === '' || password.length < 12}>
          {busy ? 'Creating…' : 'Create tenant'}
        </button>
        <button type="button" className="btn" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}
