import pg from 'pg';
import type { Pool, Queryable } from '../pool.js';

/**
 * `at` as text: UTC, microsecond precision, ISO 8601 (`2026-11-22T22:24:07.123456Z`). PostgreSQL
 * stores timestamptz in microseconds, so this text parses back to exactly the stored value and the
 * audit hash can be computed over it on append and again on verify.
 */
const AT_TEXT = `to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * Whether `db` is a pool rather than a client (a pool needs a transaction opened for it; a client
 * is taken to be inside its caller's transaction). Mirrors the private check in `../pool.ts`.
 */
export function isPool(db: Queryable): db is Pool {
  return db instanceof pg.Pool;
}

/** An audit row as stored (hashes as bytes, seq as a decimal string). */
export interface AuditRow {
  seq: string;
  tenantId: string;
  /** ISO 8601, UTC, microseconds: exactly what was hashed. */
  at: string;
  actor: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  before: unknown;
  after: unknown;
  requestId: string | null;
  clientIp: string | null;
  prevHash: Buffer | null;
  hash: Buffer;
}

// Careful: the output column `seq` is text, so ORDER BY must name `audit_log.seq` (an unqualified
// name in ORDER BY means the output column and would sort '10' before '9').
const COLUMNS = `seq::text AS seq, tenant_id AS "tenantId", ${AT_TEXT} AS at, actor, action,
  target_type AS "targetType", target_id AS "targetId", before, after, request_id AS "requestId",
  client_ip AS "clientIp", prev_hash AS "prevHash", hash`;

/**
 * Serialise appends to one tenant's chain until the surrounding transaction ends. Must run inside
 * a transaction (a transaction-level advisory lock outside one is released at once).
 */
export async function lockAuditChain(db: Queryable, tenantId: string): Promise<void> {
  await db.query(`SELECT pg_advisory_xact_lock(hashtext('audit:' || $1::text))`, [tenantId]);
}

/**
 * A page of rows in chain order (tenant, then seq) after the given position, for verification.
 * `tenantId` null reads every tenant.
 */
export async function auditRowsInChainOrder(
  db: Queryable,
  tenantId: string | null,
  after: { tenantId: string; seq: string } | null,
  limit: number,
): Promise<AuditRow[]> {
  const { rows } = await db.query<AuditRow>(
    `SELECT ${COLUMNS} FROM jobplane.audit_log
     WHERE ($1::uuid IS NULL OR tenant_id = $1::uuid)
       AND ($2::uuid IS NULL OR (tenant_id, seq) > ($2::uuid, $3::bigint))
     ORDER BY audit_log.tenant_id, audit_log.seq
     LIMIT $4`,
    [tenantId, after?.tenantId ?? null, after?.seq ?? null, limit],
  );
  return rows;
}

/** Filters of {@link listAuditRows}. */
export interface AuditFilter {
  action?: string | undefined;
  actor?: string | undefined;
  targetId?: string | undefined;
  /** Entries at or after this time (a Date or an ISO 8601 string, which keeps microseconds). */
  since?: Date | string | undefined;
  /** Entries before this time. */
  until?: Date | string | undefined;
  /** Entries with a smaller seq (the cursor of the previous page). */
  beforeSeq?: string | undefined;
  limit: number;
}

/** A tenant's audit rows matching `filter`, newest (highest seq) first. */
export async function listAuditRows(db: Queryable, tenantId: string, filter: AuditFilter): Promise<AuditRow[]> {
  const { rows } = await db.query<AuditRow>(
    `SELECT ${COLUMNS} FROM jobplane.audit_log
     WHERE tenant_id = $1
       AND ($2::text IS NULL OR action = $2)
       AND ($3::text IS NULL OR actor = $3)
       AND ($4::text IS NULL OR target_id = $4)
       AND ($5::timestamptz IS NULL OR at >= $5)
       AND ($6::timestamptz IS NULL OR at < $6)
       AND ($7::bigint IS NULL OR seq < $7)
     ORDER BY audit_log.seq DESC
     LIMIT $8`,
    [
      tenantId, filter.action ?? null, filter.actor ?? null, filter.targetId ?? null,
      filter.since ?? null, filter.until ?? null, filter.beforeSeq ?? null, filter.limit,
    ],
  );
  return rows;
}

/**
 * Reserve `count` consecutive places at the end of a tenant's chain: the current last hash, the
 * next sequence numbers (in order) and one timestamp. The timestamp is read as UTC text with
 * microseconds and inserted from that same text, so the hashed string and the stored value match
 * exactly (a JS Date would drop the microseconds). seq values are taken while the chain lock is
 * held and inserted with OVERRIDING SYSTEM VALUE, because the hash covers the seq.
 * Call with the tenant's chain lock held.
 */
export async function prepareAuditBatch(
  db: Queryable,
  tenantId: string,
  count: number,
): Promise<{ prevHash: Buffer | null; seqs: string[]; at: string }> {
  const { rows } = await db.query<{ prevHash: Buffer | null; seqs: string[]; at: string }>(
    `SELECT (SELECT hash FROM jobplane.audit_log WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1) AS "prevHash",
            ARRAY(SELECT nextval(pg_get_serial_sequence('jobplane.audit_log', 'seq'))::text
                  FROM generate_series(1, $2) ORDER BY 1::int) AS seqs,
            to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at`,
    [tenantId, count],
  );
  const row = rows[0]!;
  // nextval is called once per generated row, in order; sort numerically to be certain.
  row.seqs.sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  return row;
}

/** Insert several chain rows in one statement. */
export async function insertAuditRows(db: Queryable, rows: readonly AuditRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO jobplane.audit_log
       (seq, tenant_id, at, actor, action, target_type, target_id, before, after, request_id, client_ip, prev_hash, hash)
     OVERRIDING SYSTEM VALUE
     SELECT x.seq, x.tenant_id, x.at, x.actor, x.action, x.target_type, x.target_id, x.before, x.after, x.request_id,
            x.client_ip, decode(x.prev_hash, 'hex'), decode(x.hash, 'hex')
     FROM json_to_recordset($1::json) AS x(seq bigint, tenant_id uuid, at timestamptz, actor text, action text,
       target_type text, target_id text, before jsonb, after jsonb, request_id text, client_ip text, prev_hash text, hash text)`,
    [
      JSON.stringify(
        rows.map((r) => ({
          seq: r.seq, tenant_id: r.tenantId, at: r.at, actor: r.actor, action: r.action, target_type: r.targetType,
          target_id: r.targetId, before: r.before, after: r.after, request_id: r.requestId, client_ip: r.clientIp,
          prev_hash: r.prevHash ? r.prevHash.toString('hex') : null, hash: r.hash.toString('hex'),
        })),
      ),
    ],
  );
}
