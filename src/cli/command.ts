/**
 * The shape of an API command (options, help text, run) and the argument helpers they share.
 */
import { readFile } from 'node:fs/promises';
import { readStdin, UsageError, type Context, type OptionSpecs, type Values } from './context.js';
import { parseDuration } from '../core/duration.js';
import { parseTime } from './format.js';

/** One command, e.g. `jobs submit`. */
export interface Command {
  /** `jobs submit` */
  name: string;
  summary: string;
  /** Arguments and options after the name, e.g. `ID [--follow]`. */
  usage: string;
  /** Longer explanation (options), shown by `--help`. */
  details?: string;
  examples: string[];
  options: OptionSpecs;
  /** How many positional arguments it takes. */
  args: { min: number; max: number };
  run(ctx: Context, positionals: string[], values: Values): Promise<number>;
}

/** A string option's value. */
export function opt(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A string option that must be present. */
export function required(values: Values, name: string): string {
  const value = opt(values, name);
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

/** Every value of a repeatable option, comma lists split. */
export function list(values: Values, name: string): string[] {
  const value = values[name];
  const raw = Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
  return raw.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/** An integer option. */
export function int(values: Values, name: string, min = Number.MIN_SAFE_INTEGER): number | undefined {
  const value = opt(values, name);
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value) || Number(value) < min) throw new UsageError(`--${name} must be an integer${min > Number.MIN_SAFE_INTEGER ? ` ≥ ${min}` : ''}, not "${value}"`);
  return Number(value);
}

/** A duration option (`30s`, `5m`) in milliseconds. */
export function duration(values: Values, name: string): number | undefined {
  const value = opt(values, name);
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === null) throw new UsageError(`--${name} must be a duration such as 500ms, 30s, 5m, 2h or 1d, not "${value}"`);
  return ms;
}

/** A time option: ISO 8601 or a duration ago (`1h`). */
export function time(values: Values, name: string, now = new Date()): string | undefined {
  const value = opt(values, name);
  if (value === undefined) return undefined;
  const iso = parseTime(value, now);
  if (iso === null) throw new UsageError(`--${name} must be an ISO 8601 time (2026-01-31T09:00:00Z) or a duration ago (1h), not "${value}"`);
  return iso;
}

/** A future time option: ISO 8601 only. */
export function isoTime(values: Values, name: string): string | undefined {
  const value = opt(values, name);
  if (value === undefined) return undefined;
  const date = /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : new Date(NaN);
  if (Number.isNaN(date.getTime())) throw new UsageError(`--${name} must be an ISO 8601 time such as 2026-01-31T09:00:00Z, not "${value}"`);
  return date.toISOString();
}

/** `--payload JSON`, `--payload @file` or `--payload -` (stdin); undefined when absent. */
export async function payload(ctx: Context, values: Values): Promise<unknown> {
  const value = opt(values, 'payload');
  if (value === undefined) return undefined;
  let text = value;
  let source = '--payload';
  if (value === '-') {
    text = await readStdin(ctx.io.stdin);
    source = 'the payload on stdin';
  } else if (value.startsWith('@')) {
    try {
      text = await readFile(value.slice(1), 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read ${value.slice(1)}: ${(error as Error).message}`);
    }
    source = value.slice(1);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Spread helper for exactOptionalPropertyTypes: `{ key: value }` only when value is defined. */
export function defined<T extends Record<string, unknown>>(object: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
