/**
 * Scale — does Jobplane stay fast with millions of rows stored?
 *
 * Two drains with Jobplane's defaults (P processes × 10), in databases of their own:
 *  - empty: `jobs` (20,000) jobs queued, nothing else stored;
 *  - loaded: `finished` (10 M) completed jobs stored and `queued` (1 M) due jobs waiting; the
 *    workers drain the first `jobs` of them.
 * The loaded rows are written by SQL (`generate_series`), as a year of use would leave them
 * (time-ordered UUID v7 ids, finished over the past `finishedDays` days), then VACUUM ANALYZE.
 * Each drain is measured from `go` until `jobs` jobs have started and
 * reported (jobs/s, steady 10–90 % rate, CPU per job), alternating empty and loaded `reps` times.
 * Reported: the loaded ÷ empty ratio (the target: within 10 %), table and index sizes,
 * and pg_stat_user_tables / pg_statio figures before and after each loaded drain.
 *
 *   npx tsx bench/scale.ts [--jobs 20000] [--finished 10000000] [--queued 1000000] [--processes 2] [--reps 2]
 *
 * Needs about 4 GB of disk for the default sizes; filling takes a few minutes.
 */
import pg from 'pg';
import { crossingTime } from './drain.js';
import { CpuWindow, cpuPerJob, loadAverage } from './lib/cpu.js';
import { checkpoint, createFreshDatabase, type FreshDatabase } from './lib/db.js';
import { argNumber, isMain, log, quietly, runMain, sleep, type ScenarioResult } from './lib/harness.js';
import { waitForQuiet } from './lib/quiet.js';
import { median, medianRange, round } from './lib/stats.js';
import { WorkerGroup } from './lib/workers.js';
import { jobplane } from './peers/jobplane.js';

export interface ScaleOptions {
  jobs: number;
  finished: number;
  queued: number;
  processes: number;
  concurrency: number;
  reps: number;
  finishedDays: number;
}

export const scaleDefaults: ScaleOptions = { jobs: 20_000, finished: 10_000_000, queued: 1_000_000, processes: 2, concurrency: 10, reps: 2, finishedDays: 7 };

export const TENANT = '00000000-0000-7000-8000-000000000001';

/** A UUID v7 for a timestamp expression, random in the other bits (SQL). */
export const uuidV7 = (ts: string): string =>
  `(lpad(to_hex((extract(epoch FROM ${ts}) * 1000)::bigint), 12, '0') || '7' || substr(md5(random()::text), 1, 3) || '8' || substr(md5(random()::text), 1, 15))::uuid`;

/** Insert `n` due jobs, one microsecond apart, due an hour ago. */
export async function insertQueued(client: pg.Client, n: number): Promise<void> {
  await client.query(
    `INSERT INTO jobplane.jobs (id, tenant_id, queue, task, payload, run_at, created_at)
     SELECT ${uuidV7('t')}, '${TENANT}', 'default', 'bench', '{}', t, t
     FROM (SELECT now() - interval '1 hour' + (g * interval '1 microsecond') AS t FROM generate_series(1, ${n}) g) s`,
  );
}

/** Write `finished` completed jobs and `queued` due jobs, in chunks, then VACUUM ANALYZE. */
async function fill(client: pg.Client, opts: ScaleOptions): Promise<void> {
  const chunk = 1_000_000;
  for (let done = 0; done < opts.finished; done += chunk) {
    const n = Math.min(chunk, opts.finished - done);
    await client.query(
      `INSERT INTO jobplane.jobs (id, tenant_id, queue, task, payload, status, attempt, worker_id, result, run_at, created_at, started_at, finished_at)
       SELECT ${uuidV7('t')}, '${TENANT}', 'default', 'bench', '{"n": 1}', 'completed', 1, 'bench-history', 'null', t, t, t, t + interval '5 ms'
       FROM (SELECT now() - (random() * ${opts.finishedDays} * interval '1 day') AS t FROM generate_series(1, ${n})) s`,
    );
    log(`scale: ${done + n} finished jobs written`);
  }
  for (let done = 0; done < opts.queued; done += chunk) {
    const n = Math.min(chunk, opts.queued - done);
    await insertQueued(client, n);
    log(`scale: ${done + n} queued jobs written`);
  }
  await client.query('VACUUM (ANALYZE) jobplane.jobs');
}

/** Sizes and activity counters of the jobs table and its indexes. */
export async function tableStats(client: pg.Client): Promise<Record<string, unknown>> {
  const { rows: [t] } = await client.query<Record<string, unknown>>(
    `SELECT n_live_tup, n_dead_tup, n_tup_upd, n_tup_hot_upd, seq_scan, idx_scan, autovacuum_count,
            pg_size_pretty(pg_table_size('jobplane.jobs')) AS table_size,
            pg_size_pretty(pg_indexes_size('jobplane.jobs')) AS indexes_size
     FROM pg_stat_user_tables WHERE relid = 'jobplane.jobs'::regclass`,
  );
  const { rows: io } = await client.query<Record<string, unknown>>(
    `SELECT heap_blks_read, heap_blks_hit, idx_blks_read, idx_blks_hit FROM pg_statio_user_tables WHERE relid = 'jobplane.jobs'::regclass`,
  );
  const { rows: idx } = await client.query(
    `SELECT indexrelname AS index, idx_scan, pg_size_pretty(pg_relation_size(indexrelid)) AS size
     FROM pg_stat_user_indexes WHERE relid = 'jobplane.jobs'::regclass ORDER BY indexrelname`,
  );
  return { ...t, io: io[0], indexes: idx };
}

export interface ScaleRun {
  jobsPerS: number;
  steadyJobsPerS: number | null;
  cpuUsPerJob: number | null;
  workerCpuUsPerJob: number | null;
  pgCpuUsPerJob: number | null;
  loadAvg: number;
}

/** Drain `opts.jobs` jobs from the database at `url` with P worker processes; workers stop after. */
export async function drainSome(
  db: FreshDatabase,
  opts: Pick<ScaleOptions, 'jobs' | 'processes' | 'concurrency'>,
  { quiet = true }: { quiet?: boolean } = {},
): Promise<ScaleRun> {
  const group = await WorkerGroup.spawn({ system: jobplane, databaseUrl: db.url, processes: opts.processes, concurrency: opts.concurrency });
  try {
    // Without `quiet`, the drain starts at once, alongside whatever runs (the retention bench's cleaner).
    if (quiet) {
      await checkpoint();
      await waitForQuiet();
    }
    const cpu = CpuWindow.open(group.pids);
    const goAt = group.go();
    // Re-checked on every progress message from the workers.
    await group.waitFor(() => group.started >= opts.jobs, 300_000, `${opts.jobs} jobs started`);
    const endAt = crossingTime(group.timeline, opts.jobs, { at: goAt, count: 0 }) ?? goAt;
    const reading = cpu.close();
    const t10 = crossingTime(group.timeline, opts.jobs * 0.1, { at: goAt, count: 0 });
    const t90 = crossingTime(group.timeline, opts.jobs * 0.9, { at: goAt, count: 0 });
    const per = cpuPerJob(reading, group.started);
    return {
      jobsPerS: round(opts.jobs / ((endAt - goAt) / 1000), 0)!,
      steadyJobsPerS: t10 != null && t90 != null && t90 > t10 ? round((opts.jobs * 0.8) / ((t90 - t10) / 1000), 0) : null,
      cpuUsPerJob: per.cpuUsPerJob,
      workerCpuUsPerJob: per.workerCpuUsPerJob,
      pgCpuUsPerJob: per.pgCpuUsPerJob,
      loadAvg: loadAverage()[0],
    };
  } finally {
    await quietly('stop workers', () => group.stop(10_000), 15_000);
  }
}

export async function scale(partial: Partial<ScaleOptions> = {}): Promise<ScenarioResult> {
  const opts: ScaleOptions = { ...scaleDefaults, ...partial };
  const empty = await createFreshDatabase('jobplane', 'scale_empty');
  const loaded = await createFreshDatabase('jobplane', 'scale_loaded');
  const runs: { empty: ScaleRun[]; loaded: ScaleRun[] } = { empty: [], loaded: [] };
  const stats: Array<{ rep: number; before: unknown; after: unknown }> = [];
  try {
    await jobplane.setup(empty.url);
    await jobplane.setup(loaded.url);
    const loadedClient = new pg.Client({ connectionString: loaded.url });
    await loadedClient.connect();
    const emptyClient = new pg.Client({ connectionString: empty.url });
    await emptyClient.connect();
    try {
      const t0 = performance.now();
      await fill(loadedClient, opts);
      log(`scale: loaded database filled in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      for (let rep = 0; rep < opts.reps; rep++) {
        // Empty: queue `jobs` fresh jobs; loaded: the workers take the oldest of the million.
        await emptyClient.query(`TRUNCATE jobplane.jobs`);
        await insertQueued(emptyClient, opts.jobs);
        await emptyClient.query('VACUUM (ANALYZE) jobplane.jobs');
        const e = await drainSome(empty, opts);
        runs.empty.push(e);
        log(`scale empty rep ${rep + 1}: ${e.jobsPerS} jobs/s (steady ${e.steadyJobsPerS}), CPU ${e.cpuUsPerJob} µs/job`);
        const before = await tableStats(loadedClient);
        const l = await drainSome(loaded, opts);
        await sleep(1000);
        const after = await tableStats(loadedClient);
        runs.loaded.push(l);
        stats.push({ rep: rep + 1, before, after });
        log(`scale loaded rep ${rep + 1}: ${l.jobsPerS} jobs/s (steady ${l.steadyJobsPerS}), CPU ${l.cpuUsPerJob} µs/job`);
      }
    } finally {
      await loadedClient.end();
      await emptyClient.end();
    }
  } finally {
    await quietly(`drop ${empty.name}`, () => empty.drop());
    await quietly(`drop ${loaded.name}`, () => loaded.drop(), 60_000);
  }
  const m = (rs: ScaleRun[], f: (r: ScaleRun) => number | null) => median(rs.map(f).filter((v): v is number => v != null));
  const emptyRate = m(runs.empty, (r) => r.jobsPerS);
  const loadedRate = m(runs.loaded, (r) => r.jobsPerS);
  return {
    scenario: 'scale',
    params: { ...opts, system: 'jobplane (defaults)' },
    metrics: {
      scaleEmptyJobsPerS: { unit: 'jobs/s', better: 'higher' },
      scaleLoadedJobsPerS: { unit: 'jobs/s', better: 'higher' },
      scaleLoadedRatio: { unit: 'loaded ÷ empty', better: 'higher' },
    },
    headline: {
      jobplane: {
        scaleEmptyJobsPerS: round(emptyRate, 0),
        scaleLoadedJobsPerS: round(loadedRate, 0),
        scaleLoadedRatio: emptyRate && loadedRate ? round(loadedRate / emptyRate, 3) : null,
      },
    },
    details: {
      jobplane: {
        empty: { jobsPerS: medianRange(runs.empty.map((r) => r.jobsPerS)), cpuUsPerJob: medianRange(runs.empty.flatMap((r) => (r.cpuUsPerJob === null ? [] : [r.cpuUsPerJob])), 1), runs: runs.empty },
        loaded: { jobsPerS: medianRange(runs.loaded.map((r) => r.jobsPerS)), cpuUsPerJob: medianRange(runs.loaded.flatMap((r) => (r.cpuUsPerJob === null ? [] : [r.cpuUsPerJob])), 1), runs: runs.loaded },
        tableStats: stats,
      },
    },
    elapsedS: {},
  };
}

if (isMain(import.meta)) {
  await runMain(3600, (args) =>
    scale({
      jobs: argNumber(args, 'jobs', scaleDefaults.jobs),
      finished: argNumber(args, 'finished', scaleDefaults.finished),
      queued: argNumber(args, 'queued', scaleDefaults.queued),
      processes: argNumber(args, 'processes', scaleDefaults.processes),
      reps: argNumber(args, 'reps', scaleDefaults.reps),
    }),
  );
}
