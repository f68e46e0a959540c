/**
 * Audit log (audit:read): newest first, filters in the URL (action, actor, target id, since,
 * until), cursor paging, each entry expandable to its before/after JSON, request id and client
 * address. Below it, the failed-login trail (kept outside the audit chain).
 */
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { api } from '../api';
import { DataTable } from '../components/data-table';
import { CursorPager, ErrorBox, JsonBlock, PageHeader } from '../components/ui';
import { useResource } from '../hooks';
import { dateTime, shortId } from '../format';
import type { ApiAuditEntry } from '../../../src/client/client.js';
import { Link, setQuery, useLocation } from '../router';
import { useCan } from '../session';
import { LoginFailures } from './login-failures';

type AuditEntry = ApiAuditEntry;

interface AuditPage {
  entries: AuditEntry[];
  nextCursor: string | null;
}

const PAGE = 100;

function toLocalInput(iso: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function fromLocalInput(value: string): string {
  if (!value) return '';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

export function AuditPage(): ReactNode {
  const can = useCan();
  const { query } = useLocation();
  const filters = {
    action: query.get('action') ?? '',
    actor: query.get('actor') ?? '',
    targetId: query.get('targetId') ?? '',
    since: query.get('since') ?? '',
    until: query.get('until') ?? '',
    cursor: query.get('cursor') ?? '',
  };
  const filterKey = JSON.stringify(filters);
  const [draft, setDraft] = useState(filters);
  const resource = useResource(
    () => api<AuditPage>('GET', '/api/v1/audit', { query: { action: filters.action, actor: filters.actor, targetId: filters.targetId, since: filters.since, until: filters.until, cursor: filters.cursor, limit: PAGE } }),
    filterKey,
  );
  const { data, loading, reload: load } = resource;
  const [open, setOpen] = useState<Set<string>>(new Set());
  const names = useNames();

  // Keep the form in step when the URL changes (back/forward, Clear); a new page opens no entries.
  useEffect(() => {
    setDraft(filters);
    setOpen(new Set());
  // eslint-disable-next-line react-hooks/exhaustive-deps -- keyed by the filters' JSON (a new object each render)
  }, [filterKey]);

  if (!can('audit:read')) return <ErrorBox error={new Error('Only administrators can read the audit log.')} />;

  const apply = (e: FormEvent): void => {
    e.preventDefault();
    setQuery({ action: draft.action.trim(), actor: draft.actor.trim(), targetId: draft.targetId.trim(), since: draft.since, until: draft.until, cursor: null }, { replace: false });
  };
  const filtered = Object.entries(filters).some(([k, v]) => k !== 'cursor' && v);
  const toggle = (seq: string): void => {
    const next = new Set(open);
    if (next.has(seq)) next.delete(seq);
    else next.add(seq);
    setOpen(next);
  };
  const entries = data?.entries ?? [];

  return (
    <>
      <PageHeader title="Audit log">
        <button type="button" className="btn" onClick={() => void load()} disabled={loading}>
          Refresh
        </button>
      </PageHeader>
      <form className="filters" aria-label="Audit filters" onSubmit={apply}>
        <label>
          Action
          <input value={draft.action} onChange={(e) => setDraft({ ...draft, action: e.target.value })} placeholder="e.g. queue.pause" size={14} maxLength={100} />
        </label>
        <label>
          Actor
          <input value={draft.actor} onChange={(e) => setDraft({ ...draft, actor: e.target.value })} placeholder="user:… or key:…" size={16} maxLength={200} />
        </label>
        <label>
          Target id
          <input value={draft.targetId} onChange={(e) => setDraft({ ...draft, targetId: e.target.value })} size={16} maxLength={200} />
        </label>
        <label>
          Since
          <input type="datetime-local" value={toLocalInput(draft.since)} onChange={(e) => setDraft({ ...draft, since: fromLocalInput(e.target.value) })} />
        </label>
        <label>
          Until
          <input type="datetime-local" value={toLocalInput(draft.until)} onChange={(e) => setDraft({ ...draft, until: fromLocalInput(e.target.value) })} />
        </label>
        <button type="submit" className="btn btn-primary">
          Apply filters
        </button>
        {filtered ? (
          <button type="button" className="btn" onClick={() => setQuery({ action: null, actor: null, targetId: null, since: null, until: null, cursor: null }, { replace: false })}>
            Clear filters
          </button>
        ) : null}
      </form>

      <DataTable
        label="Audit log"
        resource={resource}
        empty={filtered ? 'No audit entries match these filters.' : 'The audit log is empty.'}
        rows={entries}
        rowKey={(entry) => entry.seq}
        rowProps={(entry) => ({ 'data-seq': entry.seq, className: open.has(entry.seq) ? 'selected' : undefined })}
        after={(entry) =>
          open.has(entry.seq) ? (
            <tr className="audit-details">
              <td colSpan={5} id={`audit-${entry.seq}`}>
                <dl className="facts">
                  <dt>Actor</dt>
                  <dd className="mono">{entry.actor}</dd>
                  <dt>Target</dt>
                  <dd className="mono">{entry.targetType ?? '—'} {entry.targetId ?? ''}</dd>
                  <dt>Sequence</dt>
                  <dd className="mono">{entry.seq}</dd>
                  <dt>Request id</dt>
                  <dd className="mono">{entry.requestId ?? '—'}</dd>
                  <dt>Client address</dt>
                  <dd className="mono">{entry.clientIp ?? '—'}</dd>
                  <dt>Hash</dt>
                  <dd className="mono">{entry.hash}</dd>
                </dl>
                <div className="audit-json">
                  <div>
                    <h3>Before</h3>
                    {entry.before === null || entry.before === undefined ? <p className="muted">—</p> : <JsonBlock value={entry.before} label={`Before, entry ${entry.seq}`} />}
                  </div>
                  <div>
                    <h3>After</h3>
                    {entry.after === null || entry.after === undefined ? <p className="muted">—</p> : <JsonBlock value={entry.after} label={`After, entry ${entry.seq}`} />}
                  </div>
                </div>
              </td>
            </tr>
          ) : null
        }
        columns={[
          {
            header: 'Details',
            hideHeader: true,
            cellClassName: 'stack-top',
            cell: (entry) => {
              const expanded = open.has(entry.seq);
              return (
                <button type="button" className="btn btn-small" aria-expanded={expanded} aria-controls={expanded ? `audit-${entry.seq}` : undefined} aria-label={`${expanded ? 'Hide' : 'Show'} details of ${entry.action} #${entry.seq}`} onClick={() => toggle(entry.seq)}>
                  {expanded ? 'Hide' : 'Details'}
                </button>
              );
            },
          },
          { header: 'When', title: (entry) => entry.at, cell: (entry) => dateTime(entry.at) },
          {
            header: 'Action',
            cell: (entry) => (
              <button type="button" className="link-button mono" title="Show only this action" onClick={() => setQuery({ action: entry.action, cursor: null }, { replace: false })}>
                {entry.action}
              </button>
            ),
          },
          {
            header: 'Actor',
            cellClassName: 'wrap',
            title: (entry) => entry.actor,
            cell: (entry) => (
              <button type="button" className="link-button" title={`Show only ${entry.actor}`} onClick={() => setQuery({ actor: entry.actor, cursor: null }, { replace: false })}>
                {names.actor(entry.actor)}
              </button>
            ),
          },
          { header: 'Target', cellClassName: 'wrap', title: (entry) => entry.targetId, cell: (entry) => <Target entry={entry} name={names.target} /> },
        ]}
      />
      <CursorPager cursor={filters.cursor} nextCursor={data?.nextCursor} />
      <LoginFailures />
    </>
  );
}

function Target({ entry, name }: { entry: AuditEntry; name: (type: string | null, id: string) => string }): ReactNode {
  return (
    <>
      {entry.targetType ? <span className="muted">{entry.targetType} </span> : null}
      {entry.targetId ? (
        <button type="button" className="link-button" title={`Show only target ${entry.targetId}`} onClick={() => setQuery({ targetId: entry.targetId, cursor: null }, { replace: false })}>
          {name(entry.targetType, entry.targetId)}
        </button>
      ) : (
        <span className="muted">—</span>
      )}
      {entry.targetType === 'job' && entry.targetId ? (
        <>
          {' '}
          <Link to={`/jobs/${encodeURIComponent(entry.targetId)}`} aria-label={`Open job ${entry.targetId}`} className="muted">
            open
          </Link>
        </>
      ) : null}
    </>
  );
}

/**
 * Friendly names for actors and targets: user and key ids resolved through the users and keys
 * lists (audit:read implies admin, which may read both); unknown ids (deleted users…) stay ids.
 */
function useNames(): { actor: (actor: string) => string; target: (type: string | null, id: string) => string } {
  const [users, setUsers] = useState<Map<string, string>>(new Map());
  const [keys, setKeys] = useState<Map<string, string>>(new Map());
  useEffect(() => {
    api<{ users: Array<{ id: string; username: string }> }>('GET', '/api/v1/users')
      .then((b) => setUsers(new Map(b.users.map((u) => [u.id, u.username]))))
      .catch(() => undefined);
    api<{ keys: Array<{ id: string; name: string }> }>('GET', '/api/v1/keys')
      .then((b) => setKeys(new Map(b.keys.map((k) => [k.id, k.name]))))
      .catch(() => undefined);
  }, []);
  const user = (id: string): string => users.get(id) ?? shortId(id);
  const key = (id: string): string => (keys.has(id) ? `key “${keys.get(id)}”` : `key ${shortId(id)}`);
  return {
    actor: (actor) => {
      if (actor.startsWith('user:')) return user(actor.slice(5));
      if (actor.startsWith('key:')) return key(actor.slice(4));
      return actor;
    },
    target: (type, id) => {
      if (type === 'user') return users.get(id) ?? shortId(id);
      if (type === 'api_key') return keys.has(id) ? `“${keys.get(id)}”` : shortId(id);
      if (type === 'job') return shortId(id);
      return id;
    },
  };
}
