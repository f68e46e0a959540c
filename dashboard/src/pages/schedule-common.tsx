/** Shared by the Schedules pages: API shapes, time formatting in a schedule's zone, small widgets. */
import type { ReactNode } from 'react';
import type { ApiSchedule } from '../../../src/client/client.js';
import type { ResponseOf } from '../../../src/client/api-shapes.js';
import { ago } from '../format';

/** A schedule as the API returns it (the typed client's shape). */
export type Schedule = ApiSchedule;

export type ScheduleList = ResponseOf<'/api/v1/schedules', 'get'>;

export type SchedulePreview = ResponseOf<'/api/v1/schedules/{id}/preview', 'get'>;

export type ScheduleRun = ResponseOf<'/api/v1/schedules/{id}/runs', 'get'>['runs'][number];

export const MISFIRE_POLICIES: ReadonlyArray<{ value: string; label: string; explain: string }> = [
  { value: 'run-once', label: 'Run once', explain: 'After downtime or a pause, enqueue only the latest missed fire.' },
  { value: 'skip', label: 'Skip', explain: 'Drop every missed fire and wait for the next one on time.' },
  { value: 'catch-up', label: 'Catch up', explain: 'Enqueue the latest missed fires, up to the catch-up limit.' },
];

export const OVERLAP_POLICIES: ReadonlyArray<{ value: string; label: string; explain: string }> = [
  { value: 'allow', label: 'Allow', explain: 'Start a new run even while the previous one is still active.' },
  { value: 'skip', label: 'Skip', explain: 'Do not fire while the previous run is still active (recorded as skipped).' },
  { value: 'queue-one', label: 'Queue one', explain: 'Keep one fire waiting and start it when the previous run finishes.' },
  { value: 'cancel-previous', label: 'Cancel previous', explain: 'Cancel the still-active run, then start the new one.' },
];

export function policyLabel(list: ReadonlyArray<{ value: string; label: string }>, value: string): string {
  return list.find((p) => p.value === value)?.label ?? value;
}

/** The browser's zone, spelled the way the API accepts it (it refuses `Etc/…` aliases). */
export function browserZone(): string {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return !zone || zone.startsWith('Etc/') ? 'UTC' : zone;
}

/** Every IANA zone the browser knows, for a datalist. */
export function zoneNames(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  try {
    const zones = intl.supportedValuesOf ? intl.supportedValuesOf('timeZone') : [];
    return zones.includes('UTC') ? zones : ['UTC', ...zones];
  } catch {
    return ['UTC'];
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** An instant on the wall clock of `timeZone` (or the viewer's when undefined), e.g. "Nov 23, 2026, 02:30:00 CET". */
export function zonedTime(iso: string | null | undefined, timeZone?: string): string {
  if (!iso) return '—';
  const key = timeZone ?? '';
  let f = formatters.get(key);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat(undefined, { ...(timeZone ? { timeZone } : {}), dateStyle: 'medium', timeStyle: 'long' });
    } catch {
      f = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'long' });
    }
    formatters.set(key, f);
  }
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : f.format(d);
}

/** The timing in words without the trailing "(zone)" when the zone is shown next to it. */
export function timingWords(schedule: Pick<Schedule, 'describe' | 'timezone'>): string {
  const suffix = ` (${schedule.timezone})`;
  return schedule.describe.endsWith(suffix) ? schedule.describe.slice(0, -suffix.length) : schedule.describe;
}

export function intervalText(ms: number | null): string {
  if (ms === null) return '—';
  return `${ms.toLocaleString()} ms`;
}

/**
 * A fire time in the schedule's zone, with "in 5m" and the viewer's local time under it
 * (`compact`: the local time only as a tooltip, for tables).
 */
export function FireTime({ iso, timeZone, compact = false }: { iso: string | null; timeZone: string; compact?: boolean }): ReactNode {
  if (!iso) return <span className="muted">—</span>;
  const here = zonedTime(iso);
  const there = zonedTime(iso, timeZone);
  const local = here !== there ? `your time ${here}` : null;
  return (
    <span className="sched-time" title={compact && local ? local : undefined}>
      <time dateTime={iso}>{there}</time>
      <span className="muted sched-sub">
        {ago(iso)}
        {local && !compact ? ` · ${local}` : null}
      </span>
    </span>
  );
}

export function PausedBadge({ paused }: { paused: boolean }): ReactNode {
  return <span className={`badge ${paused ? 'badge-paused' : 'badge-active'}`}>{paused ? 'paused' : 'active'}</span>;
}

export { useThrottled } from '../hooks';
