/**
 * Secrets (admins set and delete; managers see the list read-only): names, descriptions, who set
 * them when. A value can be typed into a password field to create or replace a secret, and is
 * never shown back: the API has no way to return it. The field is uncontrolled, so the value never
 * sits in React state or in a DOM attribute, and it is cleared as soon as the request is sent.
 */
import { useRef, useState, type FormEvent, type ReactNode } from 'react';
import { useResource } from '../hooks';
import { api, fieldError } from '../api';
import { DataTable } from '../components/data-table';
import { Confirm, ErrorBox, Field, PageHeader } from '../components/ui';
import { ago } from '../format';
import { useCan, useMe } from '../session';
import type { ApiSecret } from '../../../src/client/client.js';
import { SECRET_NAME_PATTERN } from '../../../src/core/secret-refs.js';

type Secret = ApiSecret;

const NAME_PATTERN = SECRET_NAME_PATTERN;
const MAX_VALUE_BYTES = 65_536;

/** The form's subject: a new secret, or an existing one whose value is replaced. */
type Editing = { kind: 'new' } | { kind: 'replace'; secret: Secret } | null;

export function SecretsPage(): ReactNode {
  const can = useCan();
  const me = useMe();
  const resource = useResource(async () => (await api<{ secrets: Secret[] }>('GET', '/api/v1/secrets')).secrets);
  const { data: secrets, reload: load } = resource;
  const [editing, setEditing] = useState<Editing>(null);
  const [deleting, setDeleting] = useState<Secret | null>(null);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);
  const [message, setMessage] = useState<string | null>(null);

  if (!can('secrets:read')) return <ErrorBox error={new Error('Only managers and administrators can see secrets.')} />;
  const writable = can('secrets:write');
  const actor = (who: string | null): string => (who === null ? '—' : me.kind === 'user' && who === `user:${me.id}` ? 'you' : who);

  const remove = async (s: Secret): Promise<void> => {
    setBusy(true);
    setActionError(null);
    try {
      await api('DELETE', `/api/v1/secrets/${encodeURIComponent(s.name)}`);
      setDeleting(null);
      setMessage(`Deleted secret ${s.name}.`);
      void load();
    } catch (err) {
      setMessage(null);
      setActionError(err);
    } finally {
      setBusy(false);
    }
  };

  const list = secrets ?? [];

  return (
    <>
      <PageHeader title="Secrets">
        {writable && editing === null ? (
          <button type="button" className="btn btn-primary" onClick={() => { setEditing({ kind: 'new' }); setMessage(null); }}>
            Add secret
          </button>
        ) : null}
      </PageHeader>
      <p className="muted">
        Reference a secret in a job payload as <code>{'{"$secret": "NAME"}'}</code>; workers resolve it right before the task runs. Values are stored encrypted and are never shown again
        {writable ? '' : ' (only administrators can set or delete them)'}.
      </p>
      {editing ? (
        <SecretForm
          key={editing.kind === 'new' ? 'new' : editing.secret.name}
          editing={editing}
          onCancel={() => setEditing(null)}
          onSaved={(s, created) => {
            setEditing(null);
            setMessage(`${created ? 'Created' : 'Replaced the value of'} secret ${s.name}.`);
            void load();
          }}
        />
      ) : null}
      <div className="live-msg" aria-live="polite">
        {message ? <span role="status">{message}</span> : null}
      </div>
      {actionError && !deleting ? <ErrorBox error={actionError} /> : null}
      <DataTable
        label="Secrets"
        resource={resource}
        empty="No secrets yet."
        rows={list}
        rowKey={(s) => s.name}
        rowProps={(s) => ({ 'data-secret-name': s.name })}
        columns={[
          { header: 'Name', rowHeader: true, cellClassName: 'truncate mono', title: (s) => s.name, cell: (s) => s.name },
          { header: 'Description', cellClassName: 'wrap', cell: (s) => s.description ?? <span className="muted">—</span> },
          { header: 'Value', title: (s) => `Encrypted under key ${s.keyId}`, cell: () => <span className="badge badge-active">set</span> },
          { header: 'Updated', title: (s) => s.updatedAt, cell: (s) => ago(s.updatedAt) },
          { header: 'Updated by', cellClassName: 'truncate', title: (s) => s.updatedBy, cell: (s) => actor(s.updatedBy) },
          ...(writable
            ? [
                {
                  header: 'Actions',
                  cell: (s: Secret) => (
                    <div className="row-actions">
                      <button type="button" className="btn btn-small" aria-label={`Replace the value of ${s.name}`} onClick={() => { setMessage(null); setEditing({ kind: 'replace', secret: s }); }}>
                        Replace value
                      </button>
                      <button type="button" className="btn btn-small btn-danger-outline" aria-label={`Delete secret ${s.name}`} onClick={() => { setActionError(null); setDeleting(s); }}>
                        Delete
                      </button>
                    </div>
                  ),
                },
              ]
            : []),
        ]}
      />

      {deleting ? (
        <Confirm title={`Delete secret ${deleting.name}?`} confirmLabel="Delete secret" danger busy={busy} onCancel={() => { setDeleting(null); setActionError(null); }} onConfirm={() => void remove(deleting)}>
          <p>
            The value is gone for good. Jobs and schedules that still reference <code>{deleting.name}</code> fail when they run, until a secret of that name is set again.
          </p>
          {actionError ? <ErrorBox error={actionError} /> : null}
        </Confirm>
      ) : null}
    </>
  );
}

function SecretForm({ editing, onCancel, onSaved }: { editing: Exclude<Editing, null>; onCancel: () => void; onSaved: (s: Secret, created: boolean) => void }): ReactNode {
  const existing = editing.kind === 'replace' ? editing.secret : null;
  const [name, setName] = useState(existing?.name ?? '');
  const [description, setDescription] = useState(existing?.description ?? '');
  const [hasValue, setHasValue] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const valueRef = useRef<HTMLInputElement>(null);

  const trimmed = name.trim();
  const badName = trimmed !== '' && !NAME_PATTERN.test(trimmed);

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    const input = valueRef.current;
    const value = input?.value ?? '';
    if (value === '') return;
    if (new TextEncoder().encode(value).length > MAX_VALUE_BYTES) {
      setError(new Error(`The value must be at most ${MAX_VALUE_BYTES} bytes.`));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, unknown> = { value };
      if (description !== (existing?.description ?? '')) body.description = description.trim();
      // Cleared before the answer arrives: whatever happens next, the field no longer holds it.
      if (input) input.value = '';
      setHasValue(false);
      const saved = await api<Secret>('PUT', `/api/v1/secrets/${encodeURIComponent(trimmed)}`, { body });
      onSaved(saved, existing === null && saved.createdAt === saved.updatedAt);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="panel" aria-labelledby="secret-form-title" onSubmit={(e) => void submit(e)} noValidate autoComplete="off">
      <h2 id="secret-form-title">{existing ? `Replace the value of ${existing.name}` : 'New secret'}</h2>
      <div className="grid">
        <Field label="Name" hint="Letters, digits, _ . - ; at most 128 characters." error={badName ? 'Letters, digits, _ . - only, starting with a letter or digit.' : fieldError(error, '/params/name')}>
          {(id) => <input id={id} value={name} onChange={(e) => setName(e.target.value)} readOnly={existing !== null} required maxLength={128} autoComplete="off" spellCheck={false} autoFocus={existing === null} />}
        </Field>
        <Field label="Value" hint={existing ? 'The new value; the old one is replaced. Never shown again.' : 'Stored encrypted; never shown again.'} error={fieldError(error, '/value')}>
          {(id) => <input id={id} ref={valueRef} type="password" onChange={(e) => setHasValue(e.target.value !== '')} required autoComplete="new-password" spellCheck={false} autoFocus={existing !== null} />}
        </Field>
        <Field label="Description (optional)" hint="What it is for and who owns it." error={fieldError(error, '/description')}>
          {(id) => <input id={id} value={description} onChange={(e) => setDescription(e.target.value)} maxLength={500} autoComplete="off" />}
        </Field>
      </div>
      {error ? <ErrorBox error={error} /> : null}
      <div className="toolbar">
        <button type="submit" className="btn btn-primary" disabled={busy || trimmed === '' || badName || !hasValue}>
          {busy ? 'Saving…' : existing ? 'Replace value' : 'Save secret'}
        </button>
        <button type="button" className="btn" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}
