import { jobEvent, type EventSink, type ScheduleAction } from '../../core/live-events.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf, type Principal } from '../../core/access.js';
import { restoreRedacted } from '../../core/redaction.js';
import type { Pool } from '../../db/pool.js';
import type { Actor } from '../../engine/job-service.js';
import { DEFAULT_SUBMIT_POLICY, type SubmitPolicy } from '../../engine/submit-checks.js';
import {
  createSchedule,
  previewSchedule,
  readSchedule,
  readScheduleRuns,
  removeSchedule,
  searchSchedules,
  setSchedulePaused,
  triggerSchedule,
  updateScheduleFields,
  type ScheduleChange,
} from '../../engine/schedule-service.js';
import type { Auditor } from '../plugins/audit.js';
import { principalOf } from '../plugins/auth.js';
import { requestTraceParent } from '../plugins/tracing.js';
import { IdParams, problemResponses } from '../schemas/common.js';
import { describeTiming, SchedulePreview, scheduleView } from '../schemas/schedules.js';
import type { Clock } from '../../core/deps.js';

const Run = Type.Object({
  fireAt: Type.String(),
  outcome: Type.String(),
  reason: Type.String(),
  jobId: Type.Union([Type.String(), Type.Null()]),
  jobStatus: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
});
const Count = Type.Object({ count: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })) }, { additionalProperties: false });

/** The timing of a spec that previewSchedule has accepted (cron trimmed, zone defaulting to UTC, as stored). */
function timingOfSpec(spec: unknown): { cron: string | null; intervalMs: number | null; timezone: string } {
  const s = (spec ?? {}) as Record<string, unknown>;
  return {
    cron: typeof s.cron === 'string' ? s.cron.trim() : null,
    intervalMs: typeof s.intervalMs === 'number' ? s.intervalMs : null,
    timezone: typeof s.timezone === 'string' ? s.timezone : 'UTC',
  };
}

/** Dependencies of the schedule routes. */
export interface ScheduleRouteDeps {
  pool: Pool;
  audit: Auditor;
  liveEvents: EventSink;
  /** @defaultValue {@link DEFAULT_SUBMIT_POLICY} */
  submitPolicy?: SubmitPolicy;
  clock: Clock;
}

/** /api/v1/schedules: CRUD, pause/resume, trigger now, preview, runs. */
export async function scheduleRoutes(app: FastifyInstance, deps: ScheduleRouteDeps): Promise<void> {
  const { pool, audit, liveEvents, submitPolicy = DEFAULT_SUBMIT_POLICY, clock } = deps;
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const actor = (p: Principal): Actor & { createdBy: string } => ({ tenantId: p.tenantId, name: actorOf(p), createdBy: actorOf(p) });
  const one = { 200: Type.Ref('Schedule'), ...problemResponses };
  const announce = (tenantId: string, scheduleId: string, action: ScheduleAction): void =>
    liveEvents.publish([{ type: 'schedule', tenantId, scheduleId, action, at: new Date(clock.nowMs()).toISOString() }]);
  const audited = async (request: FastifyRequest, action: string, change: ScheduleChange) => {
    const after = scheduleView(change.after!);
    announce(change.after!.tenantId, change.after!.id, action === 'schedule.pause' ? 'paused' : action === 'schedule.resume' ? 'resumed' : 'updated');
    await audit(request, { action, targetType: 'schedule', targetId: change.after!.id, before: change.before ? scheduleView(change.before) : null, after });
    return after;
  };

  r.post('/api/v1/schedules', {
    config: { permission: 'schedules:write' },
    schema: { tags: ['schedules'], summary: 'Create a schedule (cron or interval)', body: Type.Ref('ScheduleCreate'), response: { 201: Type.Ref('Schedule'), ...problemResponses, 409: Type.Ref('Problem') } },
  }, async (request, reply) => {
    const created = await createSchedule(pool, actor(principalOf(request)), request.body, submitPolicy);
    announce(created.tenantId, created.id, 'created');
    const view = scheduleView(created);
    await audit(request, { action: 'schedule.create', targetType: 'schedule', targetId: view.id as string, after: view });
    return reply.code(201).send(view);
  });

  r.get('/api/v1/schedules', {
    config: { permission: 'schedules:read' },
    schema: {
      tags: ['schedules'],
      summary: 'List schedules by name',
      querystring: Type.Object({ after: Type.Optional(Type.String({ maxLength: 128 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) }, { additionalProperties: false }),
      response: { 200: Type.Object({ schedules: Type.Array(Type.Ref('Schedule')), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...problemResponses },
    },
  }, async (request) => {
    const limit = request.query.limit ?? 50;
    const rows = await searchSchedules(pool, actor(principalOf(request)), { ...request.query, limit });
    return { schedules: rows.map(scheduleView), nextCursor: rows.length === limit ? rows[rows.length - 1]!.name : null };
  });

  r.post('/api/v1/schedules/preview', {
    config: { permission: 'schedules:read' },
    schema: { tags: ['schedules'], summary: 'Next fire times of a schedule not saved yet', querystring: Count, body: Type.Ref('ScheduleCreate'), response: { 200: SchedulePreview, ...problemResponses } },
  }, async (request) => {
    // previewSchedule validates the spec (CRON_INVALID, CRON_NEVER_FIRES, TIMEZONE_INVALID…) before we describe it.
    const fires = await previewSchedule(pool, actor(principalOf(request)), { spec: request.body }, request.query.count ?? 10);
    const timing = timingOfSpec(request.body);
    return { fireTimes: fires.map((d) => d.toISOString()), describe: describeTiming(timing), timezone: timing.timezone };
  });

  r.get('/api/v1/schedules/:id', {
    config: { permission: 'schedules:read' },
    schema: { tags: ['schedules'], summary: 'Get a schedule', params: IdParams, response: one },
  }, async (request) => scheduleView(await readSchedule(pool, actor(principalOf(request)), request.params.id)));

  r.patch('/api/v1/schedules/:id', {
    config: { permission: 'schedules:write' },
    schema: { tags: ['schedules'], summary: 'Change a schedule', params: IdParams, body: Type.Ref('SchedulePatch'), response: { ...one, 409: Type.Ref('Problem') } },
  }, async (request) => {
    const who = actor(principalOf(request));
    const patch = { ...(request.body as { task?: unknown; payload?: unknown }) };
    if (patch.payload !== undefined) {
      // Reads show inline credentials as [redacted]; a payload edited from such a read keeps them.
      const current = await readSchedule(pool, who, request.params.id);
      patch.payload = restoreRedacted(patch.payload, current.payload);
    }
    return audited(request, 'schedule.update', await updateScheduleFields(pool, who, request.params.id, patch, submitPolicy));
  });

  r.delete('/api/v1/schedules/:id', {
    config: { permission: 'schedules:write' },
    schema: { tags: ['schedules'], summary: 'Delete a schedule (its jobs stay)', params: IdParams, response: { 204: Type.Null(), ...problemResponses } },
  }, async (request, reply) => {
    const removed = await removeSchedule(pool, actor(principalOf(request)), request.params.id);
    announce(removed.tenantId, removed.id, 'deleted');
    await audit(request, { action: 'schedule.delete', targetType: 'schedule', targetId: removed.id, before: scheduleView(removed) });
    return reply.code(204).send(null);
  });

  for (const [action, paused] of [['pause', true], ['resume', false]] as const) {
    r.post(`/api/v1/schedules/:id/${action}`, {
      config: { permission: 'schedules:write' },
      schema: { tags: ['schedules'], summary: `${action === 'pause' ? 'Pause' : 'Resume (missed fire times are skipped)'} a schedule`, params: IdParams, response: one },
    }, async (request) => audited(request, `schedule.${action}`, await setSchedulePaused(pool, actor(principalOf(request)), request.params.id, paused)));
  }

  r.post('/api/v1/schedules/:id/trigger', {
    config: { permission: 'schedules:write' },
    schema: { tags: ['schedules'], summary: 'Fire now, outside the timing', params: IdParams, response: { 201: Type.Object({ jobId: Type.String(), fireAt: Type.String() }), ...problemResponses } },
  }, async (request, reply) => {
    const traceParent = requestTraceParent(request);
    const { jobId, fireAt, changes } = await triggerSchedule(pool, actor(principalOf(request)), request.params.id, traceParent ? { traceParent } : {});
    const at = new Date(clock.nowMs()).toISOString();
    announce(principalOf(request).tenantId, request.params.id, 'triggered');
    liveEvents.publish(changes.map((c) => jobEvent(c, at)));
    await audit(request, { action: 'schedule.trigger', targetType: 'schedule', targetId: request.params.id, after: { jobId, fireAt: fireAt.toISOString() } });
    return reply.code(201).send({ jobId, fireAt: fireAt.toISOString() });
  });

  r.get('/api/v1/schedules/:id/preview', {
    config: { permission: 'schedules:read' },
    schema: { tags: ['schedules'], summary: 'Next fire times in the schedule’s time zone (returned as UTC instants)', params: IdParams, querystring: Count, response: { 200: SchedulePreview, ...problemResponses } },
  }, async (request) => {
    const who = actor(principalOf(request));
    const fires = await previewSchedule(pool, who, { id: request.params.id }, request.query.count ?? 10);
    const schedule = await readSchedule(pool, who, request.params.id);
    return { fireTimes: fires.map((d) => d.toISOString()), describe: describeTiming(schedule), timezone: schedule.timezone };
  });

  r.get('/api/v1/schedules/:id/runs', {
    config: { permission: 'schedules:read' },
    schema: {
      tags: ['schedules'],
      summary: 'Recorded fire times, newest first, with why each fired or was skipped',
      params: IdParams,
      querystring: Type.Object({ before: Type.Optional(Type.String({ format: 'date-time' })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) }, { additionalProperties: false }),
      response: { 200: Type.Object({ runs: Type.Array(Run) }), ...problemResponses },
    },
  }, async (request) => {
    const runs = await readScheduleRuns(pool, actor(principalOf(request)), request.params.id, {
      ...(request.query.before ? { before: new Date(request.query.before) } : {}),
      ...(request.query.limit ? { limit: request.query.limit } : {}),
    });
    return { runs: runs.map((run) => ({ ...run, fireAt: run.fireAt.toISOString(), createdAt: run.createdAt.toISOString() })) };
  });
}
