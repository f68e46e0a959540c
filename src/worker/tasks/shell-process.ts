/**
 * Runs one program in its own process group with captured, capped output, and kills the
 * whole group (SIGTERM, then SIGKILL after a grace period) on timeout, on abort, and when the
 * program exits leaving children behind. Killing only the direct child would leave its
 * children running and holding our pipes open (docs/decisions.md #21: own process group, kill `-pgid`).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Readable } from 'node:stream';

/** How to run the program. */
export interface ProcessSpec {
  /** Absolute path of the executable. */
  file: string;
  /** argv as written by the user; `argv[0]` becomes the program's argv[0]. */
  argv: readonly string[];
  /** Working directory. */
  cwd: string;
  /** The complete environment of the program. */
  env: Record<string, string>;
  /** Text for standard input (closed right after), or null for an empty stdin. */
  stdin: string | null;
  /** Time limit in ms. */
  timeoutMs: number;
  /** Time between SIGTERM and SIGKILL, in ms. */
  killGraceMs: number;
  /** Captured bytes per stream. */
  maxOutputBytes: number;
  /** Stops the program early. */
  signal: AbortSignal;
}

/** How the program ended. */
export interface ProcessOutcome {
  /** Exit code, or null when it was ended by a signal. */
  exitCode: number | null;
  /** Signal that ended it, or null. */
  signal: NodeJS.Signals | null;
  /** Captured standard output (UTF-8, capped). */
  stdout: string;
  /** Captured standard error (UTF-8, capped). */
  stderr: string;
  /** Whether either stream produced more than was kept. */
  truncated: boolean;
  /** Why we stopped it, if we did. */
  stoppedFor: 'timeout' | 'abort' | null;
  /** Wall time in ms. */
  durationMs: number;
}

/** Keeps the first `max` bytes of a stream and keeps draining the rest so the writer never blocks. */
class CappedOutput {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(stream: Readable, private readonly max: number) {
    stream.on('data', (chunk: Buffer) => this.add(chunk));
    // A read error only loses output; the exit status is still what decides the job.
    stream.on('error', () => undefined);
  }

  private add(chunk: Buffer): void {
    const room = this.max - this.size;
    if (chunk.length > room) {
      this.truncated = true;
      if (room <= 0) return;
      this.chunks.push(chunk.subarray(0, room));
      this.size += room;
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  text(): string {
    return Buffer.concat(this.chunks, this.size).toString('utf8');
  }
}

/** Signal every process in group `pgid`; returns false when the group is already gone (ESRCH). */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Ends a process group: SIGTERM now, SIGKILL after a grace period. Acts once. */
class GroupTerminator {
  private sent = false;

  constructor(private readonly pgid: number | undefined, private readonly graceMs: number) {}

  terminate(): void {
    const pgid = this.pgid;
    if (pgid === undefined || this.sent || !signalGroup(pgid, 'SIGTERM')) return;
    this.sent = true;
    // Never cancelled: a member that ignores SIGTERM and has closed its pipes must still die.
    setTimeout(() => signalGroup(pgid, 'SIGKILL'), this.graceMs).unref();
  }
}

function startProcess(spec: ProcessSpec): ChildProcessWithoutNullStreams {
  const child = spawn(spec.file, spec.argv.slice(1), {
    argv0: spec.argv[0] ?? spec.file,
    cwd: spec.cwd,
    env: spec.env,
    shell: false,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    windowsHide: true,
  });
  // EPIPE when the program exits without reading its input is not an error of the job.
  child.stdin.on('error', () => undefined);
  child.stdin.end(spec.stdin ?? undefined);
  return child;
}

/**
 * Run the program to completion (or until killed). Rejects only when it cannot be started
 * (the error from `spawn`, e.g. ENOENT/EACCES); every other ending is a {@link ProcessOutcome}.
 */
export function runProcess(spec: ProcessSpec): Promise<ProcessOutcome> {
  const started = performance.now();
  const child = startProcess(spec);
  const stdout = new CappedOutput(child.stdout, spec.maxOutputBytes);
  const stderr = new CappedOutput(child.stderr, spec.maxOutputBytes);
  const group = new GroupTerminator(child.pid, spec.killGraceMs);
  return new Promise<ProcessOutcome>((resolve, reject) => {
    let stoppedFor: ProcessOutcome['stoppedFor'] = null;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let closeTimer: NodeJS.Timeout | undefined;
    let done = false;
    const stop = (why: 'timeout' | 'abort'): void => {
      stoppedFor ??= why;
      group.terminate();
    };
    const onAbort = (): void => stop('abort');
    const timeout = setTimeout(() => stop('timeout'), spec.timeoutMs);
    spec.signal.addEventListener('abort', onAbort, { once: true });
    const settle = (): boolean => {
      if (done) return false;
      done = true;
      clearTimeout(timeout);
      clearTimeout(closeTimer);
      spec.signal.removeEventListener('abort', onAbort);
      return true;
    };
    const finish = (): void => {
      if (!settle()) return;
      const truncated = stdout.truncated || stderr.truncated;
      const durationMs = Math.round(performance.now() - started);
      resolve({ exitCode: exit?.code ?? null, signal: exit?.signal ?? null, stdout: stdout.text(), stderr: stderr.text(), truncated, stoppedFor, durationMs });
    };
    child.once('error', (error) => {
      if (child.pid === undefined && settle()) reject(error);
    });
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      // Children left behind would outlive the job and keep our pipes open: end them too.
      group.terminate();
      // A process that left the group (setsid) may still hold the pipes; do not wait for it forever.
      closeTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish();
      }, spec.killGraceMs + 1000);
    });
    child.once('close', finish);
    if (spec.signal.aborted) stop('abort');
  });
}
