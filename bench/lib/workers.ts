/**
 * Parent side of the benchmark worker processes: spawn P children running `worker-process.ts`,
 * wait until each is ready, send `go`, aggregate their counts and latency samples, stop them.
 *
 * Every child is tracked in a process-wide set and killed (SIGKILL) when this process exits,
 * is interrupted, or a stop times out, so no run leaves workers behind.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nowMs } from './driver.js';
import type { BenchSystem } from './driver.js';

export interface WorkerProcessConfig {
  workerModule: string;
  databaseUrl: string;
  concurrency: number;
  /** How often the child sends progress batches; 0 = one message per job. */
  flushIntervalMs: number;
  index: number;
}

export type ParentMessage = { type: 'go' } | { type: 'stop'; timeoutMs: number };

export type ChildMessage =
  | { type: 'ready'; pid: number }
  | { type: 'started'; at: number }
  | { type: 'progress'; count: number; lat: number[]; lastAt: number; firstAt: number | null }
  | { type: 'stopped'; total: number }
  | { type: 'error'; message: string };

const WORKER_PROCESS_PATH = fileURLToPath(new URL('./worker-process.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const live = new Set<ChildProcess>();
let cleanupInstalled = false;

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', killAllWorkers);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAllWorkers();
      process.exit(130);
    });
  }
}

/** SIGKILL every child still alive. */
export function killAllWorkers(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

interface ChildState {
  index: number;
  proc: ChildProcess;
  /** The child's pid as it reported it in `ready` (null before that). */
  pid: number | null;
  ready: boolean;
  started: boolean;
  startedAt: number | null;
  stopped: boolean;
  exited: boolean;
  jobs: number;
}

export interface SpawnOptions {
  system: BenchSystem;
  databaseUrl: string;
  processes: number;
  concurrency: number;
  flushIntervalMs?: number;
  /** Deadline for every child to import its module and report ready. */
  readyTimeoutMs?: number;
}

export class WorkerGroup {
  readonly children: ChildState[] = [];
  /** Jobs started, summed over children (as reported so far). */
  started = 0;
  /** enqueue→start samples (ms), from jobs whose payload had `t`. */
  latencies: number[] = [];
  /** (time, cumulative started) after each progress message; time is the child's lastAt. */
  readonly timeline: Array<{ at: number; count: number }> = [];
  firstJobAt: number | null = null;
  lastJobAt: number | null = null;
  goAt: number | null = null;
  readonly errors: string[] = [];
  private stopping = false;
  private waiters = new Set<() => void>();

  private constructor() {}

  static async spawn(opts: SpawnOptions): Promise<WorkerGroup> {
    installCleanup();
    const group = new WorkerGroup();
    for (let i = 0; i < opts.processes; i++) {
      const cfg: WorkerProcessConfig = {
        workerModule: opts.system.workerModule,
        databaseUrl: opts.databaseUrl,
        concurrency: opts.concurrency,
        flushIntervalMs: opts.flushIntervalMs ?? 10,
        index: i,
      };
      const proc = fork(WORKER_PROCESS_PATH, [JSON.stringify(cfg)], {
        cwd: REPO_ROOT,
        // BENCH_WORKER_NODE_ARGS adds flags for diagnosis, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
        execArgv: ['--import', 'tsx', ...(process.env['BENCH_WORKER_NODE_ARGS']?.split(' ').filter(Boolean) ?? [])],
        // Children must never write to our stdout: it carries the JSON result.
        stdio: ['ignore', 2, 2, 'ipc'],
        env: { ...process.env, ...opts.system.workerEnv, BENCH_WORKER_INDEX: String(i) },
      });
      live.add(proc);
      const state: ChildState = {
        index: i,
        proc,
        pid: null,
        ready: false,
        started: false,
        startedAt: null,
        stopped: false,
        exited: false,
        jobs: 0,
      };
      group.children.push(state);
      proc.on('message', (m: ChildMessage) => group.onMessage(state, m));
      proc.on('exit', (code, signal) => {
        live.delete(proc);
        state.exited = true;
        if (!state.stopped && !group.stopping) group.errors.push(`worker ${i} exited unexpectedly (code ${code}, signal ${signal})`);
        group.notify();
      });
      proc.on('error', (err) => {
        group.errors.push(`worker ${i}: ${err.message}`);
        group.notify();
      });
    }
    await group.waitFor(() => group.children.every((c) => c.ready), opts.readyTimeoutMs ?? 30_000, 'workers ready');
    return group;
  }

  private onMessage(state: ChildState, m: ChildMessage): void {
    switch (m.type) {
      case 'ready':
        state.ready = true;
        state.pid = m.pid;
        break;
      case 'started':
        state.started = true;
        state.startedAt = m.at;
        break;
      case 'progress':
        state.jobs += m.count;
        this.started += m.count;
        for (const v of m.lat) this.latencies.push(v);
        if (m.firstAt != null && (this.firstJobAt == null || m.firstAt < this.firstJobAt)) this.firstJobAt = m.firstAt;
        if (this.lastJobAt == null || m.lastAt > this.lastJobAt) this.lastJobAt = m.lastAt;
        this.timeline.push({ at: m.lastAt, count: this.started });
        break;
      case 'stopped':
        state.stopped = true;
        break;
      case 'error':
        this.errors.push(`worker ${state.index}: ${m.message}`);
        break;
    }
    this.notify();
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** A child died or reported an error. */
  get failed(): boolean {
    return this.errors.length > 0;
  }

  /**
   * Resolve when `pred()` holds (re-checked after every message and every `pollMs`).
   * Throws on timeout or when a worker failed.
   */
  waitFor(pred: () => boolean, timeoutMs: number, label: string, pollMs = 50): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (err?: Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        clearInterval(poll);
        this.waiters.delete(check);
        if (err) reject(err);
        else resolve();
      };
      const check = () => {
        if (this.failed) finish(new Error(`${label}: ${this.errors.join('; ')}`));
        else if (pred()) finish();
      };
      const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${label}`)), timeoutMs);
      const poll = setInterval(check, pollMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Send `go` to every child (they start their workers now). */
  go(): number {
    this.goAt = nowMs();
    for (const c of this.children) c.proc.send({ type: 'go' } satisfies ParentMessage);
    return this.goAt;
  }

  /** Wait until every child's `start()` resolved. */
  async waitStarted(timeoutMs = 30_000): Promise<void> {
    await this.waitFor(() => this.children.every((c) => c.started), timeoutMs, 'workers started');
  }

  /** Latest `start()` completion time over the children. */
  get allStartedAt(): number | null {
    let t: number | null = null;
    for (const c of this.children) {
      if (c.startedAt == null) return null;
      t = t == null ? c.startedAt : Math.max(t, c.startedAt);
    }
    return t;
  }

  /** The pids the children reported when ready (for CPU accounting from /proc); complete once spawn() resolved. */
  get pids(): number[] {
    return this.children.map((c) => c.pid).filter((p): p is number => p != null);
  }

  jobsPerProcess(): number[] {
    return this.children.map((c) => c.jobs);
  }

  /** Graceful stop with a deadline; SIGKILL whatever is still running after it. */
  async stop(timeoutMs = 15_000): Promise<void> {
    this.stopping = true;
    for (const c of this.children) {
      if (!c.exited && c.proc.connected) c.proc.send({ type: 'stop', timeoutMs: Math.max(1000, timeoutMs - 2000) } satisfies ParentMessage);
    }
    const allExited = () => this.children.every((c) => c.exited);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('stop timed out')), timeoutMs);
        const check = () => {
          if (allExited()) {
            clearTimeout(timer);
            clearInterval(poll);
            this.waiters.delete(check);
            resolve();
          }
        };
        const poll = setInterval(check, 50);
        this.waiters.add(check);
        check();
      });
    } catch {
      this.kill();
      this.errors.push('workers did not stop in time; killed');
    }
  }

  /** SIGKILL all children of this group now. */
  kill(): void {
    this.stopping = true;
    for (const c of this.children) {
      if (!c.exited) {
        c.stopped = true;
        try {
          c.proc.kill('SIGKILL');
        } catch {
          // gone
        }
      }
    }
  }
}
