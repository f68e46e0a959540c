import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { STATS_LOOKBACK_MS, STATS_WINDOW_MAX_MINUTES, STATS_WINDOW_MIN_MINUTES, TARGET_BUCKETS } from '../../core/stats.js';
import type { Pool } from '../../db/pool.js';
import { readOverview } from '../../engine/stats-service.js';
import { principalOf } from '../plugins/auth.js';
import { problemResponses } from '../schemas/common.js';

const DEFAULT_WINDOW_MINUTES = 60;
const Count = Type.Integer({ minimum: 0 });

const StatsQuery = Type.Object(
  {
    windowMinutes: Type.Optional(Type.Integer({
      minimum: STATS_WINDOW_MIN_MINUTES,
      maximum: STATS_WINDOW_MAX_MINUTES,
      default: DEFAULT_WINDOW_MINUTES,
      description: `How far back the time series reaches, in minutes (${STATS_WINDOW_MIN_MINUTES}..${STATS_WINDOW_MAX_MINUTES}).`,
    })),
  },
  { additionalProperties: false },
);

const Stats = Type.Object({
  windowMinutes: Type.Integer(),
  from: Type.String({ format: 'date-time', description: 'Start of the first bucket.' }),
  to: Type.String({ format: 'date-time', description: 'End of the last bucket (the bucket holding now; it is still filling).' }),
  bucketMs: Type.Integer({ description: 'Width of every bucket, in milliseconds.' }),
  counts: Type.Object(
    { queued: Count, scheduled: Count, running: Count, completed: Count, failed: Count, cancelled: Count },
    { description: 'queued, scheduled and running: jobs in that status now. completed, failed and cancelled: jobs that finished so in the window.' },
  ),
  buckets: Type.Array(
    Type.Object({
      at: Type.String({ format: 'date-time', description: 'Start of the bucket.' }),
      completed: Count,
      failed: Count,
      started: Type.Integer({ minimum: 0, description: 'Jobs whose latest attempt started in the bucket.' }),
      latencyAvgMs: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: 'Mean enqueue→start latency (started_at - max(run_at, created_at): a job back-dated before its submit waits from the submit) of the jobs started in the bucket; null if none.' }),
      latencyP95Ms: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: '95th percentile of the same; null if none.' }),
    }),
  ),
});

const LOOKBACK_HOURS = STATS_LOOKBACK_MS / 3_600_000;

/** Dependencies of the stats route. */
export interface StatsRouteDeps {
  pool: Pool;
}

/** /api/v1/stats: counts and time series for the dashboard's overview. */
export async function statsRoutes(app: FastifyInstance, { pool }: StatsRouteDeps): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get('/api/v1/stats', {
    config: { permission: 'jobs:read' },
    schema: {
      tags: ['jobs'],
      summary: 'Job counts by status and throughput / latency over time',
      description:
        `Counts of the caller's tenant by status, and the window cut into about ${TARGET_BUCKETS} equal buckets ` +
        '(aligned to multiples of the bucket width, so repeated reads line up) with the jobs completed, failed and ' +
        'started in each and their enqueue→start latency (started_at - max(run_at, created_at); mean and 95th percentile, ms). ' +
        `Approximation: to keep the read cheap on a large table only jobs created at most ${LOOKBACK_HOURS} hours before ` +
        'the window starts are looked at (job ids are time-ordered, so this is a primary-key range); a job that waited ' +
        'or ran longer than that before finishing in the window, or a manual retry of an older job, is not counted. ' +
        'A retried job counts once, at its latest start and finish.',
      querystring: StatsQuery,
      response: { 200: Stats, ...problemResponses },
    },
  }, async (request) => {
    const { tenantId } = principalOf(request);
    const windowMinutes = request.query.windowMinutes ?? DEFAULT_WINDOW_MINUTES;
    const stats = await readOverview(pool, tenantId, windowMinutes);
    return {
      windowMinutes,
      from: new Date(stats.plan.fromMs).toISOString(),
      to: new Date(stats.plan.toMs).toISOString(),
      bucketMs: stats.plan.bucketMs,
      counts: stats.counts,
      buckets: stats.buckets.map((b) => ({
        at: new Date(b.startMs).toISOString(),
        completed: b.completed,
        failed: b.failed,
        started: b.started,
        latencyAvgMs: b.latencyAvgMs,
        latencyP95Ms: b.latencyP95Ms,
      })),
    };
  });
}
