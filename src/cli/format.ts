/**
 * Pure formatting and parsing helpers of the CLI: colours, tables, durations, times, progress
 * bars. Nothing here reads the environment or writes anywhere, so it is tested without a server.
 * Durations are parsed by src/core/duration.ts (one syntax for flags and settings).
 */
import { isBareNumber, parseDuration } from '../core/duration.js';

/** ANSI colour helpers; all are identity functions when colour is off. */
export interface Colors {
  enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  blue(text: string): string;
  cyan(text: string): string;
}

/**
 * Whether to colour: only on a terminal, never with `NO_COLOR` set to anything non-empty
 * (https://no-color.org) or `--no-color`; `FORCE_COLOR` (non-zero) turns it on anyway.
 */
export function shouldColor(options: { isTTY: boolean; env: Record<string, string | undefined>; noColorFlag: boolean }): boolean {
  if (options.noColorFlag) return false;
  if (options.env.NO_COLOR !== undefined && options.env.NO_COLOR !== '') return false;
  const force = options.env.FORCE_COLOR;
  if (force !== undefined && force !== '' && force !== '0') return true;
  return options.isTTY && options.env.TERM !== 'dumb';
}

/** Colour helpers, on or off. */
export function makeColors(enabled: boolean): Colors {
  const wrap = (open: number, close: number) => (text: string) => (enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text);
  return {
    enabled,
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    blue: wrap(34, 39),
    cyan: wrap(36, 39),
  };
}

/** A job status, coloured by meaning. */
export function colorStatus(status: string, c: Colors): string {
  switch (status) {
    case 'completed':
      return c.green(status);
    case 'failed':
      return c.red(status);
    case 'cancelled':
      return c.dim(status);
    case 'running':
      return c.blue(status);
    case 'scheduled':
      return c.cyan(status);
    default:
      return c.yellow(status);
  }
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** A string without its ANSI colour codes. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** Printed width of a string (ANSI colour codes do not count). */
export function visibleWidth(text: string): number {
  return [...stripAnsi(text)].length;
}

/**
 * Align rows under a header: columns separated by two spaces, the last column not padded (no
 * trailing blanks). Cells may contain colour codes. Returns the lines without a final newline.
 */
export function formatTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>, c: Colors = makeColors(false)): string {
  const widths = header.map((h, i) => Math.max(visibleWidth(h), ...rows.map((r) => visibleWidth(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visibleWidth(cell))))
      .join('  ');
  return [c.bold(line(header.map((h) => h.toUpperCase()))), ...rows.map((r) => line(header.map((_, i) => r[i] ?? '')))].join('\n');
}


/** A duration in milliseconds as short words: `450ms`, `12s`, `5m`, `3h`, `2d`. */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(ms)}ms`;
  if (abs < 60_000) return `${Math.round(ms / 1000)}s`;
  if (abs < 3_600_000) return `${Math.round(ms / 60_000)}m`;
  if (abs < 86_400_000) return `${Math.round(ms / 3_600_000)}h`;
  return `${Math.round(ms / 86_400_000)}d`;
}

/** How long ago (or, for a future time, in how long) `iso` is from `now`: `5m ago`, `in 30s`. */
export function formatAgo(iso: string | null | undefined, now: Date): string {
  if (!iso) return '-';
  const ms = now.getTime() - new Date(iso).getTime();
  if (Number.isNaN(ms)) return '-';
  if (Math.abs(ms) < 1000) return 'just now';
  return ms >= 0 ? `${formatDuration(ms)} ago` : `in ${formatDuration(-ms)}`;
}

/**
 * A point in time given as RFC 3339 / ISO 8601 or as a duration before `now` (`1h` = an hour
 * ago); returned as an ISO string, or null when it is neither. A bare number is neither: as a
 * time it would more likely be an epoch than milliseconds ago.
 */
export function parseTime(text: string, now: Date): string | null {
  const duration = isBareNumber(text) ? null : parseDuration(text);
  if (duration !== null) return new Date(now.getTime() - duration).toISOString();
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return null;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** A progress bar for a percentage (clamped to 0–100): `[########------------]  40%`. */
export function progressBar(percent: number, width = 30): string {
  const p = Math.max(0, Math.min(100, percent));
  const filled = Math.round((p / 100) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(p)).padStart(3)}%`;
}

/**
 * The percentage a job's `progress` stands for, when it is a number 0–100 or an object with a
 * numeric `percent`; null otherwise.
 */
export function progressPercent(progress: unknown): number | null {
  const value = typeof progress === 'object' && progress !== null && 'percent' in progress ? progress.percent : progress;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 100 ? value : null;
}

/** Any value as the text of a table cell (`-` for none). */
export function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** A value as indented JSON for human output (strings as they are). */
export function pretty(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}
