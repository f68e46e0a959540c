/**
 * The fault battery's checker (docs/decisions.md #9), run after the load has drained:
 * - lost: a submitted job that is not `completed` (missing, failed, cancelled, still waiting);
 * - stale: a completion accepted from a dead lease — the completed row's lease token and worker
 *   must be those of its last execution, and the stored result (which the handler stamps with
 *   its lease token and worker id) must come from that execution;
 * - stuck: any job of the database still queued, scheduled or running;
 * - duplicates: executions beyond the first (or beyond its planned retries); each job may run again at most once per fault that
 *   caught it in flight (a job held by a killed, frozen or cut-off worker);
 * and every process the test started must still be running unless the test ended it.
 * A violation fails with one message naming the jobs, the rows and the processes involved.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import type { Queryable } from '../../../src/db/pool.js';
import { readLedger, type Execution } from './ledger.js';
import { unexpectedExits, type FaultProcess } from './procs.js';
import { retrying } from './retry.js';

/** One fault: when it happened and the jobs it caught in flight. */
export interface Fault {
  label: string;
  /** Epoch ms (this machine's clock, which the database shares). */
  at: number;
  /** Jobs running under the hit process's leases at the fault (or every running job, for a database-wide fault). */
  inFlight: readonly string[];
}

/** What to check. */
export interface CheckOptions {
  /** Shown at the top of a failure. */
  title: string;
  /** Jobs of the fault task: checked against the ledger too. */
  ledgerJobs: readonly string[];
  /** Jobs of built-in tasks (no ledger): lost and stuck only. */
  otherJobs?: readonly string[];
  faults: readonly Fault[];
  /** Processes whose unexpected exit is a violation. */
  processes?: readonly FaultProcess[];
  /** Executions a job needs without any fault (planned retries); 1 when absent. */
  plannedExecutions?: ReadonlyMap<string, number>;
}

interface JobRow {
  id: string;
  status: string;
  attempt: number;
  leaseToken: string;
  workerId: string | null;
  result: { leaseToken?: string; workerId?: string } | null;
  errors: Array<{ kind?: string; message?: string; workerId?: string; at?: string }>;
  runAt: Date;
  leaseExpiresAt: Date | null;
  task: string;
}

/** The checker's findings. */
export interface InvariantReport {
  submitted: number;
  completed: number;
  executions: number;
  duplicates: number;
  /** Σ jobs in flight over all faults: the duplicate budget. */
  inFlightAtFaults: number;
  lost: string[];
  stale: string[];
  stuck: string[];
  excessDuplicates: string[];
  deadProcesses: string;
  /** The failure message ('' when every invariant holds). */
  message: string;
}

const SHOW = 15;

/** Wait until every job in `ids` is terminal and nothing in the database waits or runs; false on timeout. */
export async function waitForSettled(db: Queryable, ids: readonly string[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await retrying(() =>
      db.query<{ open: number; pending: number }>(
        `SELECT (SELECT count(*)::int FROM jobplane.jobs WHERE id = ANY($1::uuid[]) AND status NOT IN ('completed', 'failed', 'cancelled')) AS open,
                (SELECT count(*)::int FROM jobplane.jobs WHERE status IN ('queued', 'scheduled', 'running')) AS pending`,
        [ids],
      ),
    );
    if (rows[0]!.open === 0 && rows[0]!.pending === 0) return true;
    if (Date.now() > deadline) return false;
    await delay(200);
  }
}

/** Run every check and describe what failed. */
export async function checkInvariants(db: Queryable, options: CheckOptions): Promise<InvariantReport> {
  const all = [...options.ledgerJobs, ...(options.otherJobs ?? [])];
  const { rows } = await retrying(() =>
    db.query<JobRow>(
      `SELECT id, status, attempt, lease_token::text AS "leaseToken", worker_id AS "workerId", result, errors,
              run_at AS "runAt", lease_expires_at AS "leaseExpiresAt", task
       FROM jobplane.jobs WHERE id = ANY($1::uuid[])`,
      [all],
    ),
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  const ledger = options.ledgerJobs.length === 0 ? [] : await retrying(() => readLedger(db, options.ledgerJobs));
  const executions = new Map<string, Execution[]>();
  for (const e of ledger) executions.set(e.jobId, [...(executions.get(e.jobId) ?? []), e]);
  const { rows: pending } = await retrying(() =>
    db.query<JobRow>(
      `SELECT id, status, attempt, lease_token::text AS "leaseToken", worker_id AS "workerId", result, errors,
              run_at AS "runAt", lease_expires_at AS "leaseExpiresAt", task
       FROM jobplane.jobs WHERE status IN ('queued', 'scheduled', 'running') ORDER BY run_at LIMIT 200`,
    ),
  );

  const lines: string[] = [];
  const describeJob = (id: string): string => {
    const row = byId.get(id) ?? pending.find((p) => p.id === id);
    const runs = (executions.get(id) ?? []).map((e) => `#${e.attempt}/lease ${e.leaseToken} by ${e.workerId.slice(-8)} (pid ${e.pid}) at ${e.at.toISOString().slice(11, 23)}`);
    if (!row) return `${id}: NOT IN THE DATABASE; executions: ${runs.join(', ') || 'none'}`;
    const errors = row.errors.slice(-3).map((e) => `${e.kind ?? '?'}${e.workerId ? ` (${e.workerId.slice(-8)})` : ''}`);
    return `${id} [${row.task}]: status=${row.status} attempt=${row.attempt} lease=${row.leaseToken} worker=${row.workerId?.slice(-8) ?? '-'} run_at=${row.runAt.toISOString().slice(11, 23)}` +
      `${row.leaseExpiresAt ? ` lease_expires=${row.leaseExpiresAt.toISOString().slice(11, 23)}` : ''} result=${JSON.stringify(row.result)} errors=[${errors.join(', ')}]; executions: ${runs.join(', ') || 'none'}`;
  };
  const section = (name: string, ids: readonly string[], explain: string): void => {
    if (ids.length === 0) return;
    lines.push(`${name} (${ids.length}): ${explain}`);
    for (const id of ids.slice(0, SHOW)) lines.push(`  ${describeJob(id)}`);
    if (ids.length > SHOW) lines.push(`  … and ${ids.length - SHOW} more`);
  };

  const lost = all.filter((id) => byId.get(id)?.status !== 'completed');
  const stale: string[] = [];
  const staleWhy = new Map<string, string>();
  for (const id of options.ledgerJobs) {
    const row = byId.get(id);
    if (row?.status !== 'completed') continue;
    const runs = executions.get(id) ?? [];
    const last = runs.reduce<Execution | null>((best, e) => (best === null || BigInt(e.leaseToken) > BigInt(best.leaseToken) ? e : best), null);
    const why = !last
      ? 'completed, but no execution is in the ledger'
      : String(row.result?.leaseToken) !== row.leaseToken
        ? `the stored result is from lease ${String(row.result?.leaseToken)}, the row's lease is ${row.leaseToken}`
        : row.result?.workerId !== row.workerId
          ? `the stored result is from worker ${String(row.result?.workerId)}, the row's worker is ${String(row.workerId)}`
          : last.leaseToken !== row.leaseToken
            ? `the last execution ran under lease ${last.leaseToken}, but the row completed under ${row.leaseToken}`
            : null;
    if (why) {
      stale.push(id);
      staleWhy.set(id, why);
    }
  }
  const stuck = pending.map((p) => p.id);
  let duplicates = 0;
  const excess: string[] = [];
  for (const id of options.ledgerJobs) {
    const extra = Math.max(0, (executions.get(id)?.length ?? 0) - (options.plannedExecutions?.get(id) ?? 1));
    duplicates += extra;
    const caught = options.faults.filter((f) => f.inFlight.includes(id)).length;
    if (extra > caught) excess.push(id);
  }
  const inFlightAtFaults = options.faults.reduce((n, f) => n + f.inFlight.length, 0);
  const deadProcesses = unexpectedExits(options.processes ?? []);

  section('LOST', lost, 'submitted, but not completed');
  if (stale.length > 0) {
    lines.push(`STALE (${stale.length}): a completion was accepted from a lease that was no longer the job's`);
    for (const id of stale.slice(0, SHOW)) lines.push(`  ${staleWhy.get(id)!}\n    ${describeJob(id)}`);
  }
  section('STUCK', stuck, 'still queued, scheduled or running after the load drained');
  section('EXCESS DUPLICATES', excess, 'ran more often than the faults that caught them in flight allow');
  if (deadProcesses) lines.push(`PROCESSES THAT EXITED (none may):\n${deadProcesses}`);
  const summary = `${options.title}: submitted ${all.length}, completed ${rows.filter((r) => r.status === 'completed').length}, executions ${ledger.length}, duplicates ${duplicates} (budget ${inFlightAtFaults} in flight at ${options.faults.length} faults)`;
  return {
    submitted: all.length,
    completed: rows.filter((r) => r.status === 'completed').length,
    executions: ledger.length,
    duplicates,
    inFlightAtFaults,
    lost,
    stale,
    stuck,
    excessDuplicates: excess,
    deadProcesses,
    message: lines.length === 0 ? '' : `${summary}\n${lines.join('\n')}`,
  };
}

/** Check and fail with the report's message when an invariant does not hold. */
export async function assertInvariants(db: Queryable, options: CheckOptions): Promise<InvariantReport> {
  const report = await checkInvariants(db, options);
  if (report.message) assert.fail(report.message);
  return report;
}

/** The ids of jobs running under `workerId`'s leases (for a {@link Fault}'s in-flight set). */
export async function runningOn(db: Queryable, workerId: string): Promise<string[]> {
  const { rows } = await retrying(() =>
    db.query<{ id: string }>(`SELECT id FROM jobplane.jobs WHERE status = 'running' AND worker_id = $1`, [workerId]),
  );
  return rows.map((r) => r.id);
}

/** How long after a fault a job it caught in flight ran again. */
export interface RerunDelay {
  jobId: string;
  fault: string;
  /** Null when it never ran again (see `settledByOldLease`). */
  delayMs: number | null;
  /** Worker of the re-run. */
  by: string | null;
  /**
   * It needed no re-run: the completion its worker had already sent before the fault landed
   * afterwards (the database finishes a statement whose client just died), under the old lease.
   */
  settledByOldLease: boolean;
}

/** For every job caught in flight by a fault: the delay from the fault to its next execution. */
export async function rerunDelays(db: Queryable, faults: readonly Fault[]): Promise<RerunDelay[]> {
  const ids = [...new Set(faults.flatMap((f) => f.inFlight))];
  const ledger = await retrying(() => readLedger(db, ids));
  const { rows } = await retrying(() =>
    db.query<{ id: string; status: string; leaseToken: string }>(
      `SELECT id, status, lease_token::text AS "leaseToken" FROM jobplane.jobs WHERE id = ANY($1::uuid[])`,
      [ids],
    ),
  );
  const final = new Map(rows.map((r) => [r.id, r]));
  const out: RerunDelay[] = [];
  for (const fault of faults) {
    for (const jobId of fault.inFlight) {
      const next = ledger.find((e) => e.jobId === jobId && e.at.getTime() > fault.at);
      const row = final.get(jobId);
      const settledByOldLease = !next && row?.status === 'completed' &&
        ledger.some((e) => e.jobId === jobId && e.at.getTime() <= fault.at && e.leaseToken === row.leaseToken);
      out.push({ jobId, fault: fault.label, delayMs: next ? next.at.getTime() - fault.at : null, by: next?.workerId ?? null, settledByOldLease });
    }
  }
  return out;
}

/**
 * How a worker fixture (test/fixtures/fault-worker.ts) ended each job it held at a fault, from its
 * IPC messages (`atFault` = how many it had sent by then): `refused` (its late report was fenced),
 * `dropped` (a heartbeat found the lease gone first), `accepted` (the database took a report from
 * the old lease: a broken fence), or `pending` (nothing yet).
 */
export function lateOutcomes(
  messages: ReadonlyArray<Record<string, unknown>>,
  atFault: number,
  jobIds: readonly string[],
): Map<string, 'refused' | 'dropped' | 'accepted' | 'pending'> {
  const out = new Map<string, 'refused' | 'dropped' | 'accepted' | 'pending'>();
  const before = messages.slice(0, atFault);
  const after = messages.slice(atFault);
  for (const id of jobIds) {
    // The lease it held: the one its handler started under before the fault (if it had started).
    const token = before.filter((m) => m.started === id).at(-1)?.leaseToken;
    const ended = after.find((m) => m.ended === id && (token === undefined || m.leaseToken === token));
    const outcome = !ended
      ? (after.some((m) => m.leaseLost === id) ? 'dropped' : 'pending')
      : ended.status !== null && ended.outcome !== 'dropped'
        ? 'accepted'
        : after.some((m) => m.refused === id)
          ? 'refused'
          : 'dropped';
    out.set(id, outcome);
  }
  return out;
}
