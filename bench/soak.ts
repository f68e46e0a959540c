/**
 * Soak (docs/decisions.md #9; not run by CI): a steady submission rate through `addJobs` for a long
 * time, two worker processes (one of them SIGKILLed and restarted every minute), one scheduler
 * process (the rescuer). Every 10 s it samples the RSS of every process (and of this database's
 * PostgreSQL backends), connections per application_name in pg_stat_activity, the jobs by status,
 * and the jobs table's size and dead tuples. At the end: enqueue→start latency p50/p99 per minute
 * of enqueue (database clock: started_at − created_at; a job rescued after a kill counts its last
 * start), the kills, and whether every job submitted completed. Prints one JSON document.
 *
 *   npx tsx bench/soak.ts [--minutes 30] [--rate 500] [--kill-every-s 60] [--sample-every-s 10]
 *                         [--lease-ms 5000] [--job-ms 5] [--concurrency 10] [--out FILE] [--keep]
 *
 * The database is `bench_jobplane_soak` on BENCH_DATABASE_URL (default
 * postgres://postgres@127.0.0.1:5432/postgres), created fresh and dropped at the end (`--keep`
 * keeps it). Unlike the scenario scripts it does not drop other `bench_*` databases at start, so
 * it can run next to them. The same file is the child entry (`--child worker|scheduler`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { addJobs } from '../src/engine/submit.js';
import type { JobSpec } from '../src/core/job-spec.js';
import { migrate } from '../src/db/migrator.js';
import { createPool } from '../src/db/pool.js';
import { createScheduler } from '../src/scheduler/scheduler.js';
import { createWorker } from '../src/worker/worker.js';
import { createFreshDatabase } from './lib/db.js';
import { argNumber, argString, errorMessage, log, parseArgs, sleep, type Args } from './lib/harness.js';
import { machineInfo } from './lib/machine.js';

const SELF = fileURLToPath(import.meta.url);
const TASK = 'soak';
const QUEUE = 'soak';

// ---- child processes --------------------------------------------------------------------------

async function runChild(args: Args): Promise<void> {
  const role = argString(args, 'child');
  const databaseUrl = argString(args, 'database-url')!;
  const send = (m: object) => {
    if (process.connected) process.send?.(m);
  };
  process.on('disconnect', () => process.exit(1));
  if (role === 'worker') {
    const jobMs = argNumber(args, 'job-ms', 5);
    const worker = createWorker({
      databaseUrl,
      concurrency: argNumber(args, 'concurrency', 10),
      leaseMs: argNumber(args, 'lease-ms', 5000),
      pollIntervalMs: 1000,
      maintenance: false,
      tasks: { [TASK]: (payload: { ms?: number } | null) => sleep(payload?.ms ?? jobMs).then(() => null) },
    });
    await worker.start();
    send({ ready: true, workerId: worker.id, pid: process.pid });
    process.on('SIGTERM', () => void worker.stop().then(() => process.exit(0)));
  } else if (role === 'scheduler') {
    const scheduler = createScheduler({ databaseUrl, rescueIntervalMs: 1000, leaderTtlMs: 5000, tickMs: 250 });
    await scheduler.start();
    send({ ready: true, schedulerId: scheduler.id, pid: process.pid });
    process.on('SIGTERM', () => void scheduler.stop().then(() => process.exit(0)));
  } else {
    throw new Error(`unknown --child ${String(role)}`);
  }
}

interface Child {
  role: string;
  proc: ChildProcess;
  pid: number;
  workerId: string | null;
  startedAt: number;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

async function startChild(role: 'worker' | 'scheduler', name: string, databaseUrl: string, args: Args): Promise<Child> {
  const pass = ['lease-ms', 'job-ms', 'concurrency'].flatMap((k) => (args[k] !== undefined ? [`--${k}`, String(args[k])] : []));
  const proc = spawn(process.execPath, ['--import', 'tsx', SELF, '--child', role, '--database-url', databaseUrl, ...pass], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  const ready = await new Promise<Record<string, unknown>>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready within 60 s`)), 60_000);
    proc.on('message', (m: Record<string, unknown>) => {
      if (m.ready === true) {
        clearTimeout(timer);
        resolvePromise(m);
      }
    });
    proc.once('exit', (code) => reject(new Error(`${name} exited while starting (${String(code)})`)));
  });
  return { role: name, proc, pid: proc.pid ?? -1, workerId: (ready.workerId as string | undefined) ?? null, startedAt: Date.now() };
}

async function killChild(child: Child): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.proc.once('exit', () => r()));
  child.proc.kill('SIGKILL');
  await exited;
}

async function stopChild(child: Child): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.proc.once('exit', () => r()));
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

// ---- sampling ---------------------------------------------------------------------------------

function rssMb(pid: number): number | null {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
    return line ? Math.round((Number(line.split(/\s+/)[1]) / 1024) * 10) / 10 : null;
  } catch {
    return null;
  }
}

interface Sample {
  t: number;
  rssMb: Record<string, number | null>;
  postgresBackendsRssMb: number;
  connections: Record<string, number>;
  jobs: Record<string, number>;
  jobsTableMb: number;
  deadTuples: number;
  submitted: number;
}

async function sample(db: pg.Client, t: number, processes: Record<string, number>, submitted: number): Promise<Sample> {
  const { rows: conns } = await db.query<{ app: string; n: number; pids: number[] }>(
    `SELECT coalesce(nullif(application_name, ''), '(none)') AS app, count(*)::int AS n, array_agg(pid) AS pids
     FROM pg_stat_activity WHERE datname = current_database() GROUP BY 1 ORDER BY 1`,
  );
  const { rows: statuses } = await db.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM jobplane.jobs GROUP BY status`);
  const { rows: table } = await db.query<{ bytes: string; dead: string | null }>(
    `SELECT pg_total_relation_size('jobplane.jobs')::text AS bytes,
            (SELECT n_dead_tup::text FROM pg_stat_user_tables WHERE schemaname = 'jobplane' AND relname = 'jobs') AS dead`,
  );
  const rss: Record<string, number | null> = {};
  for (const [name, pid] of Object.entries(processes)) rss[name] = rssMb(pid);
  const backends = conns.flatMap((c) => c.pids).reduce((sum, pid) => sum + (rssMb(pid) ?? 0), 0);
  return {
    t,
    rssMb: rss,
    postgresBackendsRssMb: Math.round(backends),
    connections: Object.fromEntries(conns.map((c) => [c.app, c.n])),
    jobs: Object.fromEntries(statuses.map((s) => [s.status, s.n])),
    jobsTableMb: Math.round(Number(table[0]!.bytes) / 2 ** 20),
    deadTuples: Number(table[0]!.dead ?? 0),
    submitted,
  };
}

interface MinuteLatency {
  minute: number;
  jobs: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

async function latencyPerMinute(db: pg.Client, since: Date, minute?: number): Promise<MinuteLatency[]> {
  const { rows } = await db.query<MinuteLatency>(
    `SELECT m AS minute, count(*)::int AS jobs,
            round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2)::float8 AS "p50Ms",
            round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 2)::float8 AS "p99Ms",
            round(max(ms)::numeric, 2)::float8 AS "maxMs"
     FROM (SELECT floor(extract(epoch FROM created_at - $1::timestamptz) / 60)::int AS m,
                  extract(epoch FROM started_at - created_at) * 1000 AS ms
           FROM jobplane.jobs WHERE queue = $2 AND started_at IS NOT NULL) x
     WHERE $3::int IS NULL OR m = $3::int
     GROUP BY m ORDER BY m`,
    [since, QUEUE, minute ?? null],
  );
  return rows;
}

// ---- the soak ---------------------------------------------------------------------------------

async function soak(args: Args): Promise<unknown> {
  const minutes = argNumber(args, 'minutes', 30);
  const rate = argNumber(args, 'rate', 500);
  const killEveryS = argNumber(args, 'kill-every-s', 60);
  const sampleEveryS = argNumber(args, 'sample-every-s', 10);
  const jobMs = argNumber(args, 'job-ms', 5);
  const leaseMs = argNumber(args, 'lease-ms', 5000);
  const params = { minutes, rate, killEveryS, sampleEveryS, jobMs, leaseMs, concurrency: argNumber(args, 'concurrency', 10), workers: 2, tickMs: 50 };
  log('soak', params);

  const database = await createFreshDatabase('jobplane', 'soak');
  const pool = createPool({ connectionString: database.url, max: 4, applicationName: 'soak-producer' });
  const observer = new pg.Client({ connectionString: database.url, application_name: 'soak-sampler' });
  const workers: Child[] = [];
  let scheduler: Child | null = null;
  try {
    await migrate(pool);
    await observer.connect();
    scheduler = await startChild('scheduler', 'scheduler', database.url, args);
    workers.push(...(await Promise.all([startChild('worker', 'worker-1', database.url, args), startChild('worker', 'worker-2', database.url, args)])));
    const started = new Date((await observer.query<{ now: Date }>('SELECT now()')).rows[0]!.now);
    const t0 = Date.now();
    const endAt = t0 + minutes * 60_000;

    // Open-loop producer: every tick submits what the schedule says is due (≤ 2 statements in flight).
    let submitted = 0;
    let failedBatches = 0;
    let inFlight = 0;
    const produce = async (): Promise<void> => {
      while (Date.now() < endAt) {
        const due = Math.floor(((Date.now() - t0) / 1000) * rate) - submitted;
        if (due > 0 && inFlight < 2) {
          const n = Math.min(due, 1000);
          submitted += n;
          inFlight += 1;
          const specs: JobSpec[] = Array.from({ length: n }, () => ({ task: TASK, queue: QUEUE, payload: { ms: jobMs }, maxAttempts: 20 }));
          void addJobs(pool, specs)
            .catch((error: unknown) => {
              failedBatches += 1;
              submitted -= n;
              log('addJobs failed:', errorMessage(error));
            })
            .finally(() => {
              inFlight -= 1;
            });
        }
        await sleep(params.tickMs);
      }
      while (inFlight > 0) await sleep(10);
    };
    const producing = produce();

    const samples: Sample[] = [];
    const kills: Array<{ t: number; worker: string; pid: number; inFlight: number; restartedInMs: number; newPid: number }> = [];
    let nextSample = t0 + sampleEveryS * 1000;
    let nextKill = t0 + killEveryS * 1000;
    let nextMinuteLog = t0 + 60_000;
    let victim = 0;
    while (Date.now() < endAt) {
      const now = Date.now();
      if (now >= nextKill && killEveryS > 0) {
        nextKill += killEveryS * 1000;
        const child = workers[victim]!;
        await killChild(child);
        const { rows } = await observer.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobplane.jobs WHERE status = 'running' AND worker_id = $1`, [child.workerId]);
        const restart = Date.now();
        const replacement = await startChild('worker', child.role, database.url, args);
        workers[victim] = replacement;
        kills.push({ t: Math.round((now - t0) / 1000), worker: child.role, pid: child.pid, inFlight: rows[0]!.n, restartedInMs: Date.now() - restart, newPid: replacement.pid });
        log(`killed ${child.role} (pid ${child.pid}, ${rows[0]!.n} jobs in flight); restarted as pid ${replacement.pid}`);
        victim = (victim + 1) % workers.length;
      }
      if (now >= nextSample) {
        nextSample += sampleEveryS * 1000;
        const processes: Record<string, number> = { producer: process.pid, scheduler: scheduler.pid };
        for (const w of workers) processes[w.role] = w.pid;
        samples.push(await sample(observer, Math.round((now - t0) / 1000), processes, submitted));
      }
      if (now >= nextMinuteLog) {
        const minute = Math.floor((nextMinuteLog - t0) / 60_000) - 1;
        nextMinuteLog += 60_000;
        const [m] = await latencyPerMinute(observer, started, minute);
        const last = samples.at(-1);
        log(`minute ${minute}: submitted ${submitted}, enqueue→start p50 ${String(m?.p50Ms)} ms p99 ${String(m?.p99Ms)} ms; rss ${JSON.stringify(last?.rssMb)}; connections ${JSON.stringify(last?.connections)}`);
      }
      await sleep(200);
    }
    await producing;

    // Drain, then check that everything submitted completed.
    const drainFrom = Date.now();
    let pending = Infinity;
    while (Date.now() - drainFrom < 120_000) {
      const { rows } = await observer.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobplane.jobs WHERE status IN ('queued', 'scheduled', 'running')`);
      pending = rows[0]!.n;
      if (pending === 0) break;
      await sleep(500);
    }
    const { rows: statuses } = await observer.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM jobplane.jobs GROUP BY status`);
    const { rows: rescued } = await observer.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobplane.jobs WHERE errors @> '[{"kind":"lease-expired"}]'`);
    const perMinute = await latencyPerMinute(observer, started);
    const final = {
      durationS: Math.round((Date.now() - t0) / 1000),
      submitted,
      failedBatches,
      achievedRatePerS: Math.round((submitted / (minutes * 60)) * 10) / 10,
      byStatus: Object.fromEntries(statuses.map((s) => [s.status, s.n])),
      notFinishedAfterDrain: pending,
      rescuedJobs: rescued[0]!.n,
      drainMs: Date.now() - drainFrom,
    };
    return { benchmark: 'soak', date: new Date().toISOString(), machine: await machineInfo(), params, summary: summarize(samples, perMinute, kills.length), final, kills, minutes: perMinute, samples };
  } finally {
    await Promise.allSettled([...workers, ...(scheduler ? [scheduler] : [])].map((c) => stopChild(c)));
    await observer.end().catch(() => undefined);
    await pool.end().catch(() => undefined);
    if (args.keep === undefined) await database.drop().catch((error: unknown) => log('drop failed:', errorMessage(error)));
  }
}

/** Headline figures: RSS per role (first sample after the first minute, last, max), connections (max), p99 first vs last full minute. */
function summarize(samples: readonly Sample[], perMinute: readonly MinuteLatency[], kills: number): Record<string, unknown> {
  const warm = samples.filter((s) => s.t >= 60);
  const roles = [...new Set(samples.flatMap((s) => Object.keys(s.rssMb)))];
  const rss = Object.fromEntries(
    roles.map((role) => {
      const values = (warm.length > 0 ? warm : samples).map((s) => s.rssMb[role]).filter((v): v is number => typeof v === 'number');
      return [role, { first: values[0] ?? null, last: values.at(-1) ?? null, max: values.length > 0 ? Math.max(...values) : null }];
    }),
  );
  const apps = [...new Set(samples.flatMap((s) => Object.keys(s.connections)))];
  const connections = Object.fromEntries(apps.map((a) => [a, { max: Math.max(...samples.map((s) => s.connections[a] ?? 0)), last: samples.at(-1)?.connections[a] ?? 0 }]));
  const full = perMinute.slice(0, -1);
  return {
    kills,
    rssMb: rss,
    postgresBackendsRssMb: { first: warm[0]?.postgresBackendsRssMb ?? null, last: samples.at(-1)?.postgresBackendsRssMb ?? null },
    connections,
    p99Ms: { firstMinute: full[0]?.p99Ms ?? null, lastMinute: full.at(-1)?.p99Ms ?? null, worstMinute: full.length > 0 ? Math.max(...full.map((m) => m.p99Ms ?? 0)) : null },
    p50Ms: { firstMinute: full[0]?.p50Ms ?? null, lastMinute: full.at(-1)?.p50Ms ?? null },
    jobsTableMb: samples.at(-1)?.jobsTableMb ?? null,
    maxDeadTuples: samples.length > 0 ? Math.max(...samples.map((s) => s.deadTuples)) : null,
  };
}

const args = parseArgs();
if (args.child !== undefined) {
  await runChild(args);
} else {
  process.on('unhandledRejection', (err) => log('unhandled rejection (continuing):', errorMessage(err)));
  const maxSeconds = argNumber(args, 'max-seconds', argNumber(args, 'minutes', 30) * 60 + 300);
  const hard = setTimeout(() => {
    log(`global deadline of ${maxSeconds}s reached; killing the children and exiting`);
    process.stdout.write(`${JSON.stringify({ benchmark: 'soak', failed: true, error: `global deadline of ${maxSeconds}s reached` })}\n`);
    process.exit(3);
  }, maxSeconds * 1000);
  hard.unref();
  let code = 0;
  try {
    const result = await soak(args);
    const text = `${JSON.stringify(result, null, 2)}\n`;
    const out = argString(args, 'out');
    if (out) {
      mkdirSync(dirname(resolve(out)), { recursive: true });
      writeFileSync(out, text);
      log(`wrote ${out}`);
    }
    process.stdout.write(text);
  } catch (err) {
    log('failed:', err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.stdout.write(`${JSON.stringify({ benchmark: 'soak', failed: true, error: errorMessage(err) })}\n`);
    code = 1;
  }
  await new Promise<void>((r) => process.stdout.write('', () => r()));
  process.exit(code);
}
