/**
 * The execution ledger: the fault fixtures' handlers insert one row per execution (not per
 * completion) before they do anything else, in autocommit, through a pool of their own. At-least-
 * once is measured here: an execution whose row exists happened; duplicates are executions of one
 * job under more than one lease. Times are the database clock (clock_timestamp()).
 */
import type { Queryable } from '../../../src/db/pool.js';

/** The ledger table (in the test database's public schema). */
export const LEDGER_TABLE = 'public.fault_ledger';

/** One execution. */
export interface Execution {
  jobId: string;
  attempt: number;
  leaseToken: string;
  workerId: string;
  pid: number;
  label: string | null;
  at: Date;
}

/** Create the ledger (idempotent). */
export async function createLedger(db: Queryable): Promise<void> {
  await db.query(`CREATE TABLE IF NOT EXISTS ${LEDGER_TABLE} (
    job_id uuid NOT NULL, attempt int NOT NULL, lease_token bigint NOT NULL, worker_id text NOT NULL,
    pid int NOT NULL, label text, at timestamptz NOT NULL DEFAULT clock_timestamp())`);
  await db.query(`CREATE INDEX IF NOT EXISTS fault_ledger_job ON ${LEDGER_TABLE} (job_id, at)`);
}

/** The SQL a fixture runs per execution. Params: job id, attempt, lease token, worker id, pid, label. */
export const RECORD_EXECUTION_SQL = `INSERT INTO ${LEDGER_TABLE} (job_id, attempt, lease_token, worker_id, pid, label) VALUES ($1, $2, $3, $4, $5, $6)`;

/**
 * Executions of `jobIds` (every job when omitted), oldest first. A row written twice for one lease
 * (an insert retried after its reply was lost) counts once.
 */
export async function readLedger(db: Queryable, jobIds?: readonly string[]): Promise<Execution[]> {
  const { rows } = await db.query<Execution>(
    `SELECT DISTINCT ON (job_id, lease_token) job_id AS "jobId", attempt, lease_token::text AS "leaseToken",
            worker_id AS "workerId", pid, label, at
     FROM ${LEDGER_TABLE} WHERE $1::uuid[] IS NULL OR job_id = ANY($1::uuid[])
     ORDER BY job_id, lease_token, at`,
    [jobIds ? [...jobIds] : null],
  );
  return rows.sort((a, b) => a.at.getTime() - b.at.getTime());
}
