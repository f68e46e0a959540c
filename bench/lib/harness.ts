/**
 * Shared plumbing for the scenario scripts: argument parsing, deadlines, logging to stderr,
 * result shapes, ratios, and the "run this file alone" entry point.
 *
 * stdout carries exactly one JSON document; everything else goes to stderr.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchSystem } from './driver.js';
import { killAllWorkers } from './workers.js';
import { dropLeftoverDatabases } from './db.js';

export type Args = Record<string, string | true>;

/** `--key value`, `--key=value` and bare `--flag`. */
export function parseArgs(argv: readonly string[] = process.argv.slice(2)): Args {
  const out: Args = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument: ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) {
      out[a.slice(2, eq)] = a.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) {
        out[a.slice(2)] = next;
        i++;
      } else {
        out[a.slice(2)] = true;
      }
    }
  }
  return out;
}

export function argNumber(args: Args, key: string, fallback: number): number {
  const v = args[key];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${key} must be a number (got ${String(v)})`);
  return n;
}

export function argNumberList(args: Args, key: string, fallback: number[]): number[] {
  const v = args[key];
  if (v === undefined || v === true) return fallback;
  return v.split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isFinite(n)) throw new Error(`--${key} must be a comma-separated list of numbers`);
    return n;
  });
}

export function argString(args: Args, key: string): string | undefined {
  const v = args[key];
  return typeof v === 'string' ? v : undefined;
}

/**
 * Pick systems from the registry by `--systems a,b` (default: all, in registry order); names not
 * in the registry are offered to `resolve` (configuration variants such as `pg-boss@10x50`).
 */
export function selectSystems(
  registry: Record<string, BenchSystem>,
  args: Args,
  resolve: (name: string) => BenchSystem | undefined = () => undefined,
): BenchSystem[] {
  const wanted = argString(args, 'systems');
  if (!wanted) return Object.values(registry);
  return wanted.split(',').map((n) => {
    const s = registry[n.trim()] ?? resolve(n.trim());
    if (!s) throw new Error(`unknown system '${n}'; known: ${Object.keys(registry).join(', ')}`);
    return s;
  });
}

export function log(...parts: unknown[]): void {
  const ts = new Date().toISOString().slice(11, 23);
  console.error(`[bench ${ts}]`, ...parts);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class DeadlineError extends Error {}

/** Reject if `p` has not settled within `ms`. The underlying work is not cancelled. */
export async function withDeadline<T>(p: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DeadlineError(`${label}: no result after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** Best-effort cleanup step with its own deadline; errors are logged, never thrown. */
export async function quietly(label: string, fn: () => Promise<unknown>, ms = 15_000): Promise<void> {
  try {
    await withDeadline(fn(), ms, label);
  } catch (err) {
    log(`cleanup '${label}' failed:`, errorMessage(err));
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** `arr` rotated left by k: used to alternate which system goes first in each round. */
export function rotate<T>(arr: readonly T[], k: number): T[] {
  if (arr.length === 0) return [];
  const s = ((k % arr.length) + arr.length) % arr.length;
  return [...arr.slice(s), ...arr.slice(0, s)];
}

export type Better = 'higher' | 'lower';

export interface MetricInfo {
  unit: string;
  better: Better;
}

export interface ScenarioResult {
  scenario: string;
  params: Record<string, unknown>;
  /** Headline metric definitions (unit, which direction is better). */
  metrics: Record<string, MetricInfo>;
  /** Per system: headline figures (null = not measured / failed). */
  headline: Record<string, Record<string, number | null>>;
  /**
   * Optional, per system: [min, max] over the repetitions behind a headline figure that is a
   * median (null = no successful repetition). Only metrics measured more than once appear.
   */
  ranges?: Record<string, Record<string, [number, number] | null>>;
  /** Per system: full details, or `{ failed: true, error }`. */
  details: Record<string, unknown>;
  /** Per system: wall time spent on it in this scenario, seconds. */
  elapsedS: Record<string, number>;
}

export type Ratios = Record<string, Record<string, number | null>>;

/**
 * `ratios[system][metric] = system value / baseline value` for every system other than the
 * baseline. Whether > 1 is good depends on the metric's `better` ('higher' for rates,
 * 'lower' for latencies and backlogs).
 */
export function computeRatios(headline: Record<string, Record<string, number | null>>, baseline: string): Ratios | null {
  const base = headline[baseline];
  if (!base) return null;
  const out: Ratios = {};
  for (const [system, figures] of Object.entries(headline)) {
    if (system === baseline) continue;
    const r: Record<string, number | null> = {};
    for (const [metric, v] of Object.entries(figures)) {
      const b = base[metric];
      r[metric] = v != null && b != null && b !== 0 ? Math.round((v / b) * 1000) / 1000 : null;
    }
    out[system] = r;
  }
  return out;
}

/** Which baseline to use: `--baseline`, else 'jobplane' when it is among the systems, else none (raw figures). */
export function chooseBaseline(args: Args, systems: readonly BenchSystem[]): string | null {
  const explicit = argString(args, 'baseline');
  if (explicit) {
    if (!systems.some((s) => s.name === explicit)) throw new Error(`--baseline ${explicit} is not among the systems run`);
    return explicit;
  }
  return systems.some((s) => s.name === 'jobplane') ? 'jobplane' : null;
}

export function isMain(meta: ImportMeta): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  return meta.url === pathToFileURL(resolve(entry)).href;
}

/**
 * Entry point for a script run alone: parse args, run with a global deadline
 * (`--max-seconds`, default `defaultMaxSeconds`), print the JSON result, optionally also write it
 * to `--out FILE`, and exit (killing any worker still alive).
 */
export async function runMain(
  defaultMaxSeconds: number,
  fn: (args: Args) => Promise<unknown>,
): Promise<never> {
  let args: Args;
  try {
    args = parseArgs();
  } catch (err) {
    console.error(errorMessage(err));
    process.exit(2);
  }
  // A pool error from a connection killed by DROP DATABASE ... WITH (FORCE) must not end the run;
  // every step has its own deadline, so a system left broken is reported as failed instead.
  process.on('uncaughtException', (err) => log('uncaught exception (continuing):', errorMessage(err)));
  process.on('unhandledRejection', (err) => log('unhandled rejection (continuing):', errorMessage(err)));
  const maxSeconds = argNumber(args, 'max-seconds', defaultMaxSeconds);
  const hard = setTimeout(() => {
    log(`global deadline of ${maxSeconds}s reached; killing workers and exiting`);
    killAllWorkers();
    process.stdout.write(`${JSON.stringify({ failed: true, error: `global deadline of ${maxSeconds}s reached` })}\n`);
    // Best effort: drop this run's databases (the next run would drop them anyway).
    const exit = () => process.exit(3);
    setTimeout(exit, 5000).unref();
    dropLeftoverDatabases().then(exit, exit);
  }, maxSeconds * 1000);
  hard.unref();
  let code = 0;
  try {
    const leftovers = await dropLeftoverDatabases();
    if (leftovers.length) log(`dropped leftover databases: ${leftovers.join(', ')}`);
    const result = await fn(args);
    const text = `${JSON.stringify(result, null, 2)}\n`;
    const out = argString(args, 'out');
    if (out) {
      mkdirSync(dirname(resolve(out)), { recursive: true });
      writeFileSync(out, text);
      log(`wrote ${out}`);
    }
    process.stdout.write(text);
  } catch (err) {
    log('failed:', err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.stdout.write(`${JSON.stringify({ failed: true, error: errorMessage(err) })}\n`);
    code = 1;
  }
  killAllWorkers();
  // Let stdout drain before exiting; pools of failed systems may keep the loop alive otherwise.
  await new Promise<void>((r) => process.stdout.write('', () => r()));
  process.exit(code);
}

/** The repository root (parent of bench/). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Run one system's part of a scenario, turning any error into a `{ failed, error }` record. */
export async function attempt<T>(label: string, fn: () => Promise<T>): Promise<T | { failed: true; error: string }> {
  try {
    return await fn();
  } catch (err) {
    log(`${label} FAILED:`, errorMessage(err));
    return { failed: true, error: errorMessage(err) };
  }
}

export function isFailure(v: unknown): v is { failed: true; error: string } {
  return typeof v === 'object' && v !== null && (v as { failed?: unknown }).failed === true;
}
