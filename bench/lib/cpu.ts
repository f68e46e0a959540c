/**
 * CPU time of the processes a benchmark case runs on, read from /proc (Linux only).
 *
 * A `CpuWindow` is opened just before a measured phase and closed at its end. It reads
 * utime + stime (field 14 + 15 of /proc/<pid>/stat, in clock ticks: `getconf CLK_TCK`, normally
 * 100, so 10 ms resolution per process) of two groups:
 *  - the worker processes, by pid (every thread of a process is included: libuv pool, GC);
 *  - every PostgreSQL server process on the machine: each /proc/<pid>/stat whose comm is
 *    `postgres` (postmaster, backends, checkpointer, walwriter, autovacuum, …), whoever they
 *    serve, so other load on the same server is counted too.
 *
 * This process (the harness: the producer, the remaining() polls, IPC from the workers) is read
 * with process.cpuUsage() and reported on its own, outside the total.
 *
 * Processes are identified by (pid, start time), so a pid reused during the window is a new
 * process. Method for processes that start or end during the window:
 *  - read at both ends: the difference is counted;
 *  - appeared during the window (read at the end only): its whole total is counted, since all of
 *    it was spent after the window opened;
 *  - ended during the window (read at the start only): nothing is counted, because its final
 *    figure cannot be read any more; how many there were is reported (`ended`), so a reader can
 *    tell when that matters. A worker pid that cannot be read at one end is reported the same way.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';

/** The fields of one /proc/<pid>/stat this module uses; times in clock ticks. */
export interface ProcStat {
  pid: number;
  comm: string;
  utime: number;
  stime: number;
  /** Start time after boot, in clock ticks: with pid, identifies a process across readings. */
  startTime: number;
}

/** CPU ticks per process, keyed by `pid:startTime`. */
export type CpuSnapshot = Map<string, number>;

/** How one group of processes was counted over a window. */
export interface GroupCpu {
  /** CPU time spent in the window, µs. */
  us: number;
  /** Processes read at both ends. */
  both: number;
  /** Processes read only at the end (started during the window): counted whole. */
  appeared: number;
  /** Processes read only at the start (ended during the window, or unreadable): not counted. */
  ended: number;
}

export interface CpuReading {
  workers: GroupCpu;
  postgres: GroupCpu;
  /** workers.us + postgres.us */
  totalUs: number;
  /** This process (producer and harness), µs; not part of totalUs. */
  harnessUs: number;
  clockTicksPerS: number;
}

let cachedTicks: number | null = null;

/** Clock ticks per second for /proc times (`getconf CLK_TCK`, read once); 100 when getconf fails. */
export function clockTicksPerSecond(): number {
  if (cachedTicks != null) return cachedTicks;
  let ticks = 100;
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 }).trim());
    if (Number.isInteger(n) && n > 0) ticks = n;
  } catch {
    // keep the Linux default
  }
  cachedTicks = ticks;
  return ticks;
}

/** Clock ticks to microseconds at `ticksPerS` ticks per second. */
export function ticksToUs(ticks: number, ticksPerS: number): number {
  return (ticks * 1_000_000) / ticksPerS;
}

/**
 * Parse the text of /proc/<pid>/stat. comm is the text between the first '(' and the last ')'
 * (it may itself contain spaces and parentheses); the numbered fields follow the last ')'.
 * Returns null for text that is not in that format.
 */
export function parseProcStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open <= 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  // Fields from 3 (state) on; field n is rest[n - 3].
  const rest = text.slice(close + 1).trim().split(/\s+/);
  const utime = Number(rest[14 - 3]);
  const stime = Number(rest[15 - 3]);
  const startTime = Number(rest[22 - 3]);
  if (!Number.isInteger(pid) || ![utime, stime, startTime].every(Number.isFinite)) return null;
  return { pid, comm: text.slice(open + 1, close), utime, stime, startTime };
}

/** Read and parse /proc/<pid>/stat under `procRoot`; null when the process is gone or unreadable. */
export function readProcStat(pid: number, procRoot = '/proc'): ProcStat | null {
  try {
    return parseProcStat(readFileSync(join(procRoot, String(pid), 'stat'), 'utf8'));
  } catch {
    return null;
  }
}

/** The snapshot key of a process: pid plus start time, so a reused pid is another process. */
function keyOf(s: ProcStat): string {
  return `${s.pid}:${s.startTime}`;
}

/** utime + stime of the given pids, those that can be read. */
export function snapshotPids(pids: readonly number[], procRoot = '/proc'): CpuSnapshot {
  const out: CpuSnapshot = new Map();
  for (const pid of pids) {
    const s = readProcStat(pid, procRoot);
    if (s) out.set(keyOf(s), s.utime + s.stime);
  }
  return out;
}

/** utime + stime of every process under `procRoot` whose comm is `comm` (default `postgres`). */
export function snapshotByComm(comm = 'postgres', procRoot = '/proc'): CpuSnapshot {
  const out: CpuSnapshot = new Map();
  let entries: string[];
  try {
    entries = readdirSync(procRoot);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const s = readProcStat(Number(name), procRoot);
    if (s && s.comm === comm) out.set(keyOf(s), s.utime + s.stime);
  }
  return out;
}

/**
 * CPU spent between two snapshots of one group, by the method in the module comment: both ends
 * → difference, end only → whole total, start only → nothing (counted in `ended`).
 */
export function diffSnapshots(start: CpuSnapshot, end: CpuSnapshot, ticksPerS: number): GroupCpu {
  let ticks = 0;
  let both = 0;
  let appeared = 0;
  for (const [key, t] of end) {
    const t0 = start.get(key);
    if (t0 === undefined) {
      appeared++;
      ticks += t;
    } else {
      both++;
      ticks += Math.max(0, t - t0);
    }
  }
  let ended = 0;
  for (const key of start.keys()) if (!end.has(key)) ended++;
  return { us: ticksToUs(ticks, ticksPerS), both, appeared, ended };
}

/** A measurement window over a set of worker pids and the machine's PostgreSQL processes. */
export class CpuWindow {
  private constructor(
    private readonly workerPids: readonly number[],
    private readonly procRoot: string,
    private readonly ticksPerS: number,
    private readonly workersAtStart: CpuSnapshot,
    private readonly postgresAtStart: CpuSnapshot,
    private readonly harnessAtStart: NodeJS.CpuUsage,
  ) {}

  /** Open a window now: read the workers', the PostgreSQL processes' and this process's CPU times. */
  static open(workerPids: readonly number[], procRoot = '/proc', ticksPerS = clockTicksPerSecond()): CpuWindow {
    const harness = process.cpuUsage();
    return new CpuWindow(workerPids, procRoot, ticksPerS, snapshotPids(workerPids, procRoot), snapshotByComm('postgres', procRoot), harness);
  }

  /** Read every group again and return the CPU spent since `open()`. Can be called more than once. */
  close(): CpuReading {
    const workers = diffSnapshots(this.workersAtStart, snapshotPids(this.workerPids, this.procRoot), this.ticksPerS);
    const postgres = diffSnapshots(this.postgresAtStart, snapshotByComm('postgres', this.procRoot), this.ticksPerS);
    const harness = process.cpuUsage(this.harnessAtStart);
    return {
      workers,
      postgres,
      totalUs: workers.us + postgres.us,
      harnessUs: harness.user + harness.system,
      clockTicksPerS: this.ticksPerS,
    };
  }
}

/** The CPU figures a scenario reports per run (µs per job, rounded to 0.1 µs). */
export interface CpuPerJob {
  /** (worker + PostgreSQL CPU) / jobs, µs. */
  cpuUsPerJob: number | null;
  workerCpuUsPerJob: number | null;
  pgCpuUsPerJob: number | null;
  /** This process (producer and harness) / jobs, µs; not part of cpuUsPerJob. */
  harnessCpuUsPerJob: number | null;
  /** The window's raw figures: CPU ms per group and how its processes were counted. */
  cpu: {
    workerMs: number;
    pgMs: number;
    harnessMs: number;
    workerProcesses: Omit<GroupCpu, 'us'>;
    pgProcesses: Omit<GroupCpu, 'us'>;
    clockTicksPerS: number;
  };
}

/** Round to `digits` decimals; null for a non-finite value. */
function roundTo(v: number, digits: number): number | null {
  if (!Number.isFinite(v)) return null;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** A window's reading divided over `jobs` jobs (null figures when jobs is 0). */
export function cpuPerJob(reading: CpuReading, jobs: number): CpuPerJob {
  const per = (us: number) => (jobs > 0 ? roundTo(us / jobs, 1) : null);
  const counts = ({ both, appeared, ended }: GroupCpu) => ({ both, appeared, ended });
  return {
    cpuUsPerJob: per(reading.totalUs),
    workerCpuUsPerJob: per(reading.workers.us),
    pgCpuUsPerJob: per(reading.postgres.us),
    harnessCpuUsPerJob: per(reading.harnessUs),
    cpu: {
      workerMs: roundTo(reading.workers.us / 1000, 1) ?? 0,
      pgMs: roundTo(reading.postgres.us / 1000, 1) ?? 0,
      harnessMs: roundTo(reading.harnessUs / 1000, 1) ?? 0,
      workerProcesses: counts(reading.workers),
      pgProcesses: counts(reading.postgres),
      clockTicksPerS: reading.clockTicksPerS,
    },
  };
}

/** The machine's 1, 5 and 15 minute load averages now (os.loadavg()), to two decimals. */
export function loadAverage(): [number, number, number] {
  const [a = 0, b = 0, c = 0] = loadavg().map((v) => roundTo(v, 2) ?? 0);
  return [a, b, c];
}
