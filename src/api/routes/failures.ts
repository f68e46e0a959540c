import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { jobEvent, type EventSink } from '../../core/live-events.js';
import { MAX_FAILURE_GROUPS, MAX_RETRY_PER_CALL } from '../../core/failures.js';
import type { Pool } from '../../db/pool.js';
import { listFailures, retryFailureGroup } from '../../engine/failure-service.js';
import type { Auditor } from '../plugins/audit.js';
import { principalOf } from '../plugins/auth.js';
import { problemResponses } from '../schemas/common.js';
import type { Clock } from '../../core/deps.js';

const FailureGroup = Type.Object({
  task: Type.String(),
  message: Type.String({ description: 'the last error’s message, normalised (timestamps, UUIDs, long hex and numbers of 4+ digits replaced by `<time>`, `<uuid>`, `<hex>`, `<n>`); the group key with `task`' }),
  count: Type.Integer(),
  firstSeen: Type.String({ description: 'earliest failure (finished_at) in the group' }),
  lastSeen: Type.String({ description: 'latest failure (finished_at) in the group' }),
  sampleJobId: Type.String({ description: 'the group’s most recent failed job' }),
  sampleMessage: Type.String({ description: 'that job’s message as stored (not normalised)' }),
  kind: Type.Union([Type.String(), Type.Null()], { description: 'that job’s error kind (`error`, `permanent`, `timeout`, `lease-expired`)' }),
  queues: Type.Array(Type.String()),
});

const Since = Type.String({ format: 'date-time', description: 'jobs created at or after (RFC 3339); default 7 days ago' });
const Name = Type.String({ minLength: 1, maxLength: 128 });

/** Dependencies of the failure routes. */
export interface FailureRouteDeps {
  pool: Pool;
  clock: Clock;
  audit: Auditor;
  liveEvents: EventSink;
}

/** /api/v1/failures: failed jobs grouped by task and error, and "retry all in this group". */
export async function failureRoutes(app: FastifyInstance, deps: FailureRouteDeps): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get('/api/v1/failures', {
    config: { permission: 'jobs:read' },
    schema: {
      tags: ['jobs'],
      summary: 'Failed jobs grouped by task and last error message, largest group first',
      description:
        `Looks at jobs created since \`since\` that are now \`failed\`; at most ${MAX_FAILURE_GROUPS} groups (\`truncated\` says more exist). ` +
        'Numbers and ids in messages are normalised so they do not split a group. A scan that runs longer than 5 s is refused with 422 SEARCH_TOO_BROAD.',
      querystring: Type.Object({ since: Type.Optional(Since), task: Type.Optional(Name), queue: Type.Optional(Name) }, { additionalProperties: false }),
      response: {
        200: Type.Object({ since: Type.String(), groups: Type.Array(FailureGroup), truncated: Type.Boolean() }),
        ...problemResponses,
        422: Type.Ref('Problem'),
      },
    },
  }, async (request) => {
    const { since, groups, truncated } = await listFailures(deps.pool, principalOf(request).tenantId, request.query, deps.clock.nowMs());
    return {
      since: since.toISOString(),
      groups: groups.map((g) => ({ ...g, firstSeen: g.firstSeen.toISOString(), lastSeen: g.lastSeen.toISOString() })),
      truncated,
    };
  });

  r.post('/api/v1/failures/retry', {
    config: { permission: 'jobs:write' },
    schema: {
      tags: ['jobs'],
      summary: 'Retry every failed job of one group (task + message as GET /api/v1/failures returned them)',
      description:
        `Requeues up to ${MAX_RETRY_PER_CALL.toLocaleString('en')} jobs per call with a fresh run of attempts; \`more: true\` means call again. ` +
        'Give the same `since` (and `queue`) the list was read with.',
      body: Type.Object({
        task: Name,
        message: Type.String({ maxLength: 5000 }),
        since: Type.Optional(Since),
        queue: Type.Optional(Name),
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ retried: Type.Integer(), more: Type.Boolean() }), ...problemResponses, 422: Type.Ref('Problem') },
    },
  }, async (request) => {
    const { tenantId } = principalOf(request);
    const { task, message, queue } = request.body;
    const { since, changes, more } = await retryFailureGroup(deps.pool, tenantId, request.body, { now: deps.clock.nowMs() });
    if (changes.length > 0) {
      const at = new Date(deps.clock.nowMs()).toISOString();
      deps.liveEvents.publish(changes.map((c) => jobEvent(c, at)));
    }
    await deps.audit(request, {
      action: 'job.retry_group',
      targetType: 'job',
      after: { task, message, count: changes.length, since: since.toISOString(), queue: queue ?? null, more },
    });
    return { retried: changes.length, more };
  });
}
