import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf, type Principal } from '../../core/access.js';
import type { Pool } from '../../db/pool.js';
import type { Actor } from '../../engine/job-service.js';
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
import { IdParams, problemResponses } from '../schemas/common.js';
import { scheduleView } from '../schemas/schedules.js';

const Preview = Type.Object({ fireTimes: Type.Array(Type.String()) });
const Run = Type.Object({
  fireAt: Type.String(),
  outcome: Type.String(),
  reason: Type.String(),
  jobId: Type.Union([Type.String(), Type.Null()]),
  jobStatus: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
});
const Count = Type.Object({ count: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })) }, { additionalProperties: false });

/** /api/v1/schedules: CRUD, pause/resume, trigger now, preview, runs. */
export function scheduleRoutes(app: FastifyInstance, pool: Pool, audit: Auditor): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const actor = (p: Principal): Actor & { createdBy: string } => ({ tenantId: p.tenantId, name: actorOf(p), createdBy: actorOf(p) });
  const one = { 200: Type.Ref('Schedule'), ...problemResponses };
  const audited = async (request: FastifyRequest, action: string, change: ScheduleChange) => {
    const after = scheduleView(change.after!);
    await audit(request, { action, targetType: 'schedule', targetId: change.after!.id, before: change.before ? scheduleView(change.before) : null, after });
    return after;
  };

  r.post('/api/v1/schedules', {
    config: { permission: 'schedules:write' },
    schema: { tags: ['schedules'], summary: 'Create a schedule (cron or interval)', body: Type.Ref('ScheduleCreate'), response: { 201: Type.Ref('Schedule'), ...problemResponses, 409: Type.Ref('Problem') } },
  }, async (request, reply) => {
    const view = scheduleView(await createSchedule(pool, actor(principalOf(request)), request.body));
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
    schema: { tags: ['schedules'], summary: 'Next fire times of a schedule not saved yet', querystring: Count, body: Type.Ref('ScheduleCreate'), response: { 200: Preview, ...problemResponses } },
  }, async (request) => ({
    fireTimes: (await previewSchedule(pool, actor(principalOf(request)), { spec: request.body }, request.query.count ?? 10)).map((d) => d.toISOString()),
  }));

  r.get('/api/v1/schedules/:id', {
    config: { permission: 'schedules:read' },
    schema: { tags: ['schedules'], summary: 'Get a schedule', params: IdParams, response: one },
  }, async (request) => scheduleView(await readSchedule(pool, actor(principalOf(request)), request.params.id)));

  r.patch('/api/v1/schedules/:id', {
    config: { permission: 'schedules:write' },
    schema: { tags: ['schedules'], summary: 'Change a schedule', params: IdParams, body: Type.Ref('SchedulePatch'), response: { ...one, 409: Type.Ref('Problem') } },
  }, async (request) => audited(request, 'schedule.update', await updateScheduleFields(pool, actor(principalOf(request)), request.params.id, request.body)));

  r.delete('/api/v1/schedules/:id', {
    config: { permission: 'schedules:write' },
    schema: { tags: ['schedules'], summary: 'Delete a schedule (its jobs stay)', params: IdParams, response: { 204: Type.Null(), ...problemResponses } },
  }, async (request, reply) => {
    const removed = await removeSchedule(pool, actor(principalOf(request)), request.params.id);
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
    const { jobId, fireAt } = await triggerSchedule(pool, actor(principalOf(request)), request.params.id);
    await audit(request, { action: 'schedule.trigger', targetType: 'schedule', targetId: request.params.id, after: { jobId, fireAt: fireAt.toISOString() } });
    return reply.code(201).send({ jobId, fireAt: fireAt.toISOString() });
  });

  r.get('/api/v1/schedules/:id/preview', {
    config: { permission: 'schedules:read' },
    schema: { tags: ['schedules'], summary: 'Next fire times in the schedule’s time zone (returned as UTC instants)', params: IdParams, querystring: Count, response: { 200: Preview, ...problemResponses } },
  }, async (request) => ({
    fireTimes: (await previewSchedule(pool, actor(principalOf(request)), { id: request.params.id }, request.query.count ?? 10)).map((d) => d.toISOString()),
  }));

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
