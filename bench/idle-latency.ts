/**
 * Scenario 3 — idle pickup latency.
 *
 * Workers (P processes at `concurrency`) are started on an empty queue and left idle for a
 * second. Then, `samples` times: enqueue one job with payload { t: now } through the single-job
 * API, wait until a worker reports it started (the worker sends each job at once, no batching),
 * wait a random 10–30 ms (`--gap-ms`), repeat. The sample is the worker's start time minus `t`, so it covers
 * the enqueue call (commit), wake-up (NOTIFY or polling) and fetch. The first `warmup` samples
 * are discarded. Every sample has a deadline (`sampleTimeoutS`) and the whole run per system
 * has one (`budgetS`): when the budget runs out the samples collected so far are reported with
 * `truncated: true`.
 *
 *   npx tsx bench/idle-latency.ts [--systems a,b] [--samples 300] [--processes 1] [--concurrency 10]
 */
import { nowMs } from './lib/driver.js';
import type { BenchSystem } from './lib/driver.js';
import { createFreshDatabase } from './lib/db.js';
import type { Args, ScenarioResult } from './lib/harness.js';
import {
  argNumber,
  argString,
  attempt,
  isFailure,
  isMain,
  log,
  quietly,
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

export interface IdleLatencyOptions {
  samples: number;
  warmup: number;
  processes: number;
  concurrency: number;
  sampleTimeoutS: number;
  budgetS: number;
  /** Random pause between a job's start and the next enqueue, ms. */
  gapMinMs: number;
  gapMaxMs: number;
}

export const idleLatencyDefaults: IdleLatencyOptions = {
  samples: 300,
  warmup: 10,
  processes: 1,
  concurrency: 10,
  sampleTimeoutS: 5,
  budgetS: 90,
  gapMinMs: 10,
  gapMaxMs: 30,
};

interface IdleRun {
  latencyMs: Summary;
  enqueueCallMs: Summary;
  truncated: boolean;
  timeouts: number;
  background: QuietReport;
}

async function oneIdle(system: BenchSystem, opts: IdleLatencyOptions): Promise<IdleRun> {
  const db = await createFreshDatabase(system.name, 'idle_latency');
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
        flushIntervalMs: 0,
      });
      const g = group;
      g.go();
      await g.waitStarted();
      const background = await waitForQuiet();
      await sleep(500);
      const budgetEnd = nowMs() + opts.budgetS * 1000;
      const calls: number[] = [];
      let timeouts = 0;
      let truncated = false;
      const total = opts.samples + opts.warmup;
      for (let i = 0; i < total; i++) {
        if (nowMs() > budgetEnd) {
          truncated = true;
          break;
        }
        const before = g.started;
        const t = nowMs();
        await withDeadline(producer.enqueueOne({ t }), opts.sampleTimeoutS * 1000, 'enqueueOne');
        if (i >= opts.warmup) calls.push(nowMs() - t);
        try {
          await g.waitFor(() => g.started > before, opts.sampleTimeoutS * 1000, 'job start', 5);
        } catch (err) {
          if (g.failed) throw err;
          timeouts++;
          if (timeouts >= 3) throw new Error(`${timeouts} jobs did not start within ${opts.sampleTimeoutS} s`, { cause: err });
          // Let the late job start before the next sample so samples stay independent.
          await g.waitFor(() => g.started > before, opts.sampleTimeoutS * 1000, 'late job start', 5);
        }
        if (i === opts.warmup - 1) g.latencies.length = 0;
        await sleep(opts.gapMinMs + Math.random() * (opts.gapMaxMs - opts.gapMinMs));
      }
      const latencies = g.latencies.slice();
      const run: IdleRun = {
        latencyMs: summarize(latencies),
        enqueueCallMs: summarize(calls),
        truncated,
        timeouts,
        background,
      };
      log(
        `${system.name}: idle pickup p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms (n=${run.latencyMs.n}` +
          `${truncated ? ', truncated by budget' : ''})`,
      );
      return run;
    } finally {
      if (group) await quietly('stop workers', () => group!.stop(10_000), 15_000);
      group = null;
      await quietly('producer close', () => producer.close());
    }
  } finally {
    if (group) (group as WorkerGroup).kill();
    await quietly(`drop ${db.name}`, () => db.drop());
  }
}

export async function idleLatency(systems: BenchSystem[], partial: Partial<IdleLatencyOptions> = {}): Promise<ScenarioResult> {
  const opts: IdleLatencyOptions = { ...idleLatencyDefaults, ...partial };
  const details: ScenarioResult['details'] = {};
  const headline: ScenarioResult['headline'] = {};
  const elapsed: Record<string, number> = {};
  for (const system of systems) {
    const t0 = nowMs();
    const r = await attempt(`${system.name} idle-latency`, () => oneIdle(system, opts));
    elapsed[system.name] = round((nowMs() - t0) / 1000, 1)!;
    details[system.name] = r;
    headline[system.name] = {
      idleLatencyP50Ms: isFailure(r) ? null : r.latencyMs.p50,
      idleLatencyP99Ms: isFailure(r) ? null : r.latencyMs.p99,
    };
  }
  return {
    scenario: 'idle-latency',
    params: { ...opts },
    metrics: {
      idleLatencyP50Ms: { unit: 'ms', better: 'lower' },
      idleLatencyP99Ms: { unit: 'ms', better: 'lower' },
    },
    headline,
    details,
    elapsedS: elapsed,
  };
}

export function idleLatencyOptionsFromArgs(args: Args): Partial<IdleLatencyOptions> {
  return {
    samples: argNumber(args, 'samples', idleLatencyDefaults.samples),
    warmup: argNumber(args, 'warmup', idleLatencyDefaults.warmup),
    processes: argNumber(args, 'processes', idleLatencyDefaults.processes),
    concurrency: argNumber(args, 'concurrency', idleLatencyDefaults.concurrency),
    budgetS: argNumber(args, 'budget-s', idleLatencyDefaults.budgetS),
    ...parseGap(argString(args, 'gap-ms')),
  };
}

/** `--gap-ms 10-30` → { gapMinMs: 10, gapMaxMs: 30 }. */
function parseGap(v: string | undefined): Partial<IdleLatencyOptions> {
  if (!v) return {};
  const m = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(v);
  if (!m) throw new Error('--gap-ms must look like 10-30');
  return { gapMinMs: Number(m[1]), gapMaxMs: Number(m[2]) };
}

if (isMain(import.meta)) {
  await runMain(600, (args) => idleLatency(selectSystems(registry, args, resolveVariant), idleLatencyOptionsFromArgs(args)));
}
