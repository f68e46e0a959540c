import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { checkJsonValue, NAME_PATTERN, TASK_PATTERN } from '../../core/validate.js';
import type { RemoteWorkerService } from '../../engine/remote-workers.js';
import { AppError } from '../../errors/index.js';
import { principalOf } from '../plugins/auth.js';
import { IdParams, problemResponses } from '../schemas/common.js';

/** Dependencies of the remote-worker routes. */
export interface RemoteWorkerRouteDeps {
  /** The process's remote-worker service (built by the caller: `src/server/api-services.ts`). */
  service: RemoteWorkerService;
}

/** The longest a claim may wait for a job (`waitMs`); the api's idle timeout must exceed it. */
export const MAX_CLAIM_WAIT_MS = 30_000;

const Uuid = Type.String({ format: 'uuid' });
const LeaseToken = Type.String({ pattern: '^[0-9]{1,19}$', description: 'The lease token from the claim (a decimal string)' });
const Name = Type.String({ pattern: NAME_PATTERN.source, maxLength: 128 });
const Labels = Type.Record(Type.String({ minLength: 1, maxLength: 64 }), Type.String({ maxLength: 256 }), { maxProperties: 64 });
const Accepted = Type.Object({ accepted: Type.Boolean({ description: 'false: the lease token is not current (the attempt was rescued, cancelled or reassigned); stop and report nothing more' }) });
const ReportAnswer = Type.Object({ accepted: Type.Boolean(), status: Type.Union([Type.String(), Type.Null()]) });
const JobParams = IdParams;

const RegisterBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 128 }),
  tasks: Type.Array(Type.String({ pattern: TASK_PATTERN.source, maxLength: 128 }), { minItems: 1, maxItems: 500, uniqueItems: true }),
  queues: Type.Optional(Type.Array(Name, { maxItems: 500, uniqueItems: true })),
  zone: Type.Optional(Name),
  labels: Type.Optional(Labels),
  capacity: Type.Integer({ minimum: 1, maximum: 10_000 }),
  hostname: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  version: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
}, { additionalProperties: false });

const RemoteJob = Type.Object({
  id: Type.String(),
  task: Type.String(),
  queue: Type.String(),
  payload: Type.Unknown(),
  attempt: Type.Integer(),
  maxAttempts: Type.Integer(),
  leaseToken: Type.String(),
  timeoutMs: Type.Union([Type.Integer(), Type.Null()]),
  labels: Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()]),
  createdAt: Type.String(),
  traceParent: Type.Union([Type.String(), Type.Null()], { description: 'W3C traceparent of the span that submitted the job: link (or parent) the attempt\'s span to it' }),
});

const LogLine = Type.Object({
  level: Type.Optional(Type.Union(['debug', 'info', 'warn', 'error'].map((l) => Type.Literal(l)))),
  message: Type.String({ maxLength: 16_384 }),
  fields: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
}, { additionalProperties: false });

/** Reject bodies that PostgreSQL cannot store (NUL, lone surrogates, too deep): a 400, never a 500. */
function storableBody(request: FastifyRequest): Promise<void> {
  const checked = checkJsonValue(request.body, '', { maxBytes: Number.MAX_SAFE_INTEGER, maxDepth: 40 });
  if (checked.errors.length === 0) return Promise.resolve();
  const first = checked.errors[0]!;
  return Promise.reject(new AppError('VALIDATION_FAILED', `${first.pointer || '/'}: ${first.message}`, { errors: checked.errors }));
}

/** An AbortSignal that fires when the client goes away before the answer is sent. */
function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  // The response's 'close' (not the request's, which fires once the body is read) marks a disconnect.
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

/**
 * /api/v1/worker: the remote-worker protocol (docs/remote-workers.md). Every route needs a key
 * (or user) with the `worker` permission; the tenant is the key's.
 */
export async function remoteWorkerRoutes(app: FastifyInstance, { service }: RemoteWorkerRouteDeps): Promise<void> {
  // preClose: waiting long-polls answer `{jobs: []}` at once instead of holding the app's close
  // (the service is closed for good: closing it again, as its owner does, is harmless).
  app.addHook('preClose', async () => { await service.close(); });
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tenant = (request: FastifyRequest): string => principalOf(request).tenantId;
  const common = { config: { permission: 'worker' as const }, preHandler: storableBody };

  r.post('/api/v1/worker/register', {
    ...common,
    schema: {
      tags: ['remote workers'],
      summary: 'Register a remote worker (a new id every time)',
      body: RegisterBody,
      response: { 201: Type.Object({ workerId: Type.String(), leaseMs: Type.Integer(), heartbeatMs: Type.Integer() }), ...problemResponses },
    },
  }, async (request, reply) => reply.code(201).send(await service.register(tenant(request), request.body)));

  r.post('/api/v1/worker/claim', {
    ...common,
    schema: {
      tags: ['remote workers'],
      summary: 'Claim due jobs, waiting up to waitMs for one (long-poll)',
      body: Type.Object({
        workerId: Uuid,
        max: Type.Integer({ minimum: 1, maximum: 100 }),
        waitMs: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_CLAIM_WAIT_MS, default: 0 })),
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ jobs: Type.Array(RemoteJob) }), ...problemResponses },
    },
  }, async (request, reply) => {
    const { workerId, max, waitMs } = request.body;
    const jobs = await service.claim(tenant(request), workerId, max, waitMs ?? 0, clientGone(reply));
    return { jobs };
  });

  r.post('/api/v1/worker/heartbeat', {
    ...common,
    schema: {
      tags: ['remote workers'],
      summary: 'Renew the leases of running jobs; learn which were lost or cancelled',
      body: Type.Object({
        workerId: Uuid,
        jobs: Type.Array(Type.Object({ id: Uuid, leaseToken: LeaseToken }, { additionalProperties: false }), { maxItems: 10_000 }),
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ renewed: Type.Array(Type.String()), lost: Type.Array(Type.String()), cancelled: Type.Array(Type.String()) }), ...problemResponses },
    },
  }, async (request) => service.heartbeat(tenant(request), request.body.workerId, request.body.jobs));

  r.post('/api/v1/worker/jobs/:id/progress', {
    ...common,
    schema: {
      tags: ['remote workers'],
      summary: 'Report the progress of a running attempt (any JSON value; the latest wins)',
      params: JobParams,
      body: Type.Object({ leaseToken: LeaseToken, progress: Type.Unknown() }, { additionalProperties: false }),
      response: { 200: Accepted, ...problemResponses },
    },
  }, async (request) => {
    const { leaseToken, progress } = request.body;
    return { accepted: await service.output(tenant(request), request.params.id, leaseToken, { value: progress }, []) };
  });

  r.post('/api/v1/worker/jobs/:id/logs', {
    ...common,
    schema: {
      tags: ['remote workers'],
      summary: 'Append log lines to a running attempt',
      params: JobParams,
      body: Type.Object({ leaseToken: LeaseToken, lines: Type.Array(LogLine, { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false }),
      response: { 200: Accepted, ...problemResponses },
    },
  }, async (request) => {
    const { leaseToken, lines } = request.body;
    return { accepted: await service.output(tenant(request), request.params.id, leaseToken, null, lines) };
  });

  r.post('/api/v1/worker/jobs/:id/complete', {
    ...common,
    schema: {
      tags: ['remote workers'],
      summary: 'Complete a running attempt with its result',
      params: JobParams,
      body: Type.Object({ leaseToken: LeaseToken, result: Type.Optional(Type.Unknown()) }, { additionalProperties: false }),
      response: { 200: ReportAnswer, ...problemResponses, 413: Type.Ref('Problem') },
    },
  }, async (request) => service.complete(tenant(request), request.params.id, request.body.leaseToken, request.body.result));

  r.post('/api/v1/worker/jobs/:id/fail', {
    ...common,
    schema: {
      tags: ['remote workers'],
      summary: 'Fail a running attempt: retried with backoff unless permanent or out of attempts; or end it as cancelled',
      params: JobParams,
      body: Type.Object({
        leaseToken: LeaseToken,
        error: Type.Object({
          message: Type.String({ maxLength: 65_536 }),
          name: Type.Optional(Type.String({ maxLength: 1024 })),
          stack: Type.Optional(Type.String({ maxLength: 65_536 })),
          retryable: Type.Optional(Type.Boolean({ description: 'false: permanent, not retried' })),
          retryAfterMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 31_536_000_000 })),
        }, { additionalProperties: false }),
        cancelled: Type.Optional(Type.Boolean({ description: 'true: the worker stopped because of a cancel request' })),
      }, { additionalProperties: false }),
      response: { 200: ReportAnswer, ...problemResponses },
    },
  }, async (request) => {
    const { leaseToken, error, cancelled } = request.body;
    return service.fail(tenant(request), request.params.id, leaseToken, error, cancelled === true);
  });

  r.post('/api/v1/worker/stop', {
    ...common,
    schema: {
      tags: ['remote workers'],
      summary: 'Mark a worker stopped (report or abandon its jobs first: leases are not released)',
      body: Type.Object({ workerId: Uuid }, { additionalProperties: false }),
      response: { 204: Type.Null(), ...problemResponses },
    },
  }, async (request, reply) => {
    await service.stop(tenant(request), request.body.workerId);
    return reply.code(204).send(null);
  });
}
