import { fillBuckets, planBuckets, type Bucket, type BucketPlan, type BucketRow } from '../../core/stats.js';
import { uuidv7Floor } from '../ids.js';
import type { Queryable } from '../pool.js';

/** Jobs by status now (active ones) or finished in the window (terminal ones), and time buckets. */
export interface OverviewStats {
  plan: BucketPlan;
  counts: { queued: number; scheduled: number; running: number; completed: number; failed: number; cancelled: number };
  buckets: Bucket[];
}

/**
 * Jobs waiting or running right now. Each arm reads one of the per-status partial indexes
 * (jobs_claim_idx, jobs_unplaced_idx, jobs_placed_idx, jobs_running_idx), so the cost follows the
 * number of active jobs, never the size of the table.
 */
const ACTIVE_COUNTS = `
  SELECT 'queued' AS status, count(*)::int AS count FROM jobplane.jobs
   WHERE status = 'queued' AND placement = 'any' AND ($1::uuid IS NULL OR tenant_id = $1::uuid)
  UNION ALL
  SELECT 'queued', count(*)::int FROM jobplane.jobs
   WHERE status = 'queued' AND placement <> 'any' AND ($1::uuid IS NULL OR tenant_id = $1::uuid)
  UNION ALL
  SELECT 'scheduled', count(*)::int FROM jobplane.jobs
   WHERE status = 'scheduled' AND ($1::uuid IS NULL OR tenant_id = $1::uuid)
  UNION ALL
  SELECT 'running', count(*)::int FROM jobplane.jobs
   WHERE status = 'running' AND ($1::uuid IS NULL OR tenant_id = $1::uuid)`;

/**
 * Per bucket: jobs that finished (by finished_at), jobs that started (by started_at) and the
 * enqueue→start latency (started_at - max(run_at, created_at)) of the started ones. The scan is a primary-key
 * range: ids are UUID v7, so `id >= floor(createdAfter)` reads only jobs created since then.
 * Each job yields up to two events (its finish and its start), which may fall in different buckets.
 */
const BUCKETS = `
  SELECT b.bucket AS index,
         count(*) FILTER (WHERE e.kind = 1)::int AS completed,
         count(*) FILTER (WHERE e.kind = 2)::int AS failed,
         count(*) FILTER (WHERE e.kind = 3)::int AS cancelled,
         count(*) FILTER (WHERE e.kind = 0)::int AS started,
         avg(e.latency) FILTER (WHERE e.kind = 0) AS "latencyAvgMs",
         percentile_cont(0.95) WITHIN GROUP (ORDER BY e.latency) FILTER (WHERE e.kind = 0) AS "latencyP95Ms"
  FROM jobplane.jobs j
  -- kind 0: the start (with its latency); 1..3: the finish as completed, failed or cancelled.
  -- date_part (float8) rather than extract (numeric): measured 2x faster on 50,000 events.
  CROSS JOIN LATERAL (VALUES
    (CASE j.status WHEN 'completed' THEN 1 WHEN 'failed' THEN 2 ELSE 3 END, j.finished_at, NULL::float8),
    -- From when the job became due: a run_at before the submit (back-dated) is not time spent waiting.
    (0, j.started_at, greatest(0, date_part('epoch', j.started_at - greatest(j.run_at, j.created_at)) * 1000))
  ) AS e(kind, at, latency)
  CROSS JOIN LATERAL (SELECT floor((date_part('epoch', e.at) * 1000 - $3::float8) / $5::float8)::int AS bucket) AS b
  WHERE j.id >= $2::uuid
    AND ($1::uuid IS NULL OR j.tenant_id = $1::uuid)
    AND (j.finished_at >= to_timestamp($3::float8 / 1000) OR j.started_at >= to_timestamp($3::float8 / 1000))
    AND e.at >= to_timestamp($3::float8 / 1000) AND e.at < to_timestamp($4::float8 / 1000)
  GROUP BY b.bucket`;

/**
 * The overview of one tenant (`tenantId` null: every tenant) over the last `windowMinutes`, by the
 * database clock. Jobs created more than the plan's lookback before the window are not counted.
 */
export async function overviewStats(db: Queryable, tenantId: string | null, windowMinutes: number): Promise<OverviewStats> {
  const { rows: clock } = await db.query<{ now: number }>(`SELECT (extract(epoch FROM now()) * 1000)::float8 AS now`);
  const plan = planBuckets(windowMinutes, clock[0]!.now);
  const [active, buckets] = await Promise.all([
    db.query<{ status: string; count: number }>(ACTIVE_COUNTS, [tenantId]),
    db.query<BucketRow>(BUCKETS, [tenantId, uuidv7Floor(plan.createdAfterMs), plan.fromMs, plan.toMs, plan.bucketMs]),
  ]);
  const counts = { queued: 0, scheduled: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
  for (const row of active.rows) counts[row.status as 'queued' | 'scheduled' | 'running'] += row.count;
  for (const row of buckets.rows) {
    counts.completed += row.completed;
    counts.failed += row.failed;
    counts.cancelled += row.cancelled;
  }
  return { plan, counts, buckets: fillBuckets(plan, buckets.rows) };
}
