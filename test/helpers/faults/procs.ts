/**
 * Child processes for the fault battery. Like test/helpers/processes.ts and jobplane-process.ts,
 * but stdout and stderr are captured into a ring buffer instead of inherited, so a failure can
 * name the process that died and show its last lines; exits are recorded with code and signal,
 * and a process can be frozen (SIGSTOP) with a watchdog that thaws it even if this test process
 * is killed meanwhile (a stopped child would never notice that its parent is gone).
 *
 * Every child loads EXIT_WITH_PARENT (it stops when this process goes away), and every child
 * still alive when this process exits is SIGKILLed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { EXIT_WITH_PARENT, freePort } from '../jobplane-process.js';

/** One line a child printed, with its stream and time. */
interface Line {
  at: number;
  stream: 'out' | 'err';
  text: string;
}

/** A child process under a fault test. */
export interface FaultProcess {
  /** A name for messages (`worker-a`, `jobplane`, …). */
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  /** IPC messages received, in order. */
  readonly messages: Array<Record<string, unknown>>;
  /** How it ended, once it has; `expected` when the test killed or stopped it. */
  readonly exit: { code: number | null; signal: NodeJS.Signals | null; at: number; expected: boolean } | null;
  /** Whether it is running (not exited; may be frozen). */
  readonly alive: boolean;
  /** Resolve with the first message matching `match` (also one received earlier). */
  waitFor(match: (m: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Send an IPC message. */
  send(message: Record<string, unknown>): void;
  /** The last `n` lines it printed (stderr marked `!`). */
  tail(n?: number): string;
  /** Lines that look like trouble: stderr, and JSON log lines at warn or above. */
  trouble(n?: number): string;
  /** One paragraph for a failure message: pid, state, exit, last lines. */
  describe(lines?: number): string;
  /** SIGSTOP now; a detached watchdog sends SIGCONT after `maxMs` whatever happens to this process. */
  freeze(maxMs: number): void;
  /** SIGCONT (and cancel the watchdog). */
  thaw(): void;
  /** SIGKILL and wait for exit. Idempotent. */
  kill(): Promise<void>;
  /** SIGCONT + SIGTERM, wait for exit, SIGKILL after `graceMs`. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/** Names the owner of a pg client whose unhandled 'error' ends a child (see the module). */
const PG_TRACE = new URL('./pg-trace.ts', import.meta.url).href;

const live = new Set<FaultProcess>();
process.once('exit', () => {
  for (const child of live) {
    try {
      child.process.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** Options for {@link spawnChild}. */
export interface SpawnOptions {
  name: string;
  /** Arguments after `node --import tsx --import EXIT_WITH_PARENT --import pg-trace`. */
  args: string[];
  env: Record<string, string>;
  /** Lines kept per process. @defaultValue 400 */
  keepLines?: number;
  /** Called with every line it prints. */
  onLine?: (text: string, stream: 'out' | 'err') => void;
}

/** Spawn `node --import tsx --import EXIT_WITH_PARENT --import pg-trace <args>` with captured output and IPC. */
export function spawnChild(options: SpawnOptions): FaultProcess {
  const keep = options.keepLines ?? 400;
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', EXIT_WITH_PARENT, '--import', PG_TRACE, ...options.args], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const lines: Line[] = [];
  const push = (stream: 'out' | 'err') => (text: string) => {
    lines.push({ at: Date.now(), stream, text });
    if (lines.length > keep) lines.shift();
    options.onLine?.(text, stream);
  };
  createInterface({ input: child.stdout! }).on('line', push('out'));
  createInterface({ input: child.stderr! }).on('line', push('err'));
  const messages: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  child.on('message', (m) => {
    messages.push(m as Record<string, unknown>);
    for (const w of waiters) w();
  });
  // An IPC write to a child that just died must not become an uncaught error here.
  child.on('error', (error) => push('err')(`[spawn error] ${error.message}`));
  let exit: FaultProcess['exit'] = null;
  let expected = false;
  let watchdog: ChildProcess | null = null;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = { code, signal, at: Date.now(), expected };
      live.delete(proc);
      watchdog?.kill('SIGKILL');
      for (const w of waiters) w();
      resolve();
    }),
  );
  const format = (l: Line) => `${new Date(l.at).toISOString().slice(11, 23)} ${l.stream === 'err' ? '!' : ' '} ${l.text.length > 400 ? `${l.text.slice(0, 400)}…` : l.text}`;
  const running = () => child.exitCode === null && child.signalCode === null;
  const proc: FaultProcess = {
    name: options.name,
    process: child,
    pid: child.pid ?? -1,
    messages,
    get exit() {
      return exit;
    },
    get alive() {
      return running();
    },
    waitFor(match, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.find(match);
          if (found) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          } else if (exit) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`${options.name} exited before the awaited message:\n${proc.describe()}`));
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${options.name}: no matching message within ${timeoutMs} ms:\n${proc.describe()}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    send(message) {
      if (running() && child.connected) child.send(message);
    },
    tail(n = 30) {
      return lines.slice(-n).map(format).join('\n');
    },
    trouble(n = 30) {
      return lines
        .filter((l) => l.stream === 'err' || /"level":(4|5|6)\d/.test(l.text))
        .slice(-n)
        .map(format)
        .join('\n');
    },
    describe(n = 25) {
      const state = exit
        ? `exited code=${String(exit.code)} signal=${String(exit.signal)}${exit.expected ? ' (killed by the test)' : ' (UNEXPECTED)'} at ${new Date(exit.at).toISOString()}`
        : 'running';
      const trouble = proc.trouble(n);
      const out = lines.filter((l) => l.stream === 'out').slice(-8).map(format).join('\n');
      return `--- ${options.name} (pid ${proc.pid}): ${state}\n${trouble ? `last stderr / warnings:\n${trouble}\n` : ''}${out ? `last stdout lines:\n${out}` : ''}`;
    },
    freeze(maxMs) {
      if (!running()) return;
      process.kill(proc.pid, 'SIGSTOP');
      watchdog?.kill('SIGKILL');
      // A separate, detached process: it thaws the child even if this process is SIGKILLed.
      watchdog = spawn(process.execPath, ['-e', `setTimeout(() => { try { process.kill(${proc.pid}, 'SIGCONT'); } catch {} }, ${Math.ceil(maxMs)});`], {
        detached: true,
        stdio: 'ignore',
      });
      watchdog.unref();
    },
    thaw() {
      watchdog?.kill('SIGKILL');
      watchdog = null;
      if (running()) process.kill(proc.pid, 'SIGCONT');
    },
    async kill() {
      expected = true;
      if (running()) child.kill('SIGKILL');
      await exited;
    },
    async stop(graceMs = 10_000) {
      expected = true;
      if (running()) {
        proc.thaw();
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
    },
  };
  live.add(proc);
  return proc;
}

/** A fixture (`test/fixtures/<file>.ts`) as a child; see {@link spawnChild}. */
export function startFaultFixture(name: string, fixture: string, env: Record<string, string>): FaultProcess {
  return spawnChild({ name, args: [fixture], env });
}

/** A `jobplane start` child with its api address (when it runs the api role) and ids. */
export interface JobplaneChild extends FaultProcess {
  url: string;
  workerId: string | null;
  schedulerId: string | null;
  opsUrl: string | null;
}

/**
 * `bin/jobplane.js start` with `env` and `args`, resolved once it logs "jobplane is running".
 * Output is captured (see {@link spawnChild}); the api port is free and on 127.0.0.1.
 */
export async function startJobplaneChild(name: string, env: Record<string, string>, args: string[] = []): Promise<JobplaneChild> {
  const port = await freePort();
  let announce: (line: string) => void = () => undefined;
  const announced = new Promise<string>((resolve) => (announce = resolve));
  const proc = spawnChild({
    name,
    args: ['bin/jobplane.js', 'start', ...args],
    env: { PORT: String(port), JOBPLANE_HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    keepLines: 2000,
    onLine: (line, stream) => {
      if (stream === 'out' && line.includes('"jobplane is running')) announce(line);
    },
  });
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const running = await Promise.race([
    announced.then((line) => JSON.parse(line) as { workerId?: string; schedulerId?: string; opsUrl?: string }),
    new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${name} was not running within 60 s:\n${proc.describe(40)}`)), 60_000);
      // Let the output buffers take the last lines first.
      proc.process.once('exit', () => setTimeout(() => reject(new Error(`${name} exited while starting (after ${Date.now() - started} ms):\n${proc.describe(40)}`)), 50));
    }),
  ]).finally(() => clearTimeout(timer));
  return Object.assign(proc, {
    url: `http://127.0.0.1:${port}`,
    workerId: running.workerId ?? null,
    schedulerId: running.schedulerId ?? null,
    opsUrl: running.opsUrl ?? null,
  });
}

/**
 * Every process that exited without the test asking it to, described (empty when none did).
 * The faults under test must never end a process.
 */
export function unexpectedExits(processes: readonly FaultProcess[]): string {
  return processes
    .filter((p) => p.exit !== null && !p.exit.expected)
    .map((p) => p.describe(40))
    .join('\n');
}
