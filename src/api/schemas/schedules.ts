import { Type } from 'typebox';
import { compileCron } from '../../core/cron/index.js';
import { redactSensitive } from '../../core/redaction.js';
import type { ScheduleRow } from '../../db/queries/schedules.js';
import { NullableTimestamp, Timestamp } from './common.js';

const policyFields = {
  misfirePolicy: Type.Optional(Type.Union([Type.Literal('skip'), Type.Literal('run-once'), Type.Literal('catch-up')])),
  catchUpMax: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  misfireGraceMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400_000 })),
  overlapPolicy: Type.Optional(Type.Union([Type.Literal('allow'), Type.Literal('skip'), Type.Literal('queue-one'), Type.Literal('cancel-previous')])),
};

const specFields = {
  description: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
  cron: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])),
  intervalMs: Type.Optional(Type.Union([Type.Integer({ minimum: 1000 }), Type.Null()])),
  timezone: Type.Optional(Type.String({ maxLength: 64 })),
  startAt: Type.Optional(Type.String()),
  queue: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  payload: Type.Optional(Type.Unknown()),
  jobOptions: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  paused: Type.Optional(Type.Boolean()),
  ...policyFields,
};

/** A schedule to create (validated again by src/core/schedule-spec.ts with JSON pointers). */
export const ScheduleCreate = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 128 }), task: Type.String({ minLength: 1, maxLength: 128 }), ...specFields },
  { $id: 'ScheduleCreate', additionalProperties: false },
);

/** Fields to change on a schedule. */
export const SchedulePatch = Type.Object(
  { name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })), task: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })), ...specFields },
  { $id: 'SchedulePatch', additionalProperties: false },
);

/** A schedule as the API shows it. */
export const Schedule = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    description: Type.Union([Type.String(), Type.Null()]),
    cron: Type.Union([Type.String(), Type.Null()]),
    intervalMs: Type.Union([Type.Integer(), Type.Null()]),
    timezone: Type.String(),
    describe: Type.String({ description: 'the timing in words' }),
    task: Type.String(),
    queue: Type.String(),
    payload: Type.Unknown(),
    jobOptions: Type.Record(Type.String(), Type.Unknown()),
    misfirePolicy: Type.String(),
    catchUpMax: Type.Integer(),
    misfireGraceMs: Type.Integer(),
    overlapPolicy: Type.String(),
    paused: Type.Boolean(),
    nextFireAt: NullableTimestamp,
    lastFireAt: NullableTimestamp,
    createdBy: Type.Union([Type.String(), Type.Null()]),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { $id: 'Schedule' },
);

/** A preview of the next fire times, with the timing in words and the zone they follow. */
export const SchedulePreview = Type.Object({
  fireTimes: Type.Array(Type.String({ format: 'date-time' }), { description: 'the next fire times, as UTC instants' }),
  describe: Type.String({ description: 'the timing in words' }),
  timezone: Type.String({ description: 'the IANA time zone the timing follows' }),
});

/** The timing in words: the cron description (with its zone) or "Every 5 minutes". */
export function describeTiming(timing: { cron: string | null; intervalMs: number | null; timezone: string }): string {
  if (timing.cron !== null) return compileCron(timing.cron, timing.timezone).describe();
  const ms = timing.intervalMs ?? 0;
  const units: Array<[number, string]> = [[86_400_000, 'day'], [3_600_000, 'hour'], [60_000, 'minute'], [1000, 'second']];
  const [size, name] = units.find(([u]) => ms % u === 0) ?? [1, 'millisecond'];
  const n = ms / size;
  return `Every ${n === 1 ? name : `${n} ${name}s`}`;
}

/** Map a stored schedule to its API view. */
export function scheduleView(row: ScheduleRow): Record<string, unknown> {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    cron: row.cron,
    intervalMs: row.intervalMs,
    timezone: row.timezone,
    describe: describeTiming(row),
    task: row.task,
    queue: row.queue,
    payload: redactSensitive(row.payload),
    jobOptions: row.jobOptions,
    misfirePolicy: row.misfirePolicy,
    catchUpMax: row.catchUpMax,
    misfireGraceMs: row.misfireGraceMs,
    overlapPolicy: row.overlapPolicy,
    paused: row.paused,
    nextFireAt: row.nextFireAt ? row.nextFireAt.toISOString() : null,
    lastFireAt: row.lastFireAt ? row.lastFireAt.toISOString() : null,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
