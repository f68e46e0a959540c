/**
 * The `shell` built-in: runs one program from an argv array — never through a shell, so
 * metacharacters in arguments are plain text (docs/decisions.md #21) — with a fixed PATH and no inherited
 * environment, in its own process group, with a time limit and capped output. It is not a
 * sandbox: see docs/built-in-tasks.md for what it does not isolate.
 */
import { constants } from 'node:fs';
import { access, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ShellTaskPayload } from '../../core/builtin-payloads.js';
import { AppError, PermanentError } from '../../errors/index.js';
import type { JobContext } from '../types.js';
import type { AsyncTaskHandler, ShellTaskOptions } from './options.js';
import { checkedPayload } from './payload.js';
import { runProcess, type ProcessOutcome } from './shell-process.js';

/** Result of a successful `shell` job. */
export interface ShellTaskResult {
  /** Exit code (0 for a successful job). */
  exitCode: number | null;
  /** Signal that ended the program, if any. */
  signal: string | null;
  /** Standard output, UTF-8, capped at `maxOutputBytes`. */
  stdout: string;
  /** Standard error, UTF-8, capped at `maxOutputBytes`. */
  stderr: string;
  /** Whether either stream was cut. */
  truncated: boolean;
  /** Wall time in ms. */
  durationMs: number;
}

/** The PATH programs get, and the one bare command names are looked up in. Never the worker's own. */
export const SHELL_TASK_PATH = '/usr/local/bin:/usr/bin:/bin';
const LAST_LINE_CHARS = 300;

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/**
 * The absolute path `command` names: itself when absolute, else the first executable file of
 * that name in {@link SHELL_TASK_PATH}. Resolved here, not by `spawn`, so a PATH in the job's
 * env cannot change which program an allow-listed name runs.
 */
async function resolveExecutable(command: string): Promise<string | null> {
  if (command.startsWith('/')) return (await isExecutableFile(command)) ? command : null;
  for (const dir of SHELL_TASK_PATH.split(':')) {
    const candidate = path.posix.join(dir, command);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return null;
}

/**
 * Whether `file` (resolved from `command`) is allowed. Paths are compared as written, not
 * through symlinks: multi-call binaries (busybox) pick their behaviour from the name, so an
 * allowed `ls` must not open the door to `sh` because both link to the same file.
 */
async function commandAllowed(command: string, file: string, allowed: readonly string[]): Promise<boolean> {
  if (allowed.length === 0) return true;
  for (const entry of allowed) {
    if (entry.startsWith('/')) {
      if (path.posix.normalize(entry) === file) return true;
    } else if (entry === command || (await resolveExecutable(entry)) === file) {
      return true;
    }
  }
  return false;
}

/** A working directory: the payload's (which must exist) or a fresh empty one we delete afterwards. */
async function workingDirectory(cwd: string | undefined): Promise<{ dir: string; temporary: boolean }> {
  if (cwd === undefined) return { dir: await mkdtemp(path.join(tmpdir(), 'jobplane-shell-')), temporary: true };
  const info = await stat(cwd).catch(() => null);
  if (info === null || !info.isDirectory()) throw new PermanentError(`cwd ${cwd} is not a directory`);
  return { dir: cwd, temporary: false };
}

function lastLine(text: string): string {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  const line = (lines[lines.length - 1] ?? '').trim();
  return line.length > LAST_LINE_CHARS ? `${line.slice(0, LAST_LINE_CHARS)}…` : line;
}

/** Turn a finished process into the job's result, or the error that steers the job. */
function outcomeToResult(outcome: ProcessOutcome, timeoutMs: number, ctx: JobContext): ShellTaskResult {
  if (outcome.stoppedFor === 'abort') throw ctx.signal.reason;
  const tail = lastLine(outcome.stderr);
  const suffix = tail === '' ? '' : `: ${tail}`;
  if (outcome.stoppedFor === 'timeout') {
    throw new Error(`command timed out after ${timeoutMs} ms; its process group was killed${suffix}`);
  }
  if (outcome.signal !== null) throw new Error(`command was killed by ${outcome.signal}${suffix}`);
  if (outcome.exitCode !== 0) throw new Error(`command exited with code ${outcome.exitCode ?? 'unknown'}${suffix}`);
  const { exitCode, signal, stdout, stderr, truncated, durationMs } = outcome;
  return { exitCode, signal, stdout, stderr, truncated, durationMs };
}

/**
 * The `shell` task handler. Throws AppError `TASK_DISABLED` when `options.enabled` is false,
 * so a worker cannot register it by accident.
 */
export function shellTask(options: ShellTaskOptions): AsyncTaskHandler<ShellTaskResult> {
  if (!options.enabled) {
    throw new AppError('TASK_DISABLED', 'the shell task is disabled on this worker (set JOBPLANE_SHELL_ENABLED=true to enable it)');
  }
  return async (raw: unknown, ctx: JobContext): Promise<ShellTaskResult> => {
    const payload = checkedPayload<ShellTaskPayload>('shell', raw);
    const [command = '', ...args] = payload.command;
    const file = await resolveExecutable(command);
    if (file === null) throw new PermanentError(`command not found or not executable: ${command}`);
    if (!(await commandAllowed(command, file, options.allowedCommands))) {
      throw new PermanentError(`command ${command} is not in the allowed commands of this worker`);
    }
    ctx.signal.throwIfAborted();
    const timeoutMs = payload.timeoutMs ?? options.defaultTimeoutMs;
    const { dir, temporary } = await workingDirectory(payload.cwd);
    try {
      const outcome = await runProcess({
        file,
        argv: [command, ...args],
        cwd: dir,
        env: { PATH: SHELL_TASK_PATH, ...payload.env },
        stdin: payload.stdin ?? null,
        timeoutMs,
        killGraceMs: options.killGraceMs,
        maxOutputBytes: options.maxOutputBytes,
        signal: ctx.signal,
      });
      return outcomeToResult(outcome, timeoutMs, ctx);
    } finally {
      if (temporary) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
  };
}
