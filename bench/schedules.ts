/**
 * Schedules — how late are 10,000 schedules that all fire at the same minute?
 *
 * `schedules` (10,000) cron schedules, all `* * * * *` (or `--cron`), overlap `allow`, are stored
 * in a fresh database. One Jobplane process runs with its defaults (`jobplane start`, roles
 * scheduler and worker, so the fired no-op jobs are also run, as they would be in use). For
 * each of `fires` (3) fire times, an observer polls every 2 ms how many schedules still wait
 * for that fire time (`next_fire_at <= fire time`, on the partial due index). A schedule's state
 * commits in the same transaction as its run and its job, so the poll sees exactly when the jobs
 * became visible to workers. Lateness = that moment − the fire time, both on the database clock.
 *
 * Reported per fire: p50 / p99 / max lateness (resolution: the poll interval plus one round
 * trip), jobs created, and the CPU of the Jobplane process and of PostgreSQL from 3 s before to 5 s after the
 * fire. After the run: enqueue → start of those jobs (fire time → started_at) p50 / p99.
 * A fire less than 5 s after the process started is not measured (the scheduler cannot prepare
 * it ahead; it is late by its write time, about a second for 10,000). The target: p99
 * lateness < 200 ms at 10,000 schedules.
 *
 *   npx tsx bench/schedules.ts [--schedules 10000] [--fires 3] [--cron '* * * * *'] [--no-worker]
 *
 * No peer is run: graphile-worker's crontab and pg-boss's schedule() are per-file/per-queue
 * features with a different model (see bench/README.md).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { CpuWindow, loadAverage } from './lib/cpu.js';
import { createFreshDatabase } from './lib/db.js';
import { argNumber, argString, isMain, log, quietly, REPO_ROOT, runMain, sleep, type ScenarioResult } from './lib/harness.js';
import { medianRange, percentile, round } from './lib/stats.js';
import { jobplane } from './peers/jobplane.js';

export interface SchedulesOptions {
  schedules: number;
  fires: number;
  cron: string;
  worker: boolean;
  pollMs: number;
}

export const schedulesDefaults: SchedulesOptions = { schedules: 10_000, fires: 3, cron: '* * * * *', worker: true, pollMs: 2 };

const TENANT = '00000000-0000-7000-8000-000000000001';

/** Store `n` schedules with the same cron, their first fire time computed by Jobplane itself. */
async function insertSchedules(client: pg.Client, opts: SchedulesOptions): Promise<void> {
  const { createSchedule } = await import('../src/engine/schedule-service.js');
  const template = await createSchedule(client, { tenantId: TENANT }, { name: 'bench-0', cron: opts.cron, task: 'noop', queue: 'bench-cron', overlapPolicy: 'allow' });
  await client.query(
    `INSERT INTO jobplane.schedules (id, tenant_id, name, cron, timezone, anchor_at, task, queue, payload, job_options, overlap_policy, next_fire_at)
     SELECT gen_random_uuid(), tenant_id, 'bench-' || i, cron, timezone, anchor_at, task, queue, payload, job_options, overlap_policy, next_fire_at
     FROM jobplane.schedules, generate_series(1, $2::int - 1) i WHERE id = $1`,
    [template.id, opts.schedules],
  );
  await client.query('VACUUM (ANALYZE) jobplane.schedules');
}

/** The Jobplane product process (`jobplane start`) with its defaults; resolves once it runs. */
async function startJobplane(url: string, opts: SchedulesOptions): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/jobplane.js'), 'start'], {
    cwd: REPO_ROOT,
    env: { ...process.env, DATABASE_URL: url, JOBPLANE_ROLES: opts.worker ? 'scheduler,worker' : 'scheduler', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.once('exit', () => child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString();
      if (buffered.includes('jobplane is running')) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`jobplane exited with ${code} before it ran:\n${buffered.slice(-2000)}`)));
  });
  return child;
}

async function stopJobplane(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(15_000).then(() => child.kill('SIGKILL'))]);
}

interface FireResult {
  fireAt: string;
  fired: number;
  latenessMs: { p50: number | null; p99: number | null; max: number | null };
  jobplaneCpuMs: number | null;
  postgresCpuMs: number | null;
  loadAvg: number;
}

/**
 * Watch one fire time: poll how many schedules still wait for it until none does (or 30 s).
 * Returns each poll's (ms after the fire time, schedules fired so far).
 */
async function watchFire(client: pg.Client, fireAt: Date, total: number, pollMs: number): Promise<Array<{ afterMs: number; fired: number }>> {
  const samples: Array<{ afterMs: number; fired: number }> = [];
  const until = Date.now() + 30_000 + Math.max(0, fireAt.getTime() - Date.now());
  for (;;) {
    const { rows: [r] } = await client.query<{ afterMs: number; waiting: number }>(
      `SELECT extract(epoch FROM clock_timestamp() - $1::timestamptz) * 1000 AS "afterMs",
              (SELECT count(*)::int FROM jobplane.schedules WHERE NOT paused AND next_fire_at IS NOT NULL AND next_fire_at <= $1) AS waiting`,
      [fireAt],
    );
    const fired = total - r!.waiting;
    if (r!.afterMs >= 0) samples.push({ afterMs: Number(r!.afterMs), fired });
    if ((r!.afterMs >= 0 && fired >= total) || Date.now() > until) return samples;
    await sleep(r!.afterMs < -50 ? Math.min(-r!.afterMs - 20, 1000) : pollMs);
  }
}

/** The first poll at which at least `share` of the schedules had fired, in ms after the fire time. */
function latenessAt(samples: ReadonlyArray<{ afterMs: number; fired: number }>, total: number, share: number): number | null {
  const hit = samples.find((s) => s.fired >= Math.ceil(total * share));
  return hit ? round(hit.afterMs, 1) : null;
}

export async function schedulesBench(partial: Partial<SchedulesOptions> = {}): Promise<ScenarioResult> {
  const opts: SchedulesOptions = { ...schedulesDefaults, ...partial };
  const db = await createFreshDatabase('jobplane', 'schedules');
  const fires: FireResult[] = [];
  let startLatency: Record<string, number | null> = {};
  let child: ChildProcess | null = null;
  const client = new pg.Client({ connectionString: db.url, application_name: 'bench-observer' });
  try {
    await jobplane.setup(db.url);
    await client.connect();
    await insertSchedules(client, opts);
    log(`schedules: ${opts.schedules} stored (cron ${opts.cron})`);
    child = await startJobplane(db.url, opts);
    const pids = [child.pid!];
    for (let i = 0; i < opts.fires; i++) {
      const { rows: [next] } = await client.query<{ at: Date; n: number }>(
        'SELECT min(next_fire_at) AS at, count(*)::int AS n FROM jobplane.schedules WHERE next_fire_at = (SELECT min(next_fire_at) FROM jobplane.schedules)',
      );
      const fireAt = next!.at;
      log(`schedules: waiting for fire ${i + 1}/${opts.fires} at ${fireAt.toISOString()} (${next!.n} schedules)`);
      const { rows: [wait] } = await client.query<{ ms: number }>('SELECT extract(epoch FROM $1::timestamptz - clock_timestamp()) * 1000 AS ms', [fireAt]);
      const waitMs = Number(wait!.ms);
      if (waitMs < 5000) {
        // Too close to the process's start for the scheduler to prepare it (as in use, a fire
        // seconds after a restart is late by its write time): let it pass, measure the next.
        log(`schedules: fire at ${fireAt.toISOString()} is ${Math.round(waitMs)} ms away, too soon after start; skipped`);
        await sleep(Math.max(0, waitMs) + 3000);
        i -= 1;
        continue;
      }
      // Open the CPU window before the fire is prepared (up to 2 s ahead; the process is idle then).
      if (waitMs > 3000) await sleep(waitMs - 3000);
      const cpu = CpuWindow.open(pids);
      const samples = await watchFire(client, fireAt, next!.n, opts.pollMs);
      await sleep(Math.max(0, 5000 - (samples.at(-1)?.afterMs ?? 0)));
      const reading = cpu.close();
      const result: FireResult = {
        fireAt: fireAt.toISOString(),
        fired: samples.at(-1)?.fired ?? 0,
        latenessMs: { p50: latenessAt(samples, next!.n, 0.5), p99: latenessAt(samples, next!.n, 0.99), max: latenessAt(samples, next!.n, 1) },
        jobplaneCpuMs: round(reading.workers.us / 1000, 1),
        postgresCpuMs: round(reading.postgres.us / 1000, 1),
        loadAvg: loadAverage()[0],
      };
      fires.push(result);
      log(`schedules: fire ${i + 1}: ${result.fired} fired, lateness p50 ${result.latenessMs.p50} ms, p99 ${result.latenessMs.p99} ms, max ${result.latenessMs.max} ms; CPU jobplane ${result.jobplaneCpuMs} ms, postgres ${result.postgresCpuMs} ms`);
    }
    if (opts.worker) {
      const { rows } = await client.query<{ ms: number }>(
        `SELECT extract(epoch FROM started_at - fire_at) * 1000 AS ms FROM jobplane.jobs WHERE schedule_id IS NOT NULL AND started_at IS NOT NULL`,
      );
      const values = rows.map((r) => Number(r.ms)).sort((a, b) => a - b);
      startLatency = { jobs: values.length, p50: round(percentile(values, 50), 1), p99: round(percentile(values, 99), 1), max: round(values.at(-1) ?? null, 1) };
    }
  } finally {
    if (child) await quietly('stop jobplane', () => stopJobplane(child!), 20_000);
    await client.end().catch(() => undefined);
    await quietly(`drop ${db.name}`, () => db.drop());
  }
  const p99s = fires.map((f) => f.latenessMs.p99).filter((v): v is number => v !== null);
  return {
    scenario: 'schedules',
    params: { ...opts, system: 'jobplane (defaults)' },
    metrics: {
      scheduleLatenessP99Ms: { unit: 'ms', better: 'lower' },
      scheduleLatenessMaxMs: { unit: 'ms', better: 'lower' },
    },
    headline: {
      jobplane: {
        scheduleLatenessP99Ms: medianRange(p99s, 1)?.median ?? null,
        scheduleLatenessMaxMs: medianRange(fires.map((f) => f.latenessMs.max).filter((v): v is number => v !== null), 1)?.median ?? null,
      },
    },
    details: { jobplane: { fires, fireToStartMs: startLatency, latenessP99Ms: medianRange(p99s, 1) } },
    elapsedS: {},
  };
}

if (isMain(import.meta)) {
  await runMain(1800, (args) =>
    schedulesBench({
      schedules: argNumber(args, 'schedules', schedulesDefaults.schedules),
      fires: argNumber(args, 'fires', schedulesDefaults.fires),
      cron: argString(args, 'cron') ?? schedulesDefaults.cron,
      worker: args['no-worker'] !== true,
      pollMs: argNumber(args, 'poll-ms', schedulesDefaults.pollMs),
    }),
  );
}
