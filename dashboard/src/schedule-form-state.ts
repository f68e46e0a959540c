/**
 * The schedule form's state and how it maps to and from the API's schedule (pure: unit-tested in
 * test/unit/dashboard-schedule-form-state.test.ts).
 */
import type { ApiSchedule as Schedule } from '../../src/client/client.js';

export const UNITS: ReadonlyArray<{ value: string; label: string; ms: number }> = [
  { value: 'seconds', label: 'seconds', ms: 1000 },
  { value: 'minutes', label: 'minutes', ms: 60_000 },
  { value: 'hours', label: 'hours', ms: 3_600_000 },
  { value: 'days', label: 'days', ms: 86_400_000 },
];
export interface FormState {
  name: string;
  description: string;
  kind: 'cron' | 'interval';
  cron: string;
  every: string;
  unit: string;
  timezone: string;
  task: string;
  queue: string;
  payload: string;
  misfirePolicy: string;
  catchUpMax: string;
  overlapPolicy: string;
  /** Seconds; empty = the default (60). */
  graceS: string;
  paused: boolean;
  /** Options of every job the schedule submits; empty = the job defaults. */
  priority: string;
  maxAttempts: string;
  /** Seconds. */
  timeoutS: string;
  /** Job options the form has no field for (backoff, placement, labels): kept as they are. */
  otherJobOptions: Record<string, unknown>;
}

/** A number field's value as the API wants it: undefined when empty, NaN (refused with a pointer) when not a number. */
function numberOrUndefined(text: string, scale = 1): number | undefined {
  const t = text.trim();
  return t === '' ? undefined : Math.round(Number(t) * scale);
}

export function fromSchedule(s: Schedule): FormState {
  const ms = s.intervalMs ?? 300_000;
  const unit = [...UNITS].reverse().find((u) => ms % u.ms === 0) ?? UNITS[0]!;
  return {
    name: s.name,
    description: s.description ?? '',
    kind: s.cron !== null ? 'cron' : 'interval',
    cron: s.cron ?? '*/5 * * * *',
    every: String(ms / unit.ms),
    unit: unit.value,
    timezone: s.timezone,
    task: s.task,
    queue: s.queue,
    payload: JSON.stringify(s.payload ?? {}, null, 2),
    misfirePolicy: s.misfirePolicy,
    catchUpMax: String(s.catchUpMax),
    overlapPolicy: s.overlapPolicy,
    graceS: String(s.misfireGraceMs / 1000),
    paused: s.paused,
    ...jobOptionFields(s.jobOptions),
  };
}

function jobOptionFields(options: Record<string, unknown>): Pick<FormState, 'priority' | 'maxAttempts' | 'timeoutS' | 'otherJobOptions'> {
  const { priority, maxAttempts, timeoutMs, ...other } = options;
  return {
    priority: typeof priority === 'number' ? String(priority) : '',
    maxAttempts: typeof maxAttempts === 'number' ? String(maxAttempts) : '',
    timeoutS: typeof timeoutMs === 'number' ? String(timeoutMs / 1000) : '',
    otherJobOptions: other,
  };
}

export const BLANK: FormState = {
  name: '',
  description: '',
  kind: 'cron',
  cron: '',
  every: '5',
  unit: 'minutes',
  timezone: '',
  task: '',
  queue: 'default',
  payload: '{}',
  misfirePolicy: 'run-once',
  catchUpMax: '10',
  overlapPolicy: 'allow',
  graceS: '60',
  paused: false,
  priority: '',
  maxAttempts: '',
  timeoutS: '',
  otherJobOptions: {},
};

/** The interval in ms the form's "every N units" means; NaN when N is not a number. */
export function intervalMsOf(f: Pick<FormState, 'every' | 'unit'>): number {
  const n = Number(f.every);
  const unit = UNITS.find((u) => u.value === f.unit) ?? UNITS[1]!;
  return Number.isFinite(n) && f.every.trim() !== '' ? Math.round(n * unit.ms) : NaN;
}

/** The request body (POST or PATCH /api/v1/schedules) for the form, with its parsed payload. */
export function scheduleBody(f: FormState, payload: unknown): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: f.name.trim(),
    description: f.description.trim() === '' ? null : f.description.trim(),
    task: f.task.trim(),
    queue: f.queue.trim() || 'default',
    timezone: f.timezone.trim() || 'UTC',
    payload,
    misfirePolicy: f.misfirePolicy,
    overlapPolicy: f.overlapPolicy,
    paused: f.paused,
  };
  if (f.kind === 'cron') body.cron = f.cron.trim();
  else body.intervalMs = intervalMsOf(f);
  if (f.misfirePolicy === 'catch-up') body.catchUpMax = Number(f.catchUpMax);
  const grace = numberOrUndefined(f.graceS, 1000);
  if (grace !== undefined) body.misfireGraceMs = grace;
  const jobOptions: Record<string, unknown> = { ...f.otherJobOptions };
  for (const [key, value] of [['priority', numberOrUndefined(f.priority)], ['maxAttempts', numberOrUndefined(f.maxAttempts)], ['timeoutMs', numberOrUndefined(f.timeoutS, 1000)]] as const) {
    if (value !== undefined) jobOptions[key] = value;
  }
  body.jobOptions = jobOptions;
  return body;
}
