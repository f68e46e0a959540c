/** Small building blocks shared by every page. */
import { useEffect, useId, useRef, type ReactNode } from 'react';
import { ApiError } from '../api';
import { setQuery } from '../router';

export function StatusBadge({ status }: { status: string }): ReactNode {
  return <span className={`badge badge-${status}`}>{status}</span>;
}

export function Loading({ label = 'Loading…' }: { label?: string }): ReactNode {
  return (
    <div className="state" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {label}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }): ReactNode {
  return <div className="state empty">{children}</div>;
}

/**
 * A loaded list's states: its error (with a retry), a spinner until the first answer, and `empty`
 * (when given) once it answered with no items.
 */
export function ListStates({ list, empty }: { list: { data: readonly unknown[] | null; error: unknown; loading: boolean; reload: () => Promise<void> }; empty?: ReactNode }): ReactNode {
  const { data, error, loading, reload } = list;
  return (
    <>
      {error ? <ErrorBox error={error} onRetry={() => void reload()} /> : null}
      {!data && loading && !error ? <Loading /> : null}
      {data && data.length === 0 && empty !== undefined ? <Empty>{empty}</Empty> : null}
    </>
  );
}

/** An error as the user should read it: the API's detail and code, never a stack. */
export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }): ReactNode {
  const message = error instanceof ApiError ? error.message : error instanceof Error ? error.message : String(error);
  const code = error instanceof ApiError ? error.code : null;
  const fields = error instanceof ApiError ? (error.problem.errors ?? []) : [];
  return (
    <div className="state error" role="alert">
      <strong>{message}</strong>
      {code ? <code className="muted"> {code}</code> : null}
      {fields.length > 1 ? (
        <ul>
          {fields.map((f) => (
            <li key={f.pointer + f.message}>
              <code>{f.pointer}</code> {f.message}
            </li>
          ))}
        </ul>
      ) : null}
      {onRetry ? (
        <button type="button" className="btn" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

/** A modal confirmation that states exactly what will happen. Escape or Cancel closes it. */
export function Confirm({ title, children, confirmLabel, danger, onConfirm, onCancel, busy }: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}): ReactNode {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog ref={ref} className="dialog" aria-labelledby={titleId} onCancel={(e) => { e.preventDefault(); onCancel(); }}>
      <h2 id={titleId}>{title}</h2>
      <div className="dialog-body">{children}</div>
      <div className="dialog-actions">
        <button type="button" className="btn" onClick={onCancel} disabled={busy}>
          Close
        </button>
        <button type="button" className={`btn ${danger ? 'btn-danger' : 'btn-primary'}`} onClick={onConfirm} disabled={busy} autoFocus>
          {busy ? 'Working…' : confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

/** A labelled form field; the label is tied to the control for screen readers. */
export function Field({ label, hint, error, children }: { label: string; hint?: ReactNode; error?: string | null; children: (id: string) => ReactNode }): ReactNode {
  const id = useId();
  return (
    <div className={`field${error ? ' field-error' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children(id)}
      {hint ? <div className="hint">{hint}</div> : null}
      {error ? (
        <div className="hint error-text" role="alert">
          {error}
        </div>
      ) : null}
    </div>
  );
}

/** JSON shown as text (escaped by React), scrollable, bounded. */
export function JsonBlock({ value, label }: { value: unknown; label: string }): ReactNode {
  const text = JSON.stringify(value, null, 2) ?? 'null';
  const shown = text.length > 200_000 ? `${text.slice(0, 200_000)}\n… (${text.length - 200_000} more characters)` : text;
  return (
    <pre className="json" aria-label={label} tabIndex={0}>
      {shown}
    </pre>
  );
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }): ReactNode {
  return (
    <header className="page-header">
      <h1>{title}</h1>
      <div className="page-actions">{children}</div>
    </header>
  );
}

/** Keyset paging kept in the URL's `cursor`: back to the newest page, or on to older ones. */
export function CursorPager({ cursor, nextCursor }: { cursor: string | null | undefined; nextCursor: string | null | undefined }): ReactNode {
  return (
    <div className="pager">
      {cursor ? (
        <button type="button" className="btn" onClick={() => setQuery({ cursor: null })}>
          Newest
        </button>
      ) : null}
      {nextCursor ? (
        <button type="button" className="btn" onClick={() => setQuery({ cursor: nextCursor }, { replace: false })}>
          Older
        </button>
      ) : null}
    </div>
  );
}

/** A short list of values as chips (tasks, scopes, labels), named for screen readers. */
export function Chips({ label, items }: { label: string; items: readonly string[] }): ReactNode {
  return (
    <ul className="chips" aria-label={label}>
      {items.map((item) => (
        <li key={item} className="chip">
          {item}
        </li>
      ))}
    </ul>
  );
}
