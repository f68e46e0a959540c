/**
 * API keys (admins): list, create (name, scopes, optional expiry) — the full key is in the create
 * answer only, so it is shown once with a Copy button — and revoke.
 */
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { useResource } from '../hooks';
import { api, fieldError } from '../api';
import { DataTable } from '../components/data-table';
import { Chips, Confirm, ErrorBox, Field, PageHeader } from '../components/ui';
import { ago, dateTime } from '../format';
import { useCan } from '../session';
import type { ResponseOf } from '../../../src/client/api-shapes.js';

type ApiKey = ResponseOf<'/api/v1/keys', 'get'>['keys'][number];

type CreatedKey = ApiKey & { key: string };

const SCOPES: ReadonlyArray<{ scope: string; hint: string }> = [
  { scope: 'jobs:read', hint: 'read jobs, schedules, queues, workers' },
  { scope: 'jobs:write', hint: 'submit, cancel, retry jobs' },
  { scope: 'schedules:write', hint: 'create and edit schedules' },
  { scope: 'worker', hint: 'run jobs as a remote worker' },
  { scope: 'admin', hint: 'everything, including users and keys' },
];

function keyState(k: ApiKey, now: number): 'revoked' | 'expired' | 'active' {
  if (k.revokedAt) return 'revoked';
  if (k.expiresAt && new Date(k.expiresAt).getTime() <= now) return 'expired';
  return 'active';
}

export function KeysPage(): ReactNode {
  const can = useCan();
  const resource = useResource(async () => (await api<{ keys: ApiKey[] }>('GET', '/api/v1/keys')).keys);
  const { data: keys, reload: load } = resource;
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedKey | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);
  const [message, setMessage] = useState<string | null>(null);


  if (!can('admin')) return <ErrorBox error={new Error('Only administrators can manage API keys.')} />;

  const revoke = async (k: ApiKey): Promise<void> => {
    setBusy(true);
    setActionError(null);
    try {
      await api<ApiKey>('POST', `/api/v1/keys/${encodeURIComponent(k.id)}/revoke`);
      setRevoking(null);
      setMessage(`Revoked key ${k.name}.`);
      void load();
    } catch (err) {
      setMessage(null);
      setActionError(err);
    } finally {
      setBusy(false);
    }
  };

  const now = Date.now();
  const list = keys ?? [];

  return (
    <>
      <PageHeader title="API keys">
        {!creating ? (
          <button type="button" className="btn btn-primary" onClick={() => { setCreating(true); setCreated(null); setMessage(null); }}>
            Create API key
          </button>
        ) : null}
      </PageHeader>
      {created ? <NewKey created={created} onDone={() => setCreated(null)} /> : null}
      {creating ? (
        <CreateKey
          onCancel={() => setCreating(false)}
          onCreated={(k) => {
            setCreating(false);
            setCreated(k);
            void load();
          }}
        />
      ) : null}
      <div className="live-msg" aria-live="polite">
        {message ? <span role="status">{message}</span> : null}
      </div>
      {actionError && !revoking ? <ErrorBox error={actionError} /> : null}
      <DataTable
        label="API keys"
        resource={resource}
        empty="No API keys yet. Programs and remote workers authenticate with one."
        rows={list}
        rowKey={(k) => k.id}
        rowProps={(k) => ({ 'data-key-id': k.id, className: keyState(k, now) === 'active' ? undefined : 'dim' })}
        columns={[
          { header: 'Name', rowHeader: true, cellClassName: 'truncate', title: (k) => k.name, cell: (k) => k.name },
          { header: 'Key', cellClassName: 'mono', title: () => "The key's visible prefix and last four characters", cell: (k) => `${k.prefix}…${k.last4}` },
          { header: 'Scopes', cellClassName: 'wrap', cell: (k) => <Chips label={`Scopes of ${k.name}`} items={k.scopes} /> },
          {
            header: 'Status',
            cell: (k) => {
              const state = keyState(k, now);
              return (
                <span className={`badge badge-${state === 'active' ? 'active' : 'disabled'}`} title={k.revokedAt ? `Revoked ${dateTime(k.revokedAt)}` : undefined}>
                  {state}
                </span>
              );
            },
          },
          { header: 'Created', title: (k) => `${k.createdAt}${k.createdBy ? ` by ${k.createdBy}` : ''}`, cell: (k) => ago(k.createdAt) },
          { header: 'Last used', title: (k) => k.lastUsedAt, cell: (k) => (k.lastUsedAt ? ago(k.lastUsedAt) : <span className="muted">never</span>) },
          { header: 'Expires', title: (k) => k.expiresAt, cell: (k) => (k.expiresAt ? dateTime(k.expiresAt) : <span className="muted">never</span>) },
          {
            header: 'Actions',
            cell: (k) =>
              !k.revokedAt ? (
                <button type="button" className="btn btn-small btn-danger-outline" aria-label={`Revoke key ${k.name}`} onClick={() => { setActionError(null); setRevoking(k); }}>
                  Revoke
                </button>
              ) : (
                <span className="muted">revoked {ago(k.revokedAt)}</span>
              ),
          },
        ]}
      />

      {revoking ? (
        <Confirm title={`Revoke key ${revoking.name}?`} confirmLabel="Revoke key" danger busy={busy} onCancel={() => { setRevoking(null); setActionError(null); }} onConfirm={() => void revoke(revoking)}>
          <p>
            Every program using <code>{revoking.prefix}…{revoking.last4}</code> is refused at once, from its next request. This cannot be undone: a new key would have to be created and
            handed out.
          </p>
          {actionError ? <ErrorBox error={actionError} /> : null}
        </Confirm>
      ) : null}
    </>
  );
}

/** The full key, shown once: copy it now. */
function NewKey({ created, onDone }: { created: CreatedKey; onDone: () => void }): ReactNode {
  const ref = useRef<HTMLElement>(null);
  const boxRef = useRef<HTMLElement>(null);
  const [copied, setCopied] = useState<string | null>(null);
  useEffect(() => boxRef.current?.focus(), []);

  const selectKey = (): void => {
    const node = ref.current;
    if (!node) return;
    const range = document.createRange();
    range.selectNodeContents(node);
    const selection = window.getSelection();
    selection?.removeAllRanges();
    selection?.addRange(range);
  };

  const copy = async (): Promise<void> => {
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(created.key);
      setCopied('Copied to the clipboard.');
    } catch {
      selectKey();
      setCopied('Could not copy automatically: the key is selected — press Ctrl+C (⌘C) to copy it.');
    }
  };

  return (
    <section className="panel new-key" aria-labelledby="new-key-title" tabIndex={-1} ref={boxRef} data-testid="new-key">
      <h2 id="new-key-title">New API key “{created.name}”</h2>
      <p className="new-key-warning" role="alert">
        <strong>Copy this key now. It will not be shown again.</strong> Jobplane cannot show it later; if it is lost, revoke it and create another.
      </p>
      <div className="new-key-row">
        <code ref={ref} className="new-key-value" aria-label="New API key" data-testid="new-key-value">
          {created.key}
        </code>
        <button type="button" className="btn btn-primary" onClick={() => void copy()}>
          Copy key
        </button>
      </div>
      <p className="muted">
        Scopes: {created.scopes.join(', ')}. Expires: {created.expiresAt ? dateTime(created.expiresAt) : 'never'}. Send it as <code>Authorization: Bearer &lt;key&gt;</code>.
      </p>
      <div className="toolbar">
        <span role="status" aria-live="polite">
          {copied}
        </span>
        <button type="button" className="btn" onClick={onDone}>
          I have copied it — hide the key
        </button>
      </div>
    </section>
  );
}

function CreateKey({ onCancel, onCreated }: { onCancel: () => void; onCreated: (k: CreatedKey) => void }): ReactNode {
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Set<string>>(new Set(['jobs:read']));
  const [expires, setExpires] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);


  const today = new Date();
  const pad = (n: number): string => String(n).padStart(2, '0');
  const minDate = `${today.getFullYear()}-${pad(today.getMonth() + 1)}-${pad(today.getDate())}`;

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, unknown> = { name: name.trim(), scopes: SCOPES.map((s) => s.scope).filter((s) => scopes.has(s)) };
      // A date means "until the end of that day", local time.
      if (expires) body.expiresAt = new Date(`${expires}T23:59:59`).toISOString();
      onCreated(await api<CreatedKey>('POST', '/api/v1/keys', { body }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const toggle = (scope: string, on: boolean): void => {
    const next = new Set(scopes);
    if (on) next.add(scope);
    else next.delete(scope);
    setScopes(next);
  };

  return (
    <form className="panel" aria-labelledby="create-key-title" onSubmit={(e) => void submit(e)} noValidate>
      <h2 id="create-key-title">New API key</h2>
      <Field label="Name" hint="What uses it, e.g. “billing service” or “worker eu-1”." error={fieldError(error, '/name')}>
        {(id) => <input id={id} value={name} onChange={(e) => setName(e.target.value)} required maxLength={128} autoComplete="off" autoFocus />}
      </Field>
      <fieldset className="scopes">
        <legend>Scopes</legend>
        {SCOPES.map((s) => (
          <div key={s.scope} className="scope-row">
            <label className="check">
              <input type="checkbox" checked={scopes.has(s.scope)} onChange={(e) => toggle(s.scope, e.target.checked)} aria-describedby={`scope-hint-${s.scope}`} /> <code>{s.scope}</code>
            </label>
            <span className="muted" id={`scope-hint-${s.scope}`}>
              {s.hint}
            </span>
          </div>
        ))}
        {scopes.size === 0 ? <div className="hint error-text">Choose at least one scope.</div> : null}
        {fieldError(error, '/scopes') ? <div className="hint error-text">{fieldError(error, '/scopes')}</div> : null}
      </fieldset>
      <Field label="Expires (optional)" hint="Empty: never. The key stops working at the end of that day." error={fieldError(error, '/expiresAt')}>
        {(id) => <input id={id} type="date" min={minDate} value={expires} onChange={(e) => setExpires(e.target.value)} />}
      </Field>
      {error ? <ErrorBox error={error} /> : null}
      <div className="toolbar">
        <button type="submit" className="btn btn-primary" disabled={busy || name.trim() === '' || scopes.size === 0}>
          {busy ? 'Creating…' : 'Create key'}
        </button>
        <button type="button" className="btn" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}
