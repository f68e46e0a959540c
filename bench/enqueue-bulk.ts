/**
 * Scenario 1 — bulk enqueue throughput.
 *
 * One producer in this process inserts `jobs` no-op jobs in batches of `batch` through the
 * system's bulk API, one batch at a time, each batch its own commit. No workers run. Every
 * repetition uses a freshly created database (schema installed, empty tables), followed by a
 * CHECKPOINT so that the previous round's dirty pages are not flushed during this one. Systems
 * alternate within each repetition (A B, B A, A B ...). Reported: best of `reps` (jobs/s), plus
 * every repetition.
 *
 *   npx tsx bench/enqueue-bulk.ts [--systems a,b] [--jobs 100000] [--batch 1000] [--reps 3]
 */
import { nowMs } from './lib/driver.js';
import type { BenchSystem } from './lib/driver.js';
import { checkpoint, createFreshDatabase } from './lib/db.js';
import type { Args, ScenarioResult } from './lib/harness.js';
import {
  argNumber,
  attempt,
  isFailure,
  isMain,
  log,
  quietly,
  rotate,
  runMain,
  selectSystems,
  withDeadline,
} from './lib/harness.js';
import { round } from './lib/stats.js';
import { waitForQuiet } from './lib/quiet.js';
import type { QuietReport } from './lib/quiet.js';
import { resolveVariant, systems as registry } from './peers/index.js';

export interface EnqueueBulkOptions {
  jobs: number;
  batch: number;
  reps: number;
  /** Deadline for one repetition's enqueue, ms. */
  timeoutMs: number;
}

export const enqueueBulkDefaults: EnqueueBulkOptions = { jobs: 100_000, batch: 1_000, reps: 3, timeoutMs: 60_000 };

interface Rep {
  jobsPerS: number;
  seconds: number;
  verified: boolean;
  background: QuietReport;
}

async function oneRep(system: BenchSystem, opts: EnqueueBulkOptions, rep: number): Promise<Rep> {
  const db = await createFreshDatabase(system.name, `enqueue_bulk`);
  try {
    await withDeadline(system.setup(db.url), 60_000, `${system.name} setup`);
    const producer = await withDeadline(system.producer(db.url), 30_000, `${system.name} producer`);
    try {
      // Warm the producer's connection and statements on a tiny batch outside the measurement.
      await withDeadline(producer.bulkEnqueue(10, 10), 30_000, 'warm-up batch');
      await checkpoint();
      const background = await waitForQuiet();
      const t0 = nowMs();
      await withDeadline(producer.bulkEnqueue(opts.jobs, opts.batch), opts.timeoutMs, `${system.name} bulk enqueue`);
      const seconds = (nowMs() - t0) / 1000;
      const remaining = await withDeadline(producer.remaining(), 30_000, 'remaining()');
      const verified = remaining === opts.jobs + 10;
      if (!verified) log(`${system.name}: expected ${opts.jobs + 10} jobs queued, found ${remaining}`);
      const jobsPerS = opts.jobs / seconds;
      log(`${system.name} rep ${rep}: ${Math.round(jobsPerS)} jobs/s (${seconds.toFixed(2)} s)`);
      return { jobsPerS: round(jobsPerS, 0)!, seconds: round(seconds, 3)!, verified, background };
    } finally {
      await quietly(`${system.name} producer close`, () => producer.close());
    }
  } finally {
    await quietly(`drop ${db.name}`, () => db.drop());
  }
}

export async function enqueueBulk(systems: BenchSystem[], partial: Partial<EnqueueBulkOptions> = {}): Promise<ScenarioResult> {
  const opts: EnqueueBulkOptions = { ...enqueueBulkDefaults, ...partial };
  const reps: Record<string, Array<Rep | { failed: true; error: string }>> = {};
  const elapsed: Record<string, number> = {};
  for (const s of systems) {
    reps[s.name] = [];
    elapsed[s.name] = 0;
  }
  for (let r = 0; r < opts.reps; r++) {
    for (const system of rotate(systems, r)) {
      const t0 = nowMs();
      reps[system.name]!.push(await attempt(`${system.name} enqueue-bulk rep ${r + 1}`, () => oneRep(system, opts, r + 1)));
      elapsed[system.name]! += (nowMs() - t0) / 1000;
    }
  }
  const headline: ScenarioResult['headline'] = {};
  const details: ScenarioResult['details'] = {};
  for (const s of systems) {
    const ok = reps[s.name]!.filter((x): x is Rep => !isFailure(x));
    const rates = ok.map((x) => x.jobsPerS).sort((a, b) => a - b);
    const best = rates.length ? rates[rates.length - 1]! : null;
    headline[s.name] = { bulkEnqueueJobsPerS: best };
    details[s.name] =
      ok.length === 0
        ? { failed: true, error: reps[s.name]!.map((x) => (isFailure(x) ? x.error : '')).join('; ') }
        : {
            bestJobsPerS: best,
            medianJobsPerS: rates[Math.floor((rates.length - 1) / 2)] ?? null,
            reps: reps[s.name],
          };
  }
  for (const s of systems) elapsed[s.name] = round(elapsed[s.name], 1)!;
  return {
    scenario: 'enqueue-bulk',
    params: { ...opts, method: 'one producer, sequential batches, each batch one bulk call + commit; fresh database per repetition' },
    metrics: { bulkEnqueueJobsPerS: { unit: 'jobs/s', better: 'higher' } },
    headline,
    details,
    elapsedS: elapsed,
  };
}

export function enqueueBulkOptionsFromArgs(args: Args): Partial<EnqueueBulkOptions> {
  return {
    jobs: argNumber(args, 'jobs', enqueueBulkDefaults.jobs),
    batch: argNumber(args, 'batch', enqueueBulkDefaults.batch),
    reps: argNumber(args, 'reps', enqueueBulkDefaults.reps),
  };
}

if (isMain(import.meta)) {
  await runMain(300, (args) => enqueueBulk(selectSystems(registry, args, resolveVariant), enqueueBulkOptionsFromArgs(args)));
}
