/**
 * Scenario 2 — drain throughput.
 *
 * Pre-queue `jobs` no-op jobs (bulk API, batches of 1,000) into a fresh database, start P worker
 * processes (each at `concurrency`), wait until every process has imported its worker module,
 * CHECKPOINT, then send "go" (the processes call `start()` now) and measure until `remaining()`
 * is 0. Progress comes from the workers over IPC (jobs started, with timestamps); `remaining()`
 * is polled once a second during the drain and every 20 ms once every job has been reported
 * started, so the end is "all jobs completed in the database", not "all started".
 *
 * Reported per (system, P):
 *  - jobsPerS: jobs / (end − go), startup included;
 *  - steadyJobsPerS: 80 % of the jobs / time between 10 % and 90 % started;
 *  - startupMs (go → every start() resolved), firstJobMs, jobs per process;
 *  - commitsPerJob: transactions committed in the database during the drain / jobs
 *    (pg_stat_database, remaining() polls subtracted);
 *  - cpuUsPerJob = workerCpuUsPerJob + pgCpuUsPerJob: CPU time (utime + stime from /proc) from
 *    go to the end of the drain of the P worker processes and of every PostgreSQL server process
 *    on the machine, divided by jobs (method: lib/cpu.ts); harnessCpuUsPerJob (this process) apart;
 *  - loadAvg: os.loadavg() at the end of the drain.
 *
 * Every (system, P) case runs `reps` times (systems interleaved); the headline is the median.
 * Details per P carry the median and range ([min, max]) of jobs/s and CPU per job.
 *
 *   npx tsx bench/drain.ts [--systems a,b] [--jobs 50000] [--processes 1,2] [--concurrency 10] [--reps 3]
 */
import { nowMs } from './lib/driver.js';
import type { BenchSystem } from './lib/driver.js';
import { CpuWindow, cpuPerJob, loadAverage } from './lib/cpu.js';
import type { CpuPerJob } from './lib/cpu.js';
import { checkpoint, createFreshDatabase, readCommitCounts } from './lib/db.js';
import type { Args, ScenarioResult } from './lib/harness.js';
import {
  argNumber,
  argNumberList,
  attempt,
  isFailure,
  isMain,
  log,
  quietly,
  rotate,
  runMain,
  selectSystems,
  sleep,
  withDeadline,
} from './lib/harness.js';
import { median, medianRange, round } from './lib/stats.js';
import { waitForQuiet } from './lib/quiet.js';
import type { QuietReport } from './lib/quiet.js';
import { WorkerGroup } from './lib/workers.js';
import { resolveVariant, systems as registry } from './peers/index.js';

export interface DrainOptions {
  jobs: number;
  processes: number[];
  concurrency: number;
  /** Repetitions of every (system, P) case; the headline is the median. */
  reps: number;
  /** Deadline for one drain (after go), ms. */
  timeoutMs: number;
}

export const drainDefaults: DrainOptions = { jobs: 50_000, processes: [1, 2], concurrency: 10, reps: 3, timeoutMs: 120_000 };
export const MIN_DRAIN_JOBS = 20_000;

interface DrainRun extends CpuPerJob {
  jobsPerS: number;
  steadyJobsPerS: number | null;
  seconds: number;
  startupMs: number | null;
  firstJobMs: number | null;
  jobsPerProcess: number[];
  jobsStartedReported: number;
  commitsPerJob: number | null;
  rollbacks: number | null;
  enqueueSeconds: number;
  background: QuietReport;
  /** os.loadavg() (1, 5, 15 min) at the end of the drain. */
  loadAvg: [number, number, number];
}

/**
 * Time at which the cumulative started count crossed `target`, linearly interpolated.
 * `timeline` holds cumulative counts in message arrival order; messages from different
 * processes can arrive slightly out of time order, so the increments are re-sorted by time.
 */
export function crossingTime(
  timeline: ReadonlyArray<{ at: number; count: number }>,
  target: number,
  start: { at: number; count: number },
): number | null {
  const deltas: Array<{ at: number; n: number }> = [];
  let last = 0;
  for (const p of timeline) {
    deltas.push({ at: p.at, n: p.count - last });
    last = p.count;
  }
  deltas.sort((a, b) => a.at - b.at);
  let prev = start;
  let cum = start.count;
  for (const d of deltas) {
    cum += d.n;
    if (cum >= target) {
      if (cum === prev.count || d.at === prev.at) return d.at;
      return prev.at + ((target - prev.count) / (cum - prev.count)) * (d.at - prev.at);
    }
    prev = { at: d.at, count: cum };
  }
  return null;
}

async function oneDrain(system: BenchSystem, opts: DrainOptions, processes: number): Promise<DrainRun> {
  const db = await createFreshDatabase(system.name, `drain_p${processes}`);
  let group: WorkerGroup | null = null;
  try {
    await withDeadline(system.setup(db.url), 60_000, `${system.name} setup`);
    const loader = await withDeadline(system.producer(db.url), 30_000, 'producer');
    const e0 = nowMs();
    try {
      await withDeadline(loader.bulkEnqueue(opts.jobs, 1_000), 120_000, 'pre-queue');
    } finally {
      await quietly('producer close', () => loader.close());
    }
    const enqueueSeconds = (nowMs() - e0) / 1000;

    group = await WorkerGroup.spawn({ system, databaseUrl: db.url, processes, concurrency: opts.concurrency });
    const producer = await withDeadline(system.producer(db.url), 30_000, 'producer');
    let producerClosed = false;
    const closeProducer = async () => {
      if (producerClosed) return;
      producerClosed = true;
      await producer.close();
    };
    let polls = 0;
    const remaining = async () => {
      polls++;
      return withDeadline(producer.remaining(), 10_000, 'remaining()');
    };
    try {
      const before = await remaining();
      if (before !== opts.jobs) throw new Error(`expected ${opts.jobs} queued jobs, found ${before}`);
      await sleep(1100); // let the producer's backend flush its statistics before the baseline
      const base = await readCommitCounts(db.name);
      const basePolls = polls;
      await checkpoint();
      const background = await waitForQuiet();

      const g = group;
      if (g.pids.length !== processes) throw new Error(`expected ${processes} worker pids, got ${g.pids.length}`);
      const cpuWindow = CpuWindow.open(g.pids);
      const goAt = g.go();
      const deadline = goAt + opts.timeoutMs;
      let endAt: number | null = null;
      // Phase 1: until every job has been reported started (or remaining() hits 0), checking remaining() once a second.
      let lastCheck = goAt;
      while (endAt == null) {
        if (nowMs() > deadline) throw new Error(`drain not finished after ${opts.timeoutMs} ms (${g.started}/${opts.jobs} started)`);
        if (g.failed) throw new Error(g.errors.join('; '));
        if (g.started >= opts.jobs) break;
        if (nowMs() - lastCheck >= 1000) {
          lastCheck = nowMs();
          if ((await remaining()) === 0) endAt = nowMs();
        }
        await sleep(10);
      }
      // Phase 2: all started; poll remaining() every 20 ms until the database agrees.
      while (endAt == null) {
        if (nowMs() > deadline) throw new Error(`jobs started but not completed after ${opts.timeoutMs} ms`);
        if ((await remaining()) === 0) endAt = nowMs();
        else await sleep(20);
      }
      const cpu = cpuPerJob(cpuWindow.close(), opts.jobs);
      const loadAvg = loadAverage();
      const seconds = (endAt - goAt) / 1000;
      const startPoint = { at: goAt, count: 0 };
      const t10 = crossingTime(g.timeline, opts.jobs * 0.1, startPoint);
      const t90 = crossingTime(g.timeline, opts.jobs * 0.9, startPoint);
      const steady = t10 != null && t90 != null && t90 > t10 ? (opts.jobs * 0.8) / ((t90 - t10) / 1000) : null;
      const startedAt = g.allStartedAt;
      const run: Omit<DrainRun, 'commitsPerJob' | 'rollbacks'> = {
        background,
        jobsPerS: round(opts.jobs / seconds, 0)!,
        steadyJobsPerS: round(steady, 0),
        seconds: round(seconds, 3)!,
        startupMs: startedAt != null ? round(startedAt - goAt, 1) : null,
        firstJobMs: g.firstJobAt != null ? round(g.firstJobAt - goAt, 1) : null,
        jobsPerProcess: [],
        jobsStartedReported: 0,
        enqueueSeconds: round(enqueueSeconds, 2)!,
        ...cpu,
        loadAvg,
      };
      await g.stop();
      group = null;
      run.jobsPerProcess = g.jobsPerProcess();
      run.jobsStartedReported = g.started;
      const drainPolls = polls - basePolls;
      await quietly('producer close', closeProducer);
      await sleep(300);
      const after = await readCommitCounts(db.name);
      const commits = after.commits - base.commits - drainPolls;
      log(
        `${system.name} P=${processes}: ${run.jobsPerS} jobs/s overall, ${run.steadyJobsPerS} steady, ` +
          `${run.seconds} s, ${(commits / opts.jobs).toFixed(3)} commits/job, CPU ${run.cpuUsPerJob} µs/job ` +
          `(workers ${run.workerCpuUsPerJob}, PostgreSQL ${run.pgCpuUsPerJob}), load ${loadAvg[0]}`,
      );
      return { ...run, commitsPerJob: round(commits / opts.jobs, 3), rollbacks: after.rollbacks - base.rollbacks };
    } finally {
      await quietly('producer close', closeProducer);
    }
  } finally {
    if (group) await quietly('stop workers', () => group!.stop(10_000), 15_000);
    await quietly(`drop ${db.name}`, () => db.drop());
  }
}

export async function drain(systems: BenchSystem[], partial: Partial<DrainOptions> = {}): Promise<ScenarioResult> {
  const opts: DrainOptions = { ...drainDefaults, ...partial };
  if (opts.jobs < MIN_DRAIN_JOBS) throw new Error(`--jobs must be at least ${MIN_DRAIN_JOBS} for the drain scenario`);
  type Outcome = DrainRun | { failed: true; error: string };
  const runs: Record<string, Record<string, Outcome[]>> = {};
  const elapsed: Record<string, number> = {};
  for (const s of systems) {
    runs[s.name] = Object.fromEntries(opts.processes.map((p) => [`p${p}`, [] as Outcome[]]));
    elapsed[s.name] = 0;
  }
  let k = 0;
  for (let rep = 0; rep < opts.reps; rep++) {
    for (const p of opts.processes) {
      for (const system of rotate(systems, k++)) {
        const t0 = nowMs();
        runs[system.name]![`p${p}`]!.push(
          await attempt(`${system.name} drain P=${p} rep ${rep + 1}`, () => oneDrain(system, opts, p)),
        );
        elapsed[system.name]! += (nowMs() - t0) / 1000;
      }
    }
  }
  const headline: ScenarioResult['headline'] = {};
  const ranges: NonNullable<ScenarioResult['ranges']> = {};
  const metrics: ScenarioResult['metrics'] = {};
  const details: ScenarioResult['details'] = {};
  for (const p of opts.processes) {
    metrics[`drainJobsPerS_p${p}`] = { unit: 'jobs/s', better: 'higher' };
    metrics[`drainSteadyJobsPerS_p${p}`] = { unit: 'jobs/s', better: 'higher' };
    metrics[`drainCpuUsPerJob_p${p}`] = { unit: 'µs CPU/job', better: 'lower' };
  }
  for (const s of systems) {
    const h: Record<string, number | null> = {};
    const r: Record<string, [number, number] | null> = {};
    const d: Record<string, unknown> = {};
    for (const p of opts.processes) {
      const all = runs[s.name]![`p${p}`]!;
      const ok = all.filter((r): r is DrainRun => !isFailure(r));
      const figures = (pick: (r: DrainRun) => number | null): number[] =>
        ok.map(pick).filter((v): v is number => v != null);
      const overall = figures((r) => r.jobsPerS);
      const steady = figures((r) => r.steadyJobsPerS);
      const cpu = figures((r) => r.cpuUsPerJob);
      h[`drainJobsPerS_p${p}`] = round(median(overall), 0);
      h[`drainSteadyJobsPerS_p${p}`] = round(median(steady), 0);
      h[`drainCpuUsPerJob_p${p}`] = round(median(cpu), 1);
      const jobsPerS = medianRange(overall, 0);
      const steadyJobsPerS = medianRange(steady, 0);
      const cpuUsPerJob = medianRange(cpu, 1);
      r[`drainJobsPerS_p${p}`] = jobsPerS.range;
      r[`drainSteadyJobsPerS_p${p}`] = steadyJobsPerS.range;
      r[`drainCpuUsPerJob_p${p}`] = cpuUsPerJob.range;
      d[`p${p}`] = {
        medianJobsPerS: round(median(overall), 0),
        medianSteadyJobsPerS: round(median(steady), 0),
        bestJobsPerS: overall.length ? Math.max(...overall) : null,
        jobsPerS,
        steadyJobsPerS,
        cpuUsPerJob,
        workerCpuUsPerJob: medianRange(figures((r) => r.workerCpuUsPerJob), 1),
        pgCpuUsPerJob: medianRange(figures((r) => r.pgCpuUsPerJob), 1),
        harnessCpuUsPerJob: medianRange(figures((r) => r.harnessCpuUsPerJob), 1),
        loadAvg1m: medianRange(figures((r) => r.loadAvg[0]), 2),
        failures: all.length - ok.length,
        runs: all,
      };
    }
    headline[s.name] = h;
    ranges[s.name] = r;
    details[s.name] = d;
    elapsed[s.name] = round(elapsed[s.name], 1)!;
  }
  return {
    scenario: 'drain',
    params: {
      ...opts,
      preQueueBatch: 1_000,
      headline: 'median over reps',
      cpu: 'utime+stime from /proc, go → end of drain: worker processes + every postgres process on the machine (lib/cpu.ts)',
    },
    metrics,
    headline,
    ranges,
    details,
    elapsedS: elapsed,
  };
}

export function drainOptionsFromArgs(args: Args): Partial<DrainOptions> {
  return {
    jobs: argNumber(args, 'jobs', drainDefaults.jobs),
    processes: argNumberList(args, 'processes', drainDefaults.processes),
    concurrency: argNumber(args, 'concurrency', drainDefaults.concurrency),
    reps: argNumber(args, 'reps', drainDefaults.reps),
    timeoutMs: argNumber(args, 'timeout-s', drainDefaults.timeoutMs / 1000) * 1000,
  };
}

if (isMain(import.meta)) {
  await runMain(600, (args) => drain(selectSystems(registry, args, resolveVariant), drainOptionsFromArgs(args)));
}
