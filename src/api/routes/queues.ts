import type { EventSink } from '../../core/live-events.js';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Pool } from '../../db/pool.js';
import { listWorkers } from '../../engine/worker-directory.js';
import { changeQueue, listQueues, type QueueSettings, type QueueStats } from '../../engine/queue-service.js';
import type { Auditor } from '../plugins/audit.js';
import { principalOf } from '../plugins/auth.js';
import { problemResponses } from '../schemas/common.js';
import type { Clock } from '../../core/deps.js';

const THROUGHPUT_WINDOW_MS = 5 * 60_000;

const Queue = Type.Object({
  name: Type.String(),
  paused: Type.Boolean(),
  concurrencyLimit: Type.Union([Type.Integer(), Type.Null()]),
  counts: Type.Record(Type.String(), Type.Integer()),
  completedLast5m: Type.Integer(),
  failedLast5m: Type.Integer(),
});
const NameParams = Type.Object({ name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$' }) }, { additionalProperties: false });

function queueView(name: string, settings: QueueSettings | undefined, stats?: QueueStats) {
  return {
    name,
    paused: settings?.paused ?? false,
    concurrencyLimit: settings?.concurrencyLimit ?? null,
    counts: stats?.counts ?? {},
    completedLast5m: stats?.completedRecently ?? 0,
    failedLast5m: stats?.failedRecently ?? 0,
  };
}

/** Dependencies of the queue and worker routes. */
export interface QueueRouteDeps {
  pool: Pool;
  audit: Auditor;
  /** A worker whose heartbeat is older than this is not listed. */
  workerStaleMs: number;
  liveEvents: EventSink;
  clock: Clock;
}

/** /api/v1/queues (counts, throughput, pause/resume, concurrency) and /api/v1/workers. */
export async function queueRoutes(app: FastifyInstance, deps: QueueRouteDeps): Promise<void> {
  const { pool, audit } = deps;
  const options = deps;
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get('/api/v1/queues', {
    config: { permission: 'queues:read' },
    schema: { tags: ['queues'], summary: 'Queues with job counts by status and recent throughput', description: 'A queue is listed while it has jobs, or is paused or has a concurrency limit (a paused empty queue is listed with no jobs; resumed with no limit and no jobs, it is gone).', response: { 200: Type.Object({ queues: Type.Array(Queue) }), ...problemResponses } },
  }, async (request) => {
    const { tenantId } = principalOf(request);
    const queues = await listQueues(pool, tenantId, THROUGHPUT_WINDOW_MS);
    return { queues: queues.map((q) => queueView(q.name, q.settings, q.stats)) };
  });

  const change = (action: string, summary: string, body: ReturnType<typeof Type.Object> | null, toChange: (b: { limit?: number | null }) => { paused?: boolean; concurrencyLimit?: number | null }) =>
    r.route({
      method: body ? 'PUT' : 'POST',
      url: `/api/v1/queues/:name/${action}`,
      config: { permission: 'queues:write' },
      schema: { tags: ['queues'], summary, params: NameParams, ...(body ? { body } : {}), response: { 200: Queue, ...problemResponses } },
      handler: async (request) => {
        const { tenantId } = principalOf(request);
        const { name } = request.params;
        const { before, after } = await changeQueue(pool, { tenantId }, name, toChange(request.body ?? {}));
        const view = queueView(name, after);
        options.liveEvents.publish([{ type: 'queue', tenantId, queue: name, action: action === 'pause' ? 'paused' : action === 'resume' ? 'resumed' : 'limit', at: new Date(deps.clock.nowMs()).toISOString() }]);
        await audit(request, { action: `queue.${action}`, targetType: 'queue', targetId: name, before: before ? queueView(name, before) : null, after: view });
        return view;
      },
    });
  change('pause', 'Pause a queue: its jobs stay queued until resumed', null, () => ({ paused: true }));
  change('resume', 'Resume a queue', null, () => ({ paused: false }));
  change(
    'concurrency',
    'Set (or clear with null) how many of the queue’s jobs may run at once across all workers',
    Type.Object({ limit: Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000 }), Type.Null()]) }, { additionalProperties: false }),
    (b) => ({ concurrencyLimit: b.limit ?? null }),
  );

  r.get('/api/v1/workers', {
    config: { permission: 'workers:read' },
    schema: {
      tags: ['workers'],
      summary: 'Live workers: zone, tasks, heartbeat and running jobs',
      response: {
        200: Type.Object({
          workers: Type.Array(Type.Object({
            id: Type.String(), name: Type.String(), kind: Type.String(), zone: Type.Union([Type.String(), Type.Null()]),
            tasks: Type.Array(Type.String()), queues: Type.Union([Type.Array(Type.String()), Type.Null()]),
            labels: Type.Record(Type.String(), Type.String()),
            concurrency: Type.Integer(), running: Type.Integer(), hostname: Type.Union([Type.String(), Type.Null()]),
            startedAt: Type.String(), lastHeartbeatAt: Type.String(), heartbeatAgeMs: Type.Integer(),
          })),
        }),
        ...problemResponses,
      },
    },
  }, async (request) => {
    const rows = await listWorkers(pool, principalOf(request).tenantId, options.workerStaleMs);
    const now = deps.clock.nowMs();
    return {
      workers: rows.map((w) => ({
        id: w.id, name: w.name, kind: w.kind, zone: w.zone, tasks: w.tasks, queues: w.queues, labels: w.labels ?? {}, concurrency: w.concurrency,
        running: w.running, hostname: w.hostname, startedAt: w.startedAt.toISOString(), lastHeartbeatAt: w.lastHeartbeatAt.toISOString(),
        heartbeatAgeMs: Math.max(0, now - w.lastHeartbeatAt.getTime()),
      })),
    };
  });
}
