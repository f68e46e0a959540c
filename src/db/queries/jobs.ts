/**
 * The statements of a job's hot path: insert, claim, lease renewal, output and the fenced report.
 * Over 400 lines on purpose: each statement carries its contract and plan next to it, and they
 * share the partial indexes (one per status) whose use is easiest to check when read together.
 */
import type { JobChange } from '../../core/live-events.js';
import type { AttemptError } from './job-rows.js';
import type { Queryable } from '../pool.js';
import { JOB_CHANGE_COLUMNS } from './event-channel.js';

/** Channel on which committed enqueues wake workers. The payload is empty: it is only a hint. */
export const JOBS_CHANNEL = 'jobplane_jobs';
/**
 * Channel on which the maintenance leader's placer hears of new jobs that wait for placement
 * (placement other than 'any'). Kept apart from {@link JOBS_CHANNEL} so that ordinary submits,
 * thousands a second, do not each wake the scheduler for a pass.
 */
export const PLACEMENT_CHANNEL = 'jobplane_place';
/** Channel on which cancel requests for running jobs reach in-process workers (payload: job id). */
export const CANCEL_CHANNEL = 'jobplane_cancel';

/**
 * A job ready to insert: validated and normalised by `src/core/job-spec.ts`. Optional keys are
 * NULL in the row when absent.
 */
export interface NewJobRow {
  id: string;
  tenant_id: string;
  queue: string;
  task: string;
  payload: unknown;
  priority: number;
  /** Absolute due time; when absent the job is due `delay_ms` after now (database clock). */
  run_at?: string;
  delay_ms: number;
  max_attempts: number;
  backoff?: Record<string, unknown>;
  timeout_ms?: number;
  idempotency_key?: string;
  labels?: Record<string, string>;
  placement: 'any' | 'zone' | 'worker' | 'greenest';
  placement_zone?: string;
  placement_worker?: string;
  deadline_at?: string;
  schedule_id?: string;
  fire_at?: string;
  trace_parent?: string;
  created_by?: string;
  /** Defaults to the transaction's start; a schedule's fire prepared ahead sets its fire time. */
  created_at?: string;
}

/** What an insert returns per job. */
export interface InsertedJob {
  id: string;
  status: 'queued';
  runAt: Date;
  createdAt: Date;
}

/**
 * Insert jobs in one statement. The whole batch travels as one JSON document and is unpacked by
 * `json_to_recordset`, which is far cheaper than a parameter per column per row and keeps the
 * statement text constant (so it can be prepared). Rows whose idempotency key already exists are
 * skipped; the caller looks those up with {@link findByIdempotencyKeys}.
 * Params: $1 json array of NewJobRow.
 */
export async function insertJobs(db: Queryable, rows: readonly NewJobRow[]): Promise<InsertedJob[]> {
  if (rows.length === 0) return [];
  const { rows: inserted } = await db.query<InsertedJob>({
    name: 'jobplane_insert_jobs',
    text: `INSERT INTO jobplane.jobs (id, tenant_id, queue, task, payload, priority, run_at, max_attempts, backoff,
             timeout_ms, idempotency_key, labels, placement, placement_zone, placement_worker, deadline_at,
             schedule_id, fire_at, trace_parent, created_by, created_at)
           SELECT x.id, x.tenant_id, x.queue, x.task, coalesce(x.payload, 'null'::jsonb), x.priority,
             coalesce(x.run_at, now() + x.delay_ms * interval '1 millisecond'), x.max_attempts, x.backoff,
             x.timeout_ms, x.idempotency_key, x.labels, x.placement, x.placement_zone, x.placement_worker,
             x.deadline_at, x.schedule_id, x.fire_at, x.trace_parent, x.created_by, coalesce(x.created_at, now())
           FROM json_to_recordset($1::json) AS x(id uuid, tenant_id uuid, queue text, task text, payload jsonb,
             priority smallint, run_at timestamptz, delay_ms bigint, max_attempts integer, backoff jsonb,
             timeout_ms integer, idempotency_key text, labels jsonb, placement text, placement_zone text,
             placement_worker text, deadline_at timestamptz, schedule_id uuid, fire_at timestamptz,
             trace_parent text, created_by text, created_at timestamptz)
           ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
           RETURNING id, status, run_at AS "runAt", created_at AS "createdAt"`,
    values: [JSON.stringify(rows)],
  });
  return inserted;
}

/** An existing job found by idempotency key. */
export interface ExistingJob {
  id: string;
  tenantId: string;
  idempotencyKey: string;
  status: string;
  runAt: Date;
  createdAt: Date;
}

/** Look up jobs by (tenant, idempotency key) pairs. */
export async function findByIdempotencyKeys(
  db: Queryable,
  pairs: ReadonlyArray<{ tenantId: string; key: string }>,
): Promise<ExistingJob[]> {
  if (pairs.length === 0) return [];
  const { rows } = await db.query<ExistingJob>(
    `SELECT j.id, j.tenant_id AS "tenantId", j.idempotency_key AS "idempotencyKey", j.status,
            j.run_at AS "runAt", j.created_at AS "createdAt"
     FROM unnest($1::uuid[], $2::text[]) AS k(tenant_id, key)
     JOIN jobplane.jobs j ON j.tenant_id = k.tenant_id AND j.idempotency_key = k.key`,
    [pairs.map((p) => p.tenantId), pairs.map((p) => p.key)],
  );
  return rows;
}

/**
 * Wake listening workers, and the placer too when some of the new jobs wait for placement (or
 * may: a retried or rescheduled job keeps its placement). Outside a transaction this is cheap: it
 * writes no WAL.
 */
export async function notifyNewJobs(db: Queryable, placement = false): Promise<void> {
  await db.query(
    placement
      ? { name: 'jobplane_notify_jobs_placed', text: `SELECT pg_notify('${JOBS_CHANNEL}', ''), pg_notify('${PLACEMENT_CHANNEL}', '')` }
      : { name: 'jobplane_notify_jobs', text: `SELECT pg_notify('${JOBS_CHANNEL}', '')` },
  );
}

/** Whether any of `rows` waits for the placer. */
export function needsPlacement(rows: readonly Pick<NewJobRow, 'placement'>[]): boolean {
  return rows.some((r) => r.placement !== 'any');
}

/** Which jobs a worker may claim. */
export interface ClaimFilter {
  workerId: string;
  /** Task names the worker has handlers for. */
  tasks: readonly string[];
  /** Queues to serve; null serves every queue. */
  queues: readonly string[] | null;
  /** Tenant to serve; null serves every tenant. */
  tenantId: string | null;
  /** The worker's zone, for jobs placed on a zone. */
  zone: string | null;
}

/** A claimed job, as handed to a handler. */
export interface ClaimedJob {
  id: string;
  tenantId: string;
  queue: string;
  task: string;
  payload: unknown;
  priority: number;
  attempt: number;
  attemptBase: number;
  maxAttempts: number;
  backoff: Record<string, unknown> | null;
  timeoutMs: number | null;
  leaseToken: string;
  idempotencyKey: string | null;
  labels: Record<string, string> | null;
  scheduleId: string | null;
  fireAt: Date | null;
  createdAt: Date;
  runAt: Date;
  traceParent: string | null;
}

const CLAIMED_COLUMNS = `j.id, j.tenant_id AS "tenantId", j.queue, j.task, j.payload, j.priority, j.attempt,
  j.attempt_base AS "attemptBase", j.max_attempts AS "maxAttempts", j.backoff, j.timeout_ms AS "timeoutMs",
  j.lease_token AS "leaseToken", j.idempotency_key AS "idempotencyKey", j.labels, j.schedule_id AS "scheduleId",
  j.fire_at AS "fireAt", j.created_at AS "createdAt", j.run_at AS "runAt", j.trace_parent AS "traceParent"`;

/** The filter shared by both claim paths. $2 tasks, $3 queues (null = all), $4 tenant (null = all). */
const CLAIM_FILTER = `j.task = ANY($2::text[])
    AND ($3::text[] IS NULL OR j.queue = ANY($3::text[]))
    AND ($4::uuid IS NULL OR j.tenant_id = $4::uuid)
    AND NOT EXISTS (SELECT 1 FROM jobplane.queues q
      WHERE q.tenant_id = j.tenant_id AND q.name = j.queue AND (q.paused OR q.concurrency_limit IS NOT NULL))`;

/**
 * Claim up to `limit` due jobs in one statement (docs/decisions.md #6): jobs placed on this worker or its zone
 * first, then unplaced jobs by priority then due time. `FOR UPDATE SKIP LOCKED` lets concurrent
 * workers pass each other without waiting. Queues that are paused or have a concurrency limit are
 * left out here; limited queues are claimed by {@link claimLimitedJobs}, which counts under a lock.
 *
 * Plan shape matters at 20,000 jobs/s: both candidate scans walk their partial index in ORDER BY
 * order and stop at the LIMIT, and the update reaches rows through the primary key
 * (`id = ANY(ARRAY(…))`).
 *
 * The LIMIT is a constant, one prepared statement per size in {@link CLAIM_SIZES} (the caller
 * gets at most {@link claimSizeFor}(limit) jobs). With a parameter there, PostgreSQL cannot cost a
 * generic plan (it assumes a tenth of the queue) and plans every execution anew: measured 0.4–1.0
 * ms of planning per claim, more than the claim itself. With a constant, the cached generic plan
 * is taken after five executions (planning 0.03 ms). `test/integration/claim-plan.test.ts`
 * checks both the plan and that it is cached.
 * Params: $1 worker id, $2 tasks, $3 queues, $4 tenant, $5 zone, $6 lease ms.
 */
export async function claimJobs(
  db: Queryable,
  filter: ClaimFilter,
  limit: number,
  leaseMs: number,
): Promise<ClaimedJob[]> {
  const size = claimSizeFor(limit);
  if (size === 0) return [];
  const { rows } = await db.query<ClaimedJob>({
    name: `jobplane_claim_jobs_${size}`,
    text: claimStatement(size),
    values: [filter.workerId, filter.tasks, filter.queues, filter.tenantId, filter.zone, leaseMs],
  });
  return rows;
}

/**
 * Claim sizes with a prepared statement each (see {@link claimJobs}): every size up to 4, then
 * steps of about 1.5×, so rounding down loses at most a third of a batch.
 */
export const CLAIM_SIZES: readonly number[] = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512];

/** The largest claim size not above `limit` (0 below 1). */
export function claimSizeFor(limit: number): number {
  let size = 0;
  for (const s of CLAIM_SIZES) {
    if (s > limit) break;
    size = s;
  }
  return size;
}

const claimStatements = new Map<number, string>();

/** The claim statement for one size (built once per size). */
function claimStatement(size: number): string {
  let text = claimStatements.get(size);
  if (text === undefined) {
    text = `WITH placed AS (
        SELECT j.id FROM jobplane.jobs j
        WHERE j.status = 'scheduled' AND j.run_at <= now()
          AND (j.assigned_worker = $1 OR j.assigned_zone = $5::text) AND ${CLAIM_FILTER}
        ORDER BY j.priority DESC, j.run_at, j.id
        LIMIT ${size} FOR UPDATE SKIP LOCKED
      ), free AS (
        SELECT j.id FROM jobplane.jobs j
        WHERE j.status = 'queued' AND j.placement = 'any' AND j.run_at <= now() AND ${CLAIM_FILTER}
        ORDER BY j.priority DESC, j.run_at, j.id
        LIMIT ${size} FOR UPDATE SKIP LOCKED
      )
      UPDATE jobplane.jobs j
      SET status = 'running', attempt = j.attempt + 1, lease_token = j.lease_token + 1,
          lease_expires_at = now() + $6 * interval '1 millisecond', worker_id = $1, started_at = now(),
          cancel_requested_at = NULL
      WHERE j.id = ANY (ARRAY(SELECT id FROM placed UNION ALL SELECT id FROM free LIMIT ${size}))
      RETURNING ${CLAIMED_COLUMNS}`;
    claimStatements.set(size, text);
  }
  return text;
}

/** A queue with a concurrency limit that this worker serves. */
export interface LimitedQueue {
  tenantId: string;
  name: string;
  concurrencyLimit: number;
}

/** Queues with a concurrency limit (and not paused) matching the filter. */
export async function listLimitedQueues(db: Queryable, filter: ClaimFilter): Promise<LimitedQueue[]> {
  const { rows } = await db.query<LimitedQueue>(
    `SELECT tenant_id AS "tenantId", name, concurrency_limit AS "concurrencyLimit" FROM jobplane.queues
     WHERE concurrency_limit IS NOT NULL AND NOT paused
       AND ($1::text[] IS NULL OR name = ANY($1::text[])) AND ($2::uuid IS NULL OR tenant_id = $2::uuid)`,
    [filter.queues, filter.tenantId],
  );
  return rows;
}

/**
 * Claim from queues with a global concurrency limit. The queue rows are locked first (blocking,
 * in a fixed order), and the count of running jobs is read by the *next* statement, whose fresh
 * snapshot sees every claim committed by whoever held the lock before us. `tx` must be inside a
 * transaction.
 */
export async function claimLimitedJobs(
  tx: Queryable,
  filter: ClaimFilter,
  queues: readonly LimitedQueue[],
  limit: number,
  leaseMs: number,
): Promise<ClaimedJob[]> {
  if (queues.length === 0 || limit <= 0) return [];
  await tx.query(
    `SELECT 1 FROM jobplane.queues q JOIN unnest($1::uuid[], $2::text[]) AS k(tenant_id, name)
       ON q.tenant_id = k.tenant_id AND q.name = k.name
     ORDER BY q.tenant_id, q.name FOR UPDATE OF q`,
    [queues.map((q) => q.tenantId), queues.map((q) => q.name)],
  );
  const { rows } = await tx.query<ClaimedJob>(
    `WITH lq AS (
        SELECT q.tenant_id, q.name, greatest(q.concurrency_limit - (
          SELECT count(*) FROM jobplane.jobs r
          WHERE r.status = 'running' AND r.tenant_id = q.tenant_id AND r.queue = q.name), 0) AS free
        FROM jobplane.queues q JOIN unnest($5::uuid[], $6::text[]) AS k(tenant_id, name)
          ON q.tenant_id = k.tenant_id AND q.name = k.name
        WHERE q.concurrency_limit IS NOT NULL AND NOT q.paused
      ), cand AS (
        SELECT c.id FROM lq CROSS JOIN LATERAL (
          SELECT j.id, j.priority, j.run_at FROM jobplane.jobs j
          WHERE j.tenant_id = lq.tenant_id AND j.queue = lq.name AND j.run_at <= now()
            AND ((j.status = 'queued' AND j.placement = 'any')
              OR (j.status = 'scheduled' AND (j.assigned_worker = $1 OR j.assigned_zone = $7::text)))
            AND j.task = ANY($2::text[]) AND ($4::uuid IS NULL OR j.tenant_id = $4::uuid)
          ORDER BY j.priority DESC, j.run_at, j.id
          LIMIT lq.free FOR UPDATE SKIP LOCKED) c
        ORDER BY c.priority DESC, c.run_at
        LIMIT $3
      )
      UPDATE jobplane.jobs j
      SET status = 'running', attempt = j.attempt + 1, lease_token = j.lease_token + 1,
          lease_expires_at = now() + $8 * interval '1 millisecond', worker_id = $1, started_at = now(),
          cancel_requested_at = NULL
      FROM cand WHERE j.id = cand.id
      RETURNING ${CLAIMED_COLUMNS}`,
    [
      filter.workerId,
      filter.tasks,
      limit,
      filter.tenantId,
      queues.map((q) => q.tenantId),
      queues.map((q) => q.name),
      filter.zone,
      leaseMs,
    ],
  );
  return rows;
}

/** A finished attempt to record. Every report is fenced by (id, leaseToken). */
export type AttemptReport =
  | { kind: 'completed'; id: string; leaseToken: string; resultJson: string }
  | { kind: 'retry'; id: string; leaseToken: string; error: AttemptError; delayMs: number }
  | { kind: 'failed'; id: string; leaseToken: string; error: AttemptError }
  | { kind: 'cancelled'; id: string; leaseToken: string; error: AttemptError }
  | { kind: 'released'; id: string; leaseToken: string };

/** The outcome of recording reports: which were accepted, and the status each job ended in. */
export interface ReportResult {
  /** Job id → new status, for accepted reports. A missing id was fenced (lease lost). */
  accepted: Map<string, string>;
  /** The accepted jobs as they are now (for live events). */
  changes: JobChange[];
}

/**
 * The status a report moves a running job to; refers to the old row (`j`) and the report (`x`).
 * Retry, fail or cancel was decided by the worker in `src/core/attempt-outcome.ts` from the
 * counters it claimed the job with (the lease token fences them: they cannot change while it
 * holds the lease). Only the cancel request is read here, from the row: this CASE is
 * `finalStatus` of that module, written in SQL so a batch of reports needs no read first
 * (`test/integration/attempt-outcome-sql.test.ts` checks the two agree on every case).
 */
const NEXT_STATUS = `(CASE
    WHEN x.kind = 'completed' THEN 'completed'
    WHEN x.kind = 'cancelled' OR j.cancel_requested_at IS NOT NULL THEN 'cancelled'
    WHEN x.kind = 'failed' THEN 'failed'
    ELSE 'queued' END)`;

/**
 * Record a batch of finished attempts in one statement (one UPDATE … FROM, no self-join: the
 * rows are reached through the primary key), each fenced by its lease token: a report from a
 * worker that no longer holds the lease changes nothing. `released` puts a job back without
 * burning the attempt (shutdown). The lease token is bumped on release so a handler that
 * finishes later cannot report.
 * Params: $1 json array of {id, token, kind, result, error, delay_ms}, $2 the ids.
 */
export async function recordReports(db: Queryable, reports: readonly AttemptReport[]): Promise<ReportResult> {
  if (reports.length === 0) return { accepted: new Map(), changes: [] };
  const payload = reports.map((r) => ({
    id: r.id,
    token: r.leaseToken,
    kind: r.kind,
    result: r.kind === 'completed' ? r.resultJson : null,
    error: 'error' in r ? r.error : null,
    delay_ms: r.kind === 'retry' ? r.delayMs : 0,
  }));
  const { rows } = await db.query<JobChange>({
    name: 'jobplane_record_reports_v2',
    text: `UPDATE jobplane.jobs j SET
        status = ${NEXT_STATUS},
        result = CASE WHEN x.kind = 'completed' THEN x.result::jsonb ELSE j.result END,
        errors = CASE WHEN x.error IS NULL THEN j.errors ELSE j.errors || jsonb_build_array(x.error) END,
        run_at = CASE WHEN x.kind = 'released' THEN now()
                      WHEN x.kind = 'retry' AND ${NEXT_STATUS} = 'queued' THEN now() + x.delay_ms * interval '1 millisecond'
                      ELSE j.run_at END,
        attempt = CASE WHEN x.kind = 'released' THEN j.attempt - 1 ELSE j.attempt END,
        lease_token = CASE WHEN x.kind = 'released' THEN j.lease_token + 1 ELSE j.lease_token END,
        finished_at = CASE WHEN ${NEXT_STATUS} = 'queued' THEN NULL ELSE now() END,
        lease_expires_at = NULL,
        assigned_zone = NULL,
        assigned_worker = NULL
      FROM json_to_recordset($1::json) AS x(id uuid, token bigint, kind text, result text, error jsonb, delay_ms bigint)
      WHERE j.id = ANY($2::uuid[]) AND j.id = x.id AND j.lease_token = x.token AND j.status = 'running'
      RETURNING ${JOB_CHANGE_COLUMNS}`,
    // The id array lets the planner reach rows through the primary key instead of hashing every
    // running job: the cost stays proportional to the batch, not to the fleet.
    values: [JSON.stringify(payload), reports.map((r) => r.id)],
  });
  return { accepted: new Map(rows.map((r) => [r.id, r.status])), changes: rows };
}

/** A lease to renew. */
export interface HeldLease {
  id: string;
  leaseToken: string;
}

/** Per-job answer to a heartbeat. */
export interface LeaseRenewal {
  id: string;
  cancelRequested: boolean;
}

/**
 * Extend the leases a worker still holds. Jobs missing from the answer were lost (rescued or
 * cancelled and revoked); the worker must abort them and not report. lease_expires_at is in no
 * index, so this update can be HOT.
 * Params: $1 ids, $2 tokens, $3 lease ms.
 */
export async function renewLeases(db: Queryable, leases: readonly HeldLease[], leaseMs: number): Promise<LeaseRenewal[]> {
  if (leases.length === 0) return [];
  const { rows } = await db.query<LeaseRenewal>({
    name: 'jobplane_renew_leases',
    text: `UPDATE jobplane.jobs j SET lease_expires_at = now() + $3 * interval '1 millisecond'
      FROM unnest($1::uuid[], $2::bigint[]) AS x(id, token)
      WHERE j.id = ANY($1::uuid[]) AND j.id = x.id AND j.lease_token = x.token AND j.status = 'running'
      RETURNING j.id, j.cancel_requested_at IS NOT NULL AS "cancelRequested"`,
    values: [leases.map((l) => l.id), leases.map((l) => l.leaseToken), leaseMs],
  });
  return rows;
}

/** A progress value or log line from a running attempt. */
export interface AttemptOutput {
  id: string;
  leaseToken: string;
  attempt: number;
  /** JSON text of the latest progress value, if it changed. */
  progressJson: string | null;
  logs: Array<{ level: string; message: string; fields: Record<string, unknown> | null; at: string }>;
}

/**
 * Store progress and log lines, fenced by the lease token: output of an attempt that lost its
 * lease is dropped. Params: $1 json array.
 */
export async function recordOutput(db: Queryable, outputs: readonly AttemptOutput[]): Promise<void> {
  if (outputs.length === 0) return;
  await db.query({
    name: 'jobplane_record_output',
    text: `WITH x AS (
        SELECT * FROM json_to_recordset($1::json) AS x(id uuid, token bigint, attempt integer, progress text, logs json)
      ), live AS (
        SELECT x.* FROM x JOIN jobplane.jobs j ON j.id = x.id AND j.lease_token = x.token AND j.status = 'running'
      ), progressed AS (
        UPDATE jobplane.jobs j SET progress = live.progress::jsonb FROM live
        WHERE j.id = live.id AND live.progress IS NOT NULL
      )
      INSERT INTO jobplane.job_logs (job_id, attempt, level, message, fields, at)
      SELECT live.id, live.attempt, l.level, l.message, l.fields, l.at
      FROM live CROSS JOIN LATERAL json_to_recordset(live.logs) AS l(level text, message text, fields jsonb,
        at timestamptz)`,
    values: [
      JSON.stringify(
        outputs.map((o) => ({ id: o.id, token: o.leaseToken, attempt: o.attempt, progress: o.progressJson, logs: o.logs })),
      ),
    ],
  });
}
