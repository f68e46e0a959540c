/**
 * Retention — does deleting expired jobs block claims or leave bloat that slows them?
 *
 * A fresh database holds `finished` (2 M) completed jobs finished over the past 14 days, so about
 * half are past the default retention of 7 days. Four drains of `jobs` (20,000) queued jobs with
 * Jobplane's defaults (P processes × 10) are measured:
 *  - before: the expired rows still stored;
 *  - during: while Jobplane's own retention cleaner (`RetentionCleaner`, default batch sizes)
 *    deletes them, its passes run back to back instead of once a minute, so the deletion
 *    overlaps the drain (a compressed schedule: at the default cadence it deletes 100,000 per
 *    minute);
 *  - after: deletion done, the dead rows not yet vacuumed;
 *  - vacuumed: after autovacuum processed the table (waited for up to `vacuumWaitS`; if it did not
 *    come, or autovacuum is off on the server, a plain VACUUM is run and the output says so).
 * While the cleaner runs, pg_stat_activity is sampled every 20 ms for backends waiting on a lock.
 * Reported: each drain's jobs/s and ratio to `before`, the cleaner's passes (rows, ms), lock waits
 * seen, and pg_stat_user_tables / index sizes at each step.
 *
 *   npx tsx bench/retention.ts [--finished 2000000] [--jobs 20000] [--processes 2] [--vacuum-wait-s 180]
 */
import pg from 'pg';
import { silentLogger } from '../src/core/deps.js';
import { createPool } from '../src/db/pool.js';
import { RetentionCleaner } from '../src/scheduler/retention-cleaner.js';
import { checkpoint, createFreshDatabase } from './lib/db.js';
import { argNumber, isMain, log, quietly, runMain, sleep, type ScenarioResult } from './lib/harness.js';
import { round } from './lib/stats.js';
import { jobplane } from './peers/jobplane.js';
import { drainSome, insertQueued, tableStats, TENANT, uuidV7, type ScaleRun } from './scale.js';

export interface RetentionOptions {
  finished: number;
  jobs: number;
  processes: number;
  concurrency: number;
  vacuumWaitS: number;
}

export const retentionDefaults: RetentionOptions = { finished: 2_000_000, jobs: 20_000, processes: 2, concurrency: 10, vacuumWaitS: 180 };

const RETENTION = { completedMs: 7 * 86_400_000, failedMs: 30 * 86_400_000 };

async function fill(client: pg.Client, finished: number): Promise<void> {
  const chunk = 1_000_000;
  for (let done = 0; done < finished; done += chunk) {
    const n = Math.min(chunk, finished - done);
    await client.query(
      `INSERT INTO jobplane.jobs (id, tenant_id, queue, task, payload, status, attempt, worker_id, result, run_at, created_at, started_at, finished_at)
       SELECT ${uuidV7('t')}, '${TENANT}', 'default', 'bench', '{"n": 1}', 'completed', 1, 'bench-history', 'null', t, t, t, t + interval '5 ms'
       FROM (SELECT now() - (random() * 14 * interval '1 day') AS t FROM generate_series(1, ${n})) s`,
    );
    log(`retention: ${done + n} finished jobs written`);
  }
  await client.query('VACUUM (ANALYZE) jobplane.jobs');
}

async function autovacuumCount(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ n: string }>(`SELECT autovacuum_count AS n FROM pg_stat_user_tables WHERE relid = 'jobplane.jobs'::regclass`);
  return Number(rows[0]?.n ?? 0);
}

interface LockWaits {
  samples: number;
  samplesWithWaiters: number;
  longestWaitMs: number;
  waitingQueries: string[];
}

/** Sample lock waits in this database until `stop` resolves. */
async function watchLocks(url: string, stop: Promise<unknown>): Promise<LockWaits> {
  const client = new pg.Client({ connectionString: url, application_name: 'bench-lock-watch' });
  await client.connect();
  const out: LockWaits = { samples: 0, samplesWithWaiters: 0, longestWaitMs: 0, waitingQueries: [] };
  let done = false;
  void stop.finally(() => (done = true));
  try {
    while (!done) {
      const { rows } = await client.query<{ ms: number; query: string }>(
        `SELECT (extract(epoch FROM clock_timestamp() - state_change) * 1000)::float8 AS ms, wait_event || ': ' || left(query, 100) AS query
         FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
      );
      out.samples += 1;
      if (rows.length > 0) {
        out.samplesWithWaiters += 1;
        for (const r of rows) {
          out.longestWaitMs = Math.max(out.longestWaitMs, round(r.ms, 1) ?? 0);
          if (out.waitingQueries.length < 5 && !out.waitingQueries.includes(r.query)) out.waitingQueries.push(r.query);
        }
      }
      await sleep(20);
    }
  } finally {
    await client.end();
  }
  return out;
}

export async function retentionBench(partial: Partial<RetentionOptions> = {}): Promise<ScenarioResult> {
  const opts: RetentionOptions = { ...retentionDefaults, ...partial };
  const db = await createFreshDatabase('jobplane', 'retention');
  const client = new pg.Client({ connectionString: db.url, application_name: 'bench-retention' });
  const drains: Record<string, ScaleRun> = {};
  const stats: Record<string, unknown> = {};
  const passes: Array<{ deleted: number; ms: number }> = [];
  let locks: LockWaits | undefined;
  let vacuum = 'autovacuum';
  let overlapped: boolean | undefined;
  try {
    await jobplane.setup(db.url);
    await client.connect();
    await fill(client, opts.finished);
    const { rows: [expired] } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM jobplane.jobs WHERE status = 'completed' AND finished_at < now() - interval '7 days'`,
    );
    log(`retention: ${expired!.n} of ${opts.finished} finished jobs are past retention`);

    const drain = async (label: string): Promise<void> => {
      await insertQueued(client, opts.jobs);
      const run = await drainSome(db, opts);
      drains[label] = run;
      log(`retention ${label}: ${run.jobsPerS} jobs/s, CPU ${run.cpuUsPerJob} µs/job`);
    };

    stats['before'] = await tableStats(client);
    await drain('before');

    // During: the cleaner's passes back to back, a drain alongside, lock waits sampled.
    const pool = createPool({ connectionString: db.url, max: 2 });
    const cleaner = new RetentionCleaner(pool, silentLogger, RETENTION);
    let cleaned = false;
    await insertQueued(client, opts.jobs);
    await checkpoint();
    const cleaning = (async () => {
      for (;;) {
        const t0 = performance.now();
        const deleted = await cleaner.runOnce();
        passes.push({ deleted, ms: round(performance.now() - t0, 1)! });
        if (deleted === 0) return;
      }
    })().finally(() => (cleaned = true));
    const watching = watchLocks(db.url, cleaning);
    drains['during'] = await drainSome(db, opts, { quiet: false });
    overlapped = !cleaned;
    log(`retention during: ${drains['during'].jobsPerS} jobs/s while deleting (cleaner still running at the drain's end: ${overlapped})`);
    await cleaning;
    locks = await watching;
    await pool.end();
    const deleted = passes.reduce((a, p) => a + p.deleted, 0);
    log(`retention: deleted ${deleted} in ${passes.length} passes; lock waits seen in ${locks.samplesWithWaiters}/${locks.samples} samples`);

    stats['afterDelete'] = await tableStats(client);
    await drain('after');

    const { rows: [setting] } = await client.query<{ autovacuum: string }>('SHOW autovacuum');
    if (setting!.autovacuum !== 'on') {
      vacuum = 'VACUUM (autovacuum is off on this server)';
      await client.query('VACUUM jobplane.jobs');
    } else {
      const av0 = await autovacuumCount(client);
      const until = Date.now() + opts.vacuumWaitS * 1000;
      while ((await autovacuumCount(client)) === av0 && Date.now() < until) await sleep(1000);
      if ((await autovacuumCount(client)) === av0) {
        vacuum = `VACUUM (autovacuum did not run within ${opts.vacuumWaitS} s)`;
        await client.query('VACUUM jobplane.jobs');
      }
    }
    stats['vacuumed'] = await tableStats(client);
    await drain('vacuumed');
  } finally {
    await client.end().catch(() => undefined);
    await quietly(`drop ${db.name}`, () => db.drop(), 60_000);
  }
  const before = drains['before']?.jobsPerS ?? null;
  const ratio = (label: string) => (before && drains[label] ? round(drains[label].jobsPerS / before, 3) : null);
  const batches = passes.filter((p) => p.deleted > 0);
  return {
    scenario: 'retention',
    params: { ...opts, system: 'jobplane (defaults)', retention: '7 days completed', cleanerCadence: 'passes back to back (default: one a minute)' },
    metrics: {
      retentionDuringRatio: { unit: 'during ÷ before', better: 'higher' },
      retentionAfterRatio: { unit: 'after ÷ before', better: 'higher' },
      retentionVacuumedRatio: { unit: 'vacuumed ÷ before', better: 'higher' },
      retentionLongestLockWaitMs: { unit: 'ms', better: 'lower' },
    },
    headline: {
      jobplane: {
        retentionDuringRatio: ratio('during'),
        retentionAfterRatio: ratio('after'),
        retentionVacuumedRatio: ratio('vacuumed'),
        retentionLongestLockWaitMs: locks?.longestWaitMs ?? null,
      },
    },
    details: {
      jobplane: {
        drains,
        cleaner: { passes, rowsPerS: batches.length ? round(batches.reduce((a, p) => a + p.deleted, 0) / (batches.reduce((a, p) => a + p.ms, 0) / 1000), 0) : null },
        locks,
        drainOverlappedCleaner: overlapped ?? null,
        vacuum,
        tableStats: stats,
      },
    },
    elapsedS: {},
  };
}

if (isMain(import.meta)) {
  await runMain(3600, (args) =>
    retentionBench({
      finished: argNumber(args, 'finished', retentionDefaults.finished),
      jobs: argNumber(args, 'jobs', retentionDefaults.jobs),
      processes: argNumber(args, 'processes', retentionDefaults.processes),
      vacuumWaitS: argNumber(args, 'vacuum-wait-s', retentionDefaults.vacuumWaitS),
    }),
  );
}
