/**
 * Reading a cron expression into a matcher: 5 fields, 6 with leading seconds, or a macro. Quartz
 * syntax (`?`, `#`, `L`, `W`) and a year field are refused with a CRON_INVALID naming the field.
 */
import { AppError } from '../../errors/index.js';

const MAX_EXPRESSION_LENGTH = 256;
const MAX_LIST_ITEMS = 100;
const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *',
};

/** One cron field's range, and the names it accepts (JAN…, SUN…) counted from `nameBase`. */
export interface FieldSpec { label: string; min: number; max: number; names?: readonly string[]; nameBase?: number }
export const SECOND: FieldSpec = { label: 'second', min: 0, max: 59 };
export const MINUTE: FieldSpec = { label: 'minute', min: 0, max: 59 };
export const HOUR: FieldSpec = { label: 'hour', min: 0, max: 23 };
export const DOM: FieldSpec = { label: 'day-of-month', min: 1, max: 31 };
export const MONTH: FieldSpec = { label: 'month', min: 1, max: 12, names: MONTH_NAMES, nameBase: 1 };
export const DOW: FieldSpec = { label: 'day-of-week', min: 0, max: 7, names: DAY_NAMES, nameBase: 0 };

/** A parsed field: sorted distinct values, and whether its text began with `*` (Vixie's DOM/DOW_STAR). */
export interface Field { values: number[]; star: boolean }

/** A parsed expression: every field, seconds included (0 when the expression has none). */
export interface Matcher {
  seconds: Field; minutes: Field; hours: Field; dom: Field; months: Field; dow: Field;
  /** Hour field covers all 24 hours: DST gaps are skipped and repeated hours fire twice. */
  everyHour: boolean;
}

/** Throw CRON_INVALID with `detail`. */
export function fail(detail: string): never {
  throw new AppError('CRON_INVALID', detail);
}

function parseValue(token: string, spec: FieldSpec): number {
  if (/^[0-9]+$/.test(token)) {
    const value = token.length > 2 ? Number.POSITIVE_INFINITY : Number(token);
    if (value < spec.min || value > spec.max) fail(`${spec.label} field: ${token} is outside ${spec.min}-${spec.max}`);
    return value;
  }
  const index = spec.names?.indexOf(token.toUpperCase()) ?? -1;
  if (index >= 0) return index + (spec.nameBase ?? 0);
  if (/^[0-9]*[LW]+$/i.test(token)) fail(`${spec.label} field: Quartz "L"/"W" is not supported`);
  return fail(`${spec.label} field: "${token}" is not a number${spec.names ? ' or a name' : ''}`);
}

function parseField(text: string, spec: FieldSpec): Field {
  const items = text.split(',');
  if (items.length > MAX_LIST_ITEMS) fail(`${spec.label} field: a list may hold at most ${MAX_LIST_ITEMS} values`);
  const values = new Set<number>();
  for (const item of items) {
    const match = /^(\*|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:\/([0-9]{1,2}))?$/.exec(item);
    if (!match) fail(`${spec.label} field: cannot read "${item}"`);
    const [, range = '', stepText] = match;
    let low = spec.min;
    let high = spec.max;
    if (range !== '*') {
      const [from = '', to] = range.split('-');
      low = parseValue(from, spec);
      // Vixie reads `5/10` as `5-max/10`; we refuse it so a typo cannot widen a schedule silently.
      if (to === undefined && stepText !== undefined) fail(`${spec.label} field: a step needs "*" or a range, as in "*/${stepText}"`);
      high = to === undefined ? low : parseValue(to, spec);
      if (low > high) fail(`${spec.label} field: range ${range} runs backwards`);
    }
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step < 1 || step > spec.max - spec.min + 1) fail(`${spec.label} field: step ${stepText ?? ''} is outside 1-${spec.max - spec.min + 1}`);
    for (let v = low; v <= high; v += step) values.add(spec === DOW && v === 7 ? 0 : v);
  }
  return { values: [...values].sort((a, b) => a - b), star: text.startsWith('*') };
}

/** Parse `expression` (already known to be a string). @throws AppError CRON_INVALID */
export function parseExpression(expression: string): { matcher: Matcher; hasSeconds: boolean } {
  if (expression.length > MAX_EXPRESSION_LENGTH) fail(`the expression is longer than ${MAX_EXPRESSION_LENGTH} characters`);
  if (!/^[\x20-\x7e\t]*$/.test(expression)) fail('the expression contains a character outside printable ASCII');
  if (/[?#]/.test(expression)) fail('Quartz "?" and "#" are not supported');
  let text = expression.trim();
  if (text.startsWith('@')) {
    const macro = MACROS[text.toLowerCase()];
    if (text.toLowerCase() === '@reboot') fail('@reboot is not a time-based schedule');
    if (macro === undefined) fail(`unknown macro ${text}`);
    text = macro;
  }
  const parts = text.split(/[ \t]+/);
  if (parts.length !== 5 && parts.length !== 6) {
    fail(`expected 5 or 6 fields, got ${text === '' ? 0 : parts.length}${parts.length === 7 ? ' (a year field is not supported)' : ''}`);
  }
  const hasSeconds = parts.length === 6;
  const f = hasSeconds ? parts : ['0', ...parts];
  const hours = parseField(f[2] ?? '', HOUR);
  const matcher: Matcher = {
    seconds: parseField(f[0] ?? '', SECOND), minutes: parseField(f[1] ?? '', MINUTE), hours,
    dom: parseField(f[3] ?? '', DOM), months: parseField(f[4] ?? '', MONTH), dow: parseField(f[5] ?? '', DOW),
    everyHour: hours.values.length === 24,
  };
  return { matcher, hasSeconds };
}
