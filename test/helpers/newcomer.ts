/**
 * `bin/jobplane.js` as a child process in a folder of its own, the way a newcomer runs it: no
 * DATABASE_URL unless given, cwd and TMPDIR in a fresh temporary folder. Every child (and any
 * embedded PostgreSQL left under the test's folders) is stopped in an after() hook, however the
 * test ends; children also stop when the test process dies (EXIT_WITH_PARENT).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EXIT_WITH_PARENT } from './jobplane-process.js';

/** The repository's root (where bin/jobplane.js is). */
export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** A `jobplane` child process. */
export interface JobplaneChild {
  process: ChildProcess;
  /** stdout lines so far. */
  lines: string[];
  /** stderr so far. */
  stderr(): string;
  /** Resolves with its exit code (or signal name). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolve with the first stdout line matching `pattern`; reject if it exits first or after `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolve with its exit; SIGKILL it and reject after `timeoutMs`. */
  waitForExit(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM and wait (SIGKILL after 15 s). */
  stop(): Promise<void>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
}

const children = new Set<JobplaneChild>();
const folders: string[] = [];

after(async () => {
  await Promise.allSettled([...children].map((c) => c.stop()));
  // A child SIGKILLed on purpose (or by a failing test) leaves its server behind: stop those too.
  for (const folder of folders) {
    for (const pid of await postgresProcessesUnder(folder)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  await Promise.allSettled(folders.map((f) => rm(f, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })));
});

/**
 * A fresh folder for one test, removed after the file. Mode 0755: when tests run as root, the
 * embedded server runs as the `postgres` user, which must be able to enter it.
 */
export async function freshFolder(name: string): Promise<{ root: string; cwd: string; tmp: string }> {
  const root = await mkdtemp(join(tmpdir(), `jobplane-newcomer-${name}-`));
  folders.push(root);
  await chmod(root, 0o755);
  const cwd = join(root, 'work');
  const tmp = join(root, 'tmp');
  await mkdir(cwd, { mode: 0o755 });
  await mkdir(tmp, { mode: 0o755 });
  await chmod(tmp, 0o755);
  // tsx keeps its compile cache in $TMPDIR/tsx-<uid>: share this process's (warm) one, or every
  // child would compile the whole tree again.
  const cache = `tsx-${process.getuid?.() ?? 0}`;
  await mkdir(join(tmpdir(), cache), { recursive: true });
  await symlink(join(tmpdir(), cache), join(tmp, cache));
  return { root, cwd, tmp };
}

/** The environment a newcomer has: none of Jobplane's or the test runner's database settings. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || /^(DATABASE_URL|DB_|JOBPLANE_|PORT$|PG|TEST_DATABASE_URL|LOG_|OTEL_)/.test(key)) continue;
    env[key] = value;
  }
  return env;
}

/**
 * Start `node bin/jobplane.js <args>` in `cwd` with TMPDIR=`tmp` and `env` on top of a clean
 * environment. `bin` overrides the script (a path under a symlinked tree, with `nodeArgs`).
 */
export function runJobplane(args: string[], options: { cwd: string; tmp: string; env?: Record<string, string>; bin?: string; nodeArgs?: string[] }): JobplaneChild {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', TSX, '--import', EXIT_WITH_PARENT, options.bin ?? join(REPO, 'bin', 'jobplane.js'), ...args], {
    cwd: options.cwd,
    env: { ...cleanEnv(), TMPDIR: options.tmp, JOBPLANE_HOST: '127.0.0.1', LOG_LEVEL: 'info', LOG_FORMAT: 'json', JOBPLANE_ADMIN_PASSWORD: 'newcomer password', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const lines: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const listeners = new Set<(line: string) => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const listener of listeners) listener(line);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const running = () => child.exitCode === null && child.signalCode === null;
  const describe = () => `stdout:\n${lines.join('\n')}\nstderr:\n${stderr}`;
  const handle: JobplaneChild = {
    process: child,
    lines,
    stderr: () => stderr,
    exited,
    waitForLine(pattern, timeoutMs = 150_000) {
      const seen = lines.find((l) => pattern.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(() => reject(new Error(`no line matching ${String(pattern)} within ${timeoutMs} ms\n${describe()}`))), timeoutMs);
        const listener = (line: string) => {
          if (pattern.test(line)) finish(() => resolve(line));
        };
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(listener);
          settle();
        };
        listeners.add(listener);
        void exited.then(() => finish(() => reject(new Error(`exited before a line matching ${String(pattern)}\n${describe()}`))));
      });
    },
    async waitForExit(timeoutMs = 150_000) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
      const outcome = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        child.kill('SIGKILL');
        throw new Error(`still running after ${timeoutMs} ms\n${describe()}`);
      }
      return outcome;
    },
    async stop() {
      if (running()) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      children.delete(handle);
    },
    async kill() {
      if (running()) child.kill('SIGKILL');
      await exited;
      children.delete(handle);
    },
  };
  children.add(handle);
  return handle;
}

/** pids of live postgres processes whose command line names something under `folder`. */
export async function postgresProcessesUnder(folder: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const argv0 = cmdline.split('\0')[0] ?? '';
    if (/(postgres|initdb)$/.test(argv0) && cmdline.includes(folder)) pids.push(Number(entry));
  }
  return pids;
}

/** Entries of `dir` whose names start with `prefix`. */
export async function entriesStartingWith(dir: string, prefix: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).filter((name) => name.startsWith(prefix));
}
