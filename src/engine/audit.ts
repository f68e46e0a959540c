/**
 * The tamper-evident audit log (docs/decisions.md #19).
 *
 * Each tenant has its own hash chain in seq order:
 * `hash = SHA-256(prev_hash ‖ UTF-8(canonical JSON of the entry))`, where `prev_hash` is the
 * previous entry's hash (no bytes for the first entry) and canonical JSON sorts object keys
 * recursively. The hashed entry is
 * `{tenantId, at, actor, action, targetType, targetId, before, after, requestId, clientIp, seq}`
 * with absent fields as null, `seq` as a decimal string and `at` as the database's `now()` in
 * UTC ISO 8601 with microseconds. `at` is read from PostgreSQL as that text and written back from
 * the same text, so the stored timestamptz (microsecond precision) re-reads as the identical
 * string on verification; a JS Date would silently drop the microseconds.
 */
import { createHash } from 'node:crypto';
import {
  auditRowsInChainOrder,
  insertAuditRows,
  isPool,
  listAuditRows,
  lockAuditChain,
  prepareAuditBatch,
  type AuditFilter,
  type AuditRow,
} from '../db/queries/audit.js';
import { withTransaction, type Queryable } from '../db/pool.js';
import { redactSensitive } from '../core/redaction.js';

export type { AuditFilter, AuditRow } from '../db/queries/audit.js';

/** What happened, by whom, to what. */
export interface AuditEntry {
  tenantId: string;
  /** `user:<id>`, `key:<id>` (see `actorOf`), `anonymous` or `system`. */
  actor: string;
  /** Dotted verb, e.g. `job.submit`, `schedule.update`, `auth.login_failed`. */
  action: string;
  targetType?: string | null | undefined;
  targetId?: string | null | undefined;
  /** State before the change; secrets are removed (see {@link redactSecrets}). */
  before?: unknown;
  /** State after the change; secrets are removed. */
  after?: unknown;
  requestId?: string | null | undefined;
  clientIp?: string | null | undefined;
}

/** Keys whose values never reach the audit log, compared case-insensitively without `_`/`-`. */
const SECRET_KEYS = new Set(['password', 'passwordhash', 'key', 'apikey', 'token', 'refreshtoken', 'accesstoken', 'secret', 'secrets']);

function isSecretKey(name: string): boolean {
  return SECRET_KEYS.has(name.toLowerCase().replace(/[_-]/g, ''));
}

/**
 * A JSON-safe copy of `value` without secret-named keys at any depth (password, passwordHash,
 * key, apiKey, token, refreshToken, accessToken, secret(s); also their snake_case forms), and with
 * the values of other sensitive fields (an Authorization or Cookie header, `DB_PASSWORD`…; see
 * src/core/redaction.ts) shown as `[redacted]`. `undefined` stays `undefined`; Dates become ISO
 * strings as in JSON.
 */
export function redactSecrets(value: unknown): unknown {
  if (value === undefined) return undefined;
  const json: unknown = redactSensitive(JSON.parse(JSON.stringify(value) ?? 'null'));
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, inner] of Object.entries(v)) if (!isSecretKey(k)) out[k] = strip(inner);
      return out;
    }
    return v;
  };
  return strip(json);
}

/** JSON with object keys sorted recursively (by UTF-16 code unit), no whitespace. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The hash of a stored row given its predecessor's hash. */
function entryHash(prevHash: Buffer | null, row: Omit<AuditRow, 'hash' | 'prevHash'>): Buffer {
  const content = canonicalJson({
    tenantId: row.tenantId,
    at: row.at,
    actor: row.actor,
    action: row.action,
    targetType: row.targetType,
    targetId: row.targetId,
    before: row.before ?? null,
    after: row.after ?? null,
    requestId: row.requestId,
    clientIp: row.clientIp,
    seq: row.seq,
  });
  const h = createHash('sha256');
  if (prevHash) h.update(prevHash);
  return h.update(content, 'utf8').digest();
}

/**
 * Append an entry to its tenant's chain. Given a pool, runs in its own transaction; given a client,
 * the caller must already be inside a transaction on it (the entry then commits or rolls back with
 * the action it records, and the chain lock is held until that transaction ends).
 */
export async function recordAudit(db: Queryable, entry: AuditEntry): Promise<{ seq: string; hash: Buffer }> {
  const [result] = await recordAuditBatch(db, [entry]);
  return result!;
}

/** Outcome of {@link verifyAudit}. */
export type AuditVerification =
  | { ok: true; checked: number }
  | { ok: false; tenantId: string; firstBadSeq: number; reason: string; checked: number };

const VERIFY_PAGE = 2000;

/**
 * Recompute every chain (or one tenant's) in seq order and report the first entry that does not
 * fit: its content changed (hash mismatch), or its `prev_hash` is not its predecessor's hash (an
 * entry before it was removed, inserted or the rows were reordered). Stops at the first bad entry
 * (per the whole run, tenants in id order). Removal of a chain's newest entries needs an external
 * checkpoint to detect.
 */
export async function verifyAudit(db: Queryable, tenantId: string | null): Promise<AuditVerification> {
  let checked = 0;
  let cursor: { tenantId: string; seq: string } | null = null;
  let currentTenant: string | null = null;
  let prev: Buffer | null = null;
  for (;;) {
    const rows = await auditRowsInChainOrder(db, tenantId, cursor, VERIFY_PAGE);
    for (const row of rows) {
      if (row.tenantId !== currentTenant) {
        currentTenant = row.tenantId;
        prev = null;
      }
      const bad = (reason: string): AuditVerification => ({ ok: false, tenantId: row.tenantId, firstBadSeq: Number(row.seq), reason, checked });
      const linked = prev === null ? row.prevHash === null : row.prevHash !== null && prev.equals(row.prevHash);
      if (!linked) {
        return bad(prev === null
          ? 'the first entry of the chain has a prev_hash: earlier entries were removed'
          : 'prev_hash is not the previous entry’s hash: an entry was removed or the entries were reordered');
      }
      if (!entryHash(row.prevHash, row).equals(row.hash)) return bad('the entry’s content does not match its hash: it was changed');
      prev = row.hash;
      checked += 1;
    }
    if (rows.length < VERIFY_PAGE) return { ok: true, checked };
    const last = rows[rows.length - 1]!;
    cursor = { tenantId: last.tenantId, seq: last.seq };
  }
}

/** A page of {@link listAudit}. */
export interface AuditPage {
  entries: AuditRow[];
  /** Pass as `beforeSeq` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

/** A tenant's entries matching the filter, newest first, with a seq cursor for the next page. */
export async function listAudit(db: Queryable, tenantId: string, filter: AuditFilter): Promise<AuditPage> {
  const rows = await listAuditRows(db, tenantId, { ...filter, limit: filter.limit + 1 });
  const entries = rows.slice(0, filter.limit);
  return { entries, nextCursor: rows.length > filter.limit ? entries[entries.length - 1]!.seq : null };
}

/**
 * Append many entries in one transaction: per tenant, one lock, one read of the chain's end and
 * one multi-row insert; hashes are chained here in order. Entries keep their order within a
 * tenant. Returns one result per entry, in input order.
 */
export async function recordAuditBatch(db: Queryable, entries: readonly AuditEntry[]): Promise<Array<{ seq: string; hash: Buffer }>> {
  const run = async (tx: Queryable) => {
    const results = new Array<{ seq: string; hash: Buffer }>(entries.length);
    const byTenant = new Map<string, number[]>();
    entries.forEach((e, i) => byTenant.set(e.tenantId, [...(byTenant.get(e.tenantId) ?? []), i]));
    for (const [tenantId, indexes] of [...byTenant.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      await lockAuditChain(tx, tenantId);
      const { prevHash: start, seqs, at } = await prepareAuditBatch(tx, tenantId, indexes.length);
      let prevHash = start;
      const rows: AuditRow[] = indexes.map((i, n) => {
        const entry = entries[i]!;
        const row = {
          seq: seqs[n]!,
          tenantId,
          at,
          actor: entry.actor,
          action: entry.action,
          targetType: entry.targetType ?? null,
          targetId: entry.targetId ?? null,
          before: redactSecrets(entry.before) ?? null,
          after: redactSecrets(entry.after) ?? null,
          requestId: entry.requestId ?? null,
          clientIp: entry.clientIp ?? null,
        };
        const hash = entryHash(prevHash, row);
        const full = { ...row, prevHash, hash };
        prevHash = hash;
        results[i] = { seq: row.seq, hash };
        return full;
      });
      await insertAuditRows(tx, rows);
    }
    return results;
  };
  return isPool(db) ? withTransaction(db, run) : run(db);
}
