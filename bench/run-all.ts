/**
 * Run every scenario for every system in one run and print one JSON document:
 * machine, load averages at start and end, per-system configuration, per-scenario details, a flat
 * table of headline figures per system (with [min, max] where a figure is a median over
 * repetitions), and ratios against a baseline system.
 *
 * Within each scenario the systems are interleaved (each repetition / case alternates which
 * system goes first), and every system gets a fresh database per scenario case.
 *
 *   npx tsx bench/run-all.ts [--systems a,b] [--baseline name] [--scenarios enqueue-bulk,drain,idle-latency,steady-load]
 *                            [--quick] [--out bench/results/run.json] [--max-seconds 900]
 *
 * Baseline: `--baseline NAME`, else 'jobplane' when it is among the systems, else none (raw figures only).
 * `--quick` shrinks every scenario for a smoke test (figures not meaningful).
 */
import { nowMs } from './lib/driver.js';
import type { Args, MetricInfo, ScenarioResult } from './lib/harness.js';
import { chooseBaseline, computeRatios, isMain, log, runMain, selectSystems } from './lib/harness.js';
import { loadAverage } from './lib/cpu.js';
import { round } from './lib/stats.js';
import { machineInfo } from './lib/machine.js';
import { enqueueBulk, enqueueBulkOptionsFromArgs } from './enqueue-bulk.js';
import { drain, drainOptionsFromArgs } from './drain.js';
import { idleLatency, idleLatencyOptionsFromArgs } from './idle-latency.js';
import { steadyLoad, steadyLoadOptionsFromArgs } from './steady-load.js';
import { resolveVariant, systems as registry } from './peers/index.js';
import type { BenchSystem } from './lib/driver.js';

const SCENARIOS = ['enqueue-bulk', 'drain', 'idle-latency', 'steady-load'] as const;
type ScenarioName = (typeof SCENARIOS)[number];

export async function runAll(systems: BenchSystem[], args: Args): Promise<Record<string, unknown>> {
  const quick = args['quick'] === true;
  const wanted = (typeof args['scenarios'] === 'string' ? args['scenarios'].split(',') : [...SCENARIOS]).map((s) => s.trim());
  for (const w of wanted) {
    if (!(SCENARIOS as readonly string[]).includes(w)) throw new Error(`unknown scenario '${w}'; known: ${SCENARIOS.join(', ')}`);
  }
  const baseline = chooseBaseline(args, systems);
  const started = new Date();
  const t0 = nowMs();
  const loadAvgAtStart = loadAverage();
  const machine = await machineInfo();
  log(`run-all: systems ${systems.map((s) => s.name).join(', ')}; scenarios ${wanted.join(', ')}; baseline ${baseline ?? '(none)'}`);

  const runners: Record<ScenarioName, () => Promise<ScenarioResult>> = {
    'enqueue-bulk': () =>
      enqueueBulk(systems, quick ? { jobs: 10_000, reps: 1 } : enqueueBulkOptionsFromArgs(args)),
    drain: () => drain(systems, quick ? { jobs: 20_000, processes: [1], reps: 1 } : drainOptionsFromArgs(args)),
    'idle-latency': () =>
      idleLatency(systems, quick ? { samples: 20, budgetS: 20 } : idleLatencyOptionsFromArgs(args)),
    'steady-load': () =>
      steadyLoad(systems, quick ? { rates: [1_000], durationS: 3 } : steadyLoadOptionsFromArgs(args)),
  };

  const scenarios: Record<string, ScenarioResult> = {};
  for (const name of wanted as ScenarioName[]) {
    log(`=== ${name} ===`);
    const s0 = nowMs();
    scenarios[name] = await runners[name]();
    log(`=== ${name} done in ${((nowMs() - s0) / 1000).toFixed(1)} s ===`);
  }

  // Flatten headline figures: figures[system][metric], and ranges[system][metric] where a scenario has them.
  const figures: Record<string, Record<string, number | null>> = {};
  const ranges: Record<string, Record<string, [number, number] | null>> = {};
  const metrics: Record<string, MetricInfo & { scenario: string }> = {};
  for (const s of systems) {
    figures[s.name] = {};
    ranges[s.name] = {};
  }
  for (const [scenario, result] of Object.entries(scenarios)) {
    for (const [metric, info] of Object.entries(result.metrics)) metrics[metric] = { ...info, scenario };
    for (const [system, h] of Object.entries(result.headline)) Object.assign(figures[system] ?? {}, h);
    for (const [system, r] of Object.entries(result.ranges ?? {})) Object.assign(ranges[system] ?? {}, r);
  }
  const ratios = baseline ? computeRatios(figures, baseline) : null;

  return {
    benchmark: 'jobplane bench/run-all',
    date: started.toISOString(),
    durationS: round((nowMs() - t0) / 1000, 1),
    quick,
    machine,
    // os.loadavg() (1, 5, 15 min) before the first and after the last scenario; every run also records its own.
    loadAvg: { atStart: loadAvgAtStart, atEnd: loadAverage() },
    systems: Object.fromEntries(systems.map((s) => [s.name, s.config ?? {}])),
    baseline,
    summary: {
      metrics,
      figures,
      ranges,
      ratios,
      ratioNote: baseline
        ? `ratios[system][metric] = system / ${baseline}; for 'higher'-is-better metrics (rates) < 1 means ${baseline} is ahead, for 'lower' ones (latencies, backlogs, CPU per job) > 1 means ${baseline} is ahead`
        : 'no baseline (pass --baseline NAME, or include jobplane): raw figures only',
      rangeNote: 'ranges[system][metric] = [min, max] over the repetitions whose median is figures[system][metric]',
    },
    scenarios,
  };
}

if (isMain(import.meta)) {
  await runMain(900, (args) => runAll(selectSystems(registry, args, resolveVariant), args));
}
