/**
 * Scenario 4 — steady open-loop load of single-job enqueues.
 *
 * P worker processes (default 2, at `concurrency` 10) are started and left idle for a second.
 * Then one producer in this process issues single-job enqueue calls (`enqueueOne({ t })`, each its
 * own commit) on a fixed schedule: call i is due at start + i / rate. At most `inFlight` (32)
 * calls are outstanding; when 32 are in flight the next call waits, and the producer falls
 * behind schedule — that lag is measured (max and at the end). `t` is taken when the call is
 * issued, so enqueue→start includes the enqueue call itself.
 *
 * During the load, the backlog (enqueue calls completed minus jobs reported started by the
 * workers, floored at 0) is sampled every 100 ms. After `durationS` the producer stops and the
 * run waits (at most `graceS`) for every enqueued job to start.
 *
 * Reported per (system, rate): achieved enqueue rate, enqueue-call latency, schedule lag,
 * enqueue→start p50/p90/p99/max, backlog max / at end of load / per second, time to clear the
 * backlog after the load, and `keptUp`:
 *   producerKeptUp = achieved enqueue rate ≥ 95 % of the target and final schedule lag < 1 s;
 *   consumerKeptUp = every job enqueued during the load had started within 1 s after it ended;
 *   keptUp = both.
 * CPU: from the start of the load until the backlog cleared (or the grace period ended), the CPU
 * time (utime + stime from /proc) of the worker processes and of every PostgreSQL server process
 * on the machine, divided by the jobs started in that time (cpuUsPerJob = workerCpuUsPerJob +
 * pgCpuUsPerJob; method: lib/cpu.ts). harnessCpuUsPerJob (this process: the producer's enqueue
 * calls, the schedule loop, IPC) is reported apart. loadAvg: os.loadavg() at the end of that time.
 *
 *   npx tsx bench/steady-load.ts [--systems a,b] [--rates 1000,5000] [--duration 10] [--in-flight 32] [--processes 2]
 */
import { nowMs } from './lib/driver.js';
import type { BenchSystem } from './lib/driver.js';
import { CpuWindow, cpuPerJob, loadAverage } from './lib/cpu.js';
import type { CpuPerJob } from './lib/cpu.js';
import { checkpoint, createFreshDatabase } from './lib/db.js';
import type { Args, ScenarioResult } from './lib/harness.js';
import {
  argNumber,
  argNumberList,
  attempt,
  errorMessage,
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
import { round, summarize } from './lib/stats.js';
import { waitForQuiet } from './lib/quiet.js';
import type { QuietReport } from './lib/quiet.js';
import type { Summary } from './lib/stats.js';
import { WorkerGroup } from './lib/workers.js';
import { resolveVariant, systems as registry } from './peers/index.js';

export interface SteadyLoadOptions {
  rates: number[];
  durationS: number;
  inFlight: number;
  processes: number;
  concurrency: number;
  /** How long to wait after the load for the backlog to clear. */
  graceS: number;
}

export const steadyLoadDefaults: SteadyLoadOptions = {
  rates: [1_000, 5_000],
  durationS: 10,
  inFlight: 32,
  processes: 2,
  concurrency: 10,
  graceS: 10,
};

interface SecondStats {
  second: number;
  enqueued: number;
  started: number;
  backlogMax: number;
}

interface SteadyRun extends CpuPerJob {
  targetRate: number;
  achievedEnqueueRate: number;
  enqueued: number;
  scheduled: number;
  notIssued: number;
  enqueueErrors: number;
  enqueueCallMs: Summary;
  scheduleLagMs: { max: number; atEnd: number };
  latencyMs: Summary;
  backlog: { max: number; atEndOfLoad: number; perSecond: SecondStats[] };
  clearedAfterLoadMs: number | null;
  notStartedAfterGrace: number;
  producerKeptUp: boolean;
  consumerKeptUp: boolean;
  keptUp: boolean;
  background: QuietReport;
  /** os.loadavg() (1, 5, 15 min) when the CPU window closed. */
  loadAvg: [number, number, number];
}

async function oneSteady(system: BenchSystem, opts: SteadyLoadOptions, rate: number): Promise<SteadyRun> {
  const db = await createFreshDatabase(system.name, `steady_${rate}`);
  let group: WorkerGroup | null = null;
  try {
    await withDeadline(system.setup(db.url), 60_000, `${system.name} setup`);
    const producer = await withDeadline(system.producer(db.url), 30_000, 'producer');
    try {
      group = await WorkerGroup.spawn({
        system,
        databaseUrl: db.url,
        processes: opts.processes,
        concurrency: opts.concurrency,
        flushIntervalMs: 10,
      });
      const g = group;
      g.go();
      await g.waitStarted();
      // Warm the producer's pool (open inFlight connections) outside the measurement; these jobs run now.
      await withDeadline(
        Promise.all(Array.from({ length: opts.inFlight }, () => producer.enqueueOne({ t: nowMs() }))),
        30_000,
        'warm-up enqueues',
      );
      await g.waitFor(() => g.started >= opts.inFlight, 10_000, 'warm-up jobs');
      await checkpoint();
      const background = await waitForQuiet();
      await sleep(500);
      const warmStarted = g.started;
      g.latencies.length = 0;

      const total = Math.round(rate * opts.durationS);
      const interval = 1000 / rate;
      let issued = 0;
      let done = 0;
      let errors = 0;
      let inFlight = 0;
      let maxLag = 0;
      let lastLag = 0;
      const calls: number[] = [];
      let wake: (() => void) | null = null;
      const cpuWindow = CpuWindow.open(g.pids);
      const start = nowMs() + 5;
      // The load phase ends at start + duration whatever was issued: a producer that fell behind
      // has simply not issued the rest (reported as `notIssued` and schedule lag).
      const loadDeadline = start + opts.durationS * 1000;

      const perSecond: SecondStats[] = [];
      let backlogMax = 0;
      const backlogNow = () => Math.max(0, done - (g.started - warmStarted));
      const sampler = setInterval(() => {
        const b = backlogNow();
        if (b > backlogMax) backlogMax = b;
        const sec = Math.floor((nowMs() - start) / 1000);
        if (sec < 0) return;
        let s = perSecond[sec];
        if (!s) {
          s = { second: sec, enqueued: 0, started: 0, backlogMax: 0 };
          perSecond[sec] = s;
        }
        s.enqueued = done;
        s.started = g.started - warmStarted;
        if (b > s.backlogMax) s.backlogMax = b;
      }, 100);

      const issue = () => {
        const scheduled = start + issued * interval;
        const t = nowMs();
        const lag = t - scheduled;
        if (lag > maxLag) maxLag = lag;
        lastLag = lag;
        issued++;
        inFlight++;
        producer.enqueueOne({ t }).then(
          () => {
            calls.push(nowMs() - t);
            done++;
          },
          (err: unknown) => {
            errors++;
            if (errors <= 3) log(`${system.name}: enqueue failed: ${errorMessage(err)}`);
          },
        ).finally(() => {
          inFlight--;
          const w = wake;
          wake = null;
          w?.();
        });
      };

      try {
        while (issued < total) {
          const now = nowMs();
          if (now >= loadDeadline) {
            // Lag of the first call that could not be issued in time.
            lastLag = Math.max(lastLag, now - (start + issued * interval));
            if (lastLag > maxLag) maxLag = lastLag;
            break;
          }
          if (g.failed) throw new Error(g.errors.join('; '));
          const due = Math.min(total, Math.floor((now - start) / interval) + 1);
          while (issued < due && inFlight < opts.inFlight) issue();
          if (issued < due) {
            // All 32 slots busy: wait for one to free (bounded by a short timer).
            await new Promise<void>((r) => {
              wake = r;
              setTimeout(r, 50);
            });
          } else {
            const nextDue = start + issued * interval;
            await sleep(Math.max(0, Math.min(50, nextDue - nowMs(), loadDeadline - nowMs())));
          }
        }
        // Wait for the outstanding calls.
        const callsEnd = nowMs() + 30_000;
        while (inFlight > 0 && nowMs() < callsEnd) await sleep(5);
      } finally {
        clearInterval(sampler);
      }
      const loadEnd = nowMs();
      const loadSeconds = Math.max(opts.durationS, (loadEnd - start) / 1000);
      const backlogAtEnd = backlogNow();
      if (backlogAtEnd > backlogMax) backlogMax = backlogAtEnd;

      // Let the backlog clear (bounded).
      let clearedAfterLoadMs: number | null = null;
      try {
        await g.waitFor(() => g.started - warmStarted >= done, opts.graceS * 1000, 'backlog to clear', 5);
        clearedAfterLoadMs = Math.max(0, nowMs() - loadEnd);
      } catch (err) {
        if (g.failed) throw err;
      }
      const cpu = cpuPerJob(cpuWindow.close(), g.started - warmStarted);
      const loadAvg = loadAverage();
      const notStarted = Math.max(0, done - (g.started - warmStarted));
      const achieved = done / loadSeconds;
      const producerKeptUp = achieved >= 0.95 * rate && lastLag < 1000;
      const consumerKeptUp = clearedAfterLoadMs != null && clearedAfterLoadMs <= 1000;
      const run: SteadyRun = {
        targetRate: rate,
        achievedEnqueueRate: round(achieved, 0)!,
        enqueued: done,
        scheduled: total,
        notIssued: total - issued,
        enqueueErrors: errors,
        enqueueCallMs: summarize(calls),
        scheduleLagMs: { max: round(maxLag, 1)!, atEnd: round(lastLag, 1)! },
        latencyMs: summarize(g.latencies),
        backlog: { max: backlogMax, atEndOfLoad: backlogAtEnd, perSecond: perSecond.filter(Boolean) },
        clearedAfterLoadMs: round(clearedAfterLoadMs, 1),
        notStartedAfterGrace: notStarted,
        producerKeptUp,
        consumerKeptUp,
        keptUp: producerKeptUp && consumerKeptUp,
        background,
        ...cpu,
        loadAvg,
      };
      log(
        `${system.name} @${rate}/s: enqueued ${run.achievedEnqueueRate}/s, enqueue→start p50 ${run.latencyMs.p50} ms ` +
          `p99 ${run.latencyMs.p99} ms, backlog max ${backlogMax} end ${backlogAtEnd}, lag ${run.scheduleLagMs.atEnd} ms, keptUp ${run.keptUp}, ` +
          `CPU ${run.cpuUsPerJob} µs/job (workers ${run.workerCpuUsPerJob}, PostgreSQL ${run.pgCpuUsPerJob}), load ${loadAvg[0]}`,
      );
      return run;
    } finally {
      if (group) await quietly('stop workers', () => group!.stop(10_000), 15_000);
      group = null;
      await quietly('producer close', () => producer.close());
    }
  } finally {
    await quietly(`drop ${db.name}`, () => db.drop());
  }
}

export async function steadyLoad(systems: BenchSystem[], partial: Partial<SteadyLoadOptions> = {}): Promise<ScenarioResult> {
  const opts: SteadyLoadOptions = { ...steadyLoadDefaults, ...partial };
  const results: Record<string, Record<string, SteadyRun | { failed: true; error: string }>> = {};
  const elapsed: Record<string, number> = {};
  for (const s of systems) {
    results[s.name] = {};
    elapsed[s.name] = 0;
  }
  let k = 0;
  for (const rate of opts.rates) {
    for (const system of rotate(systems, k++)) {
      const t0 = nowMs();
      results[system.name]![`r${rate}`] = await attempt(`${system.name} steady-load ${rate}/s`, () => oneSteady(system, opts, rate));
      elapsed[system.name]! += (nowMs() - t0) / 1000;
    }
  }
  const metrics: ScenarioResult['metrics'] = {};
  for (const rate of opts.rates) {
    metrics[`steady${rate}_enqueuePerS`] = { unit: 'jobs/s', better: 'higher' };
    metrics[`steady${rate}_p50Ms`] = { unit: 'ms', better: 'lower' };
    metrics[`steady${rate}_p99Ms`] = { unit: 'ms', better: 'lower' };
    metrics[`steady${rate}_backlogMax`] = { unit: 'jobs', better: 'lower' };
    metrics[`steady${rate}_cpuUsPerJob`] = { unit: 'µs CPU/job', better: 'lower' };
  }
  const headline: ScenarioResult['headline'] = {};
  for (const s of systems) {
    const h: Record<string, number | null> = {};
    for (const rate of opts.rates) {
      const r = results[s.name]![`r${rate}`];
      const ok = r && !isFailure(r) ? r : null;
      h[`steady${rate}_enqueuePerS`] = ok ? ok.achievedEnqueueRate : null;
      h[`steady${rate}_p50Ms`] = ok ? ok.latencyMs.p50 : null;
      h[`steady${rate}_p99Ms`] = ok ? ok.latencyMs.p99 : null;
      h[`steady${rate}_backlogMax`] = ok ? ok.backlog.max : null;
      h[`steady${rate}_cpuUsPerJob`] = ok ? ok.cpuUsPerJob : null;
    }
    headline[s.name] = h;
    elapsed[s.name] = round(elapsed[s.name], 1)!;
  }
  return {
    scenario: 'steady-load',
    params: {
      ...opts,
      backlogSampleMs: 100,
      cpu: 'utime+stime from /proc, load start → backlog cleared: worker processes + every postgres process on the machine (lib/cpu.ts)',
    },
    metrics,
    headline,
    details: results,
    elapsedS: elapsed,
  };
}

export function steadyLoadOptionsFromArgs(args: Args): Partial<SteadyLoadOptions> {
  return {
    rates: argNumberList(args, 'rates', steadyLoadDefaults.rates),
    durationS: argNumber(args, 'duration', steadyLoadDefaults.durationS),
    inFlight: argNumber(args, 'in-flight', steadyLoadDefaults.inFlight),
    processes: argNumber(args, 'processes', steadyLoadDefaults.processes),
    concurrency: argNumber(args, 'concurrency', steadyLoadDefaults.concurrency),
    graceS: argNumber(args, 'grace', steadyLoadDefaults.graceS),
  };
}

if (isMain(import.meta)) {
  await runMain(600, (args) => steadyLoad(selectSystems(registry, args, resolveVariant), steadyLoadOptionsFromArgs(args)));
}
