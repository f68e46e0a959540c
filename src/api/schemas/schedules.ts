import { Type } from 'typebox';
import { compileCron } from '../../core/cron/index.js';
import { redactSensitive } from '../../core/redaction.js';
import { ScheduleCreateSchema, SchedulePatchSchema } from '../../core/schedule-spec.js';
import type { ScheduleRow } from '../../db/queries/schedules.js';
import { NullableTimestamp, Timestamp } from './common.js';

/** A schedule to create, and fields to change: the core's declarations (src/core/schedule-spec.ts), which the SDK validates with too. */
export const ScheduleCreate = ScheduleCreateSchema;
export const SchedulePatch = SchedulePatchSchema;

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
