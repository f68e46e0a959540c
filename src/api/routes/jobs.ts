import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf } from '../../core/access.js';
import { jobEvent, type EventSink } from '../../core/live-events.js';
import type { JobSpec } from '../../core/job-spec.js';
import type { Pool } from '../../db/pool.js';
import { cancelJob, readJob, readJobLogs, rescheduleJob, retryJob, searchJobs, type Actor, type JobEdit } from '../../engine/job-service.js';
import type { JobProducer } from '../../engine/producer.js';
import { DEFAULT_SUBMIT_POLICY, type SubmitPolicy } from '../../engine/submit-checks.js';
import { requestTraceParent } from '../plugins/tracing.js';
import type { Auditor } from '../plugins/audit.js';
import { principalOf } from '../plugins/auth.js';
import { IdParams, problemResponses } from '../schemas/common.js';
import { Job, JobSubmit, jobDetailView, jobView } from '../schemas/jobs.js';
import type { TaskService } from '../../engine/task-service.js';
import { TaskWarning } from './tasks.js';
import type { Clock } from '../../core/deps.js';

/** Dependencies of the job routes. */
export interface JobRouteDeps {
  pool: Pool;
  producer: JobProducer;
  audit: Auditor;
  liveEvents: EventSink;
  /** Tasks refused, built-in payloads checked at submit time. @defaultValue {@link DEFAULT_SUBMIT_POLICY} */
  submitPolicy?: SubmitPolicy;
  /** Which tasks live workers handle: a submit for another one is answered with a warning (or refused, per tenant). */
  tasks: TaskService;
  /** Stamps the events of job actions, and is the actions' own clock. */
  clock: Clock;
}

/** A submitted job, with what the submit should know (a task no live worker handles). */
export const SubmittedJob = Type.Object({ ...Job.properties, warnings: Type.Optional(Type.Array(TaskWarning)) }, { $id: 'SubmittedJob' });

const JobList = Type.Object({ jobs: Type.Array(Type.Ref('Job')), nextCursor: Type.Union([Type.String(), Type.Null()]) });
const LogLine = Type.Object({ id: Type.String(), attempt: Type.Integer(), level: Type.String(), message: Type.String(), fields: Type.Unknown(), at: Type.String() });

/** /api/v1/jobs: submit, list, read, cancel, retry, reschedule, logs. */
export async function jobRoutes(app: FastifyInstance, deps: JobRouteDeps): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const actor = (principal: ReturnType<typeof principalOf>): Actor => ({ tenantId: principal.tenantId, name: actorOf(principal) });
  const policy = deps.submitPolicy ?? DEFAULT_SUBMIT_POLICY;
  /** Announce and audit a change; a repeated action that changed nothing is answered the same but neither. */
  const audited = async (request: FastifyRequest, action: string, change: JobEdit) => {
    const after = jobView(change.after);
    if (!change.changed) return after;
    deps.liveEvents.publish([jobEvent(change.after, new Date(deps.clock.nowMs()).toISOString())]);
    await deps.audit(request, { action, targetType: 'job', targetId: change.after.id, before: jobView(change.before), after });
    return after;
  };

  r.post('/api/v1/jobs', {
    config: { permission: 'jobs:write' },
    schema: {
      tags: ['jobs'],
      summary: 'Submit a job',
      description: 'An `Idempotency-Key` header (or `idempotencyKey` in the body) returns the existing job for a repeated key (200 instead of 201); the same key with a different task, queue, payload, priority or maxAttempts is a 422 `IDEMPOTENCY_CONFLICT`.',
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })) }),
      body: Type.Ref('JobSubmit'),
      response: { 200: Type.Ref('SubmittedJob'), 201: Type.Ref('SubmittedJob'), ...problemResponses, 422: Type.Ref('Problem') },
    },
  }, async (request, reply) => {
    const principal = principalOf(request);
    const spec = { ...(request.body as JobSpec) };
    const warnings = await deps.tasks.check(principal.tenantId, [{ pointer: '', task: spec.task }]);
    const headerKey = request.headers['idempotency-key'];
    if (typeof headerKey === 'string' && spec.idempotencyKey === undefined) spec.idempotencyKey = headerKey;
    const traceParent = requestTraceParent(request);
    // The producer runs the submit rules (policy, payloads, secrets, idempotent repeats), as for jp.jobs.add.
    const submitted = await deps.producer.add(spec, { tenantId: principal.tenantId, createdBy: actorOf(principal), policy, ...(traceParent ? { traceParent } : {}) });
    const row = await readJob(deps.pool, actor(principal), submitted.id);
    const view = jobView(row);
    if (submitted.created) await deps.audit(request, { action: 'job.submit', targetType: 'job', targetId: row.id, after: view });
    void reply.header('location', `/api/v1/jobs/${row.id}`);
    return reply.code(submitted.created ? 201 : 200).send(warnings.length > 0 ? { ...view, warnings } : view);
  });

  r.post('/api/v1/jobs/batch', {
    config: { permission: 'jobs:write' },
    schema: {
      tags: ['jobs'],
      summary: 'Submit up to 1,000 jobs in one request (one transaction per 1,000)',
      body: Type.Object({ jobs: Type.Array(Type.Ref('JobSubmit'), { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false }),
      response: {
        201: Type.Object({ jobs: Type.Array(Type.Object({ id: Type.String(), status: Type.String(), created: Type.Boolean() })), warnings: Type.Optional(Type.Array(TaskWarning)) }),
        ...problemResponses,
        422: Type.Ref('Problem'),
      },
    },
  }, async (request, reply) => {
    const principal = principalOf(request);
    const warnings = await deps.tasks.check(principal.tenantId, (request.body.jobs as JobSpec[]).map((job, i) => ({ pointer: `/jobs/${i}`, task: job.task })));
    const traceParent = requestTraceParent(request);
    const jobs = await deps.producer.addMany(request.body.jobs as JobSpec[], { tenantId: principal.tenantId, createdBy: actorOf(principal), policy, ...(traceParent ? { traceParent } : {}) }, '/jobs');
    const answer = jobs.map((j) => ({ id: j.id, status: j.status, created: j.created }));
    await deps.audit(request, { action: 'job.submit_batch', targetType: 'job', after: { count: answer.length, ids: answer.filter((j) => j.created).map((j) => j.id) } });
    return reply.code(201).send(warnings.length > 0 ? { jobs: answer, warnings } : { jobs: answer });
  });

  r.get('/api/v1/jobs', {
    config: { permission: 'jobs:read' },
    schema: {
      tags: ['jobs'],
      summary: 'List jobs, newest first',
      description: 'Filters combine. `since`/`until` bound the creation time; `q` searches text and is refused with 422 SEARCH_TOO_BROAD if it runs longer than 5 s.',
      querystring: Type.Object({
        status: Type.Optional(Type.String({ description: 'comma list, e.g. queued,running' })),
        queue: Type.Optional(Type.String({ maxLength: 128 })),
        task: Type.Optional(Type.String({ maxLength: 128 })),
        scheduleId: Type.Optional(Type.String({ format: 'uuid' })),
        since: Type.Optional(Type.String({ format: 'date-time', description: 'created at or after' })),
        until: Type.Optional(Type.String({ format: 'date-time', description: 'created before' })),
        q: Type.Optional(Type.String({ maxLength: 200, description: 'text in the id, task, queue or payload (case-insensitive)' })),
        cursor: Type.Optional(Type.String({ format: 'uuid' })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
      }, { additionalProperties: false }),
      response: { 200: JobList, ...problemResponses, 422: Type.Ref('Problem') },
    },
  }, async (request) => {
    const { jobs, nextCursor } = await searchJobs(deps.pool, actor(principalOf(request)), request.query);
    return { jobs: jobs.map(jobView), nextCursor };
  });

  r.get('/api/v1/jobs/:id', {
    config: { permission: 'jobs:read' },
    schema: { tags: ['jobs'], summary: 'Get a job', params: IdParams, response: { 200: Type.Ref('Job'), ...problemResponses } },
  }, async (request) => jobDetailView(await readJob(deps.pool, actor(principalOf(request)), request.params.id)));

  r.post('/api/v1/jobs/:id/cancel', {
    config: { permission: 'jobs:write' },
    schema: { tags: ['jobs'], summary: 'Cancel a job (queued: at once; running: the handler is asked to stop)', params: IdParams, response: { 200: Type.Ref('Job'), ...problemResponses, 409: Type.Ref('Problem') } },
  }, async (request) => audited(request, 'job.cancel', await cancelJob(deps.pool, actor(principalOf(request)), request.params.id, deps.clock)));

  r.post('/api/v1/jobs/:id/retry', {
    config: { permission: 'jobs:write' },
    schema: {
      tags: ['jobs'],
      summary: 'Retry a failed or cancelled job with a fresh run of attempts',
      description: 'Optional JSON body `{ "runAt": "<RFC 3339>" }`; without it the job is due at once.',
      params: IdParams,
      response: { 200: Type.Ref('Job'), ...problemResponses, 409: Type.Ref('Problem') },
    },
  }, async (request) => {
    // The body is optional for this action, so it is checked here rather than by a schema.
    const body: unknown = request.body;
    const runAt = typeof body === 'object' && body !== null ? (body as { runAt?: unknown }).runAt : undefined;
    return audited(request, 'job.retry', await retryJob(deps.pool, actor(principalOf(request)), request.params.id, { runAt }));
  });

  r.post('/api/v1/jobs/:id/reschedule', {
    config: { permission: 'jobs:write' },
    schema: {
      tags: ['jobs'],
      summary: 'Change when (and/or at which priority) a job that has not started runs',
      params: IdParams,
      body: Type.Object({ runAt: Type.Optional(Type.String()), priority: Type.Optional(Type.Integer({ minimum: -1000, maximum: 1000 })) }, { additionalProperties: false }),
      response: { 200: Type.Ref('Job'), ...problemResponses, 409: Type.Ref('Problem') },
    },
  }, async (request) => audited(request, 'job.reschedule', await rescheduleJob(deps.pool, actor(principalOf(request)), request.params.id, request.body)));

  r.get('/api/v1/jobs/:id/logs', {
    config: { permission: 'jobs:read' },
    schema: {
      tags: ['jobs'],
      summary: 'Log lines of a job, oldest first',
      params: IdParams,
      querystring: Type.Object({ after: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$' })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })) }, { additionalProperties: false }),
      response: { 200: Type.Object({ lines: Type.Array(LogLine) }), ...problemResponses },
    },
  }, async (request) => {
    const lines = await readJobLogs(deps.pool, actor(principalOf(request)), request.params.id, request.query);
    return { lines: lines.map((l) => ({ ...l, fields: l.fields ?? null, at: l.at.toISOString() })) };
  });
}

export { Job, JobSubmit };
