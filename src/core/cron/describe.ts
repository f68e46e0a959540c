/** An English description of a parsed cron expression, e.g. `At 02:30 every day (Europe/Berlin)`. Best effort, for display. */
import { DOM, DOW, HOUR, MINUTE, MONTH, SECOND, type Field, type FieldSpec, type Matcher } from './parse.js';

function listText(field: Field, spec: FieldSpec, names?: readonly string[]): string {
  const label = (v: number): string => names?.[v - (spec.nameBase ?? 0)] ?? String(v).padStart(spec === MINUTE || spec === SECOND ? 2 : 1, '0');
  const runs: string[] = [];
  const vs = field.values;
  for (let i = 0; i < vs.length; i++) {
    let j = i;
    while (j + 1 < vs.length && (vs[j + 1] ?? 0) === (vs[j] ?? 0) + 1) j++;
    runs.push(j - i >= 2 ? `${label(vs[i] ?? 0)}-${label(vs[j] ?? 0)}` : vs.slice(i, j + 1).map(label).join(', '));
    i = j;
  }
  return runs.join(', ');
}

function timeText(m: Matcher, hasSeconds: boolean): string {
  const [h, mi, s] = [m.hours.values, m.minutes.values, m.seconds.values];
  const two = (v: number | undefined): string => String(v ?? 0).padStart(2, '0');
  if (h.length === 1 && mi.length === 1 && s.length === 1) {
    return `At ${two(h[0])}:${two(mi[0])}${hasSeconds && s[0] !== 0 ? `:${two(s[0])}` : ''}`;
  }
  const part = (field: Field, spec: FieldSpec, unit: string): string => {
    if (field.values.length === spec.max - spec.min + 1) return `every ${unit}`;
    return `${unit}${field.values.length > 1 ? 's' : ''} ${listText(field, spec)}`;
  };
  const pieces = [part(m.minutes, MINUTE, 'minute'), part(m.hours, HOUR, 'hour')];
  if (hasSeconds) pieces.unshift(part(m.seconds, SECOND, 'second'));
  // "every second of every minute of every hour" reads better as just "every second".
  while (pieces.length > 1 && (pieces[pieces.length - 1] ?? '').startsWith('every') && (pieces[pieces.length - 2] ?? '').startsWith('every')) pieces.pop();
  const text = pieces.join(' of ');
  return text.startsWith('every') ? `E${text.slice(1)},` : `At ${text},`;
}

function dayText(m: Matcher): string {
  const domAll = m.dom.values.length === 31;
  const dowAll = m.dow.values.length === 7;
  const dom = `day ${listText(m.dom, DOM)} of the month`;
  const dow = listText(m.dow, DOW, ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']);
  let text = domAll && dowAll ? 'every day' : domAll ? `on ${dow}` : dowAll ? `on ${dom}` : `on ${dom} ${m.dom.star || m.dow.star ? 'if it is a' : 'or on'} ${dow}`;
  if (m.months.values.length < 12) text += ` in ${listText(m.months, MONTH, ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'])}`;
  return text;
}

/** Describe `m` read in `timezone`. */
export function describeCron(m: Matcher, hasSeconds: boolean, timezone: string): string {
  return `${timeText(m, hasSeconds)} ${dayText(m)} (${timezone})`;
}
