/**
 * The one test command (`npm test` runs it after type-check and lint): finds PostgreSQL
 * (TEST_DATABASE_URL, else 127.0.0.1:5432, else an embedded server it starts), migrates a
 * template database once, then runs every test file with node:test; each file clones the template.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import pg from 'pg';
import { silentLogger } from '../src/core/deps.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrator.js';
import { createPool } from '../src/db/pool.js';
import { findServer, withDatabase } from './helpers/server.js';

async function listTests(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
    .map((e) => relative(process.cwd(), join(e.parentPath, e.name)))
    .sort();
}

async function dropStale(admin: string): Promise<void> {
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  const cutoff = Math.floor(Date.now() / 1000) - 3600;
  const { rows } = await client.query<{ datname: string }>(
    `SELECT datname FROM pg_database WHERE datname ~ '^jobplane_(t|tpl)_[0-9]+_'`,
  );
  for (const { datname } of rows) {
    if (Number(datname.split('_')[2]) < cutoff) await client.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
  }
  await client.end();
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const files = (await Promise.all((args.length > 0 ? args : ['test']).map(async (a) => (a.endsWith('.ts') ? [a] : listTests(a))))).flat();
  let embedded: EmbeddedPostgres | null = null;
  let admin = await findServer();
  if (!admin) {
    console.log('# no PostgreSQL answered on TEST_DATABASE_URL or 127.0.0.1:5432; starting an embedded one');
    embedded = await startEmbeddedPostgres({ dataDir: '', ephemeral: true, logger: silentLogger });
    admin = embedded.adminConnectionString;
  }
  const template = `jobplane_tpl_${Math.floor(Date.now() / 1000)}_${randomBytes(3).toString('hex')}`;
  try {
    await dropStale(admin);
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    await client.query(`CREATE DATABASE ${template}`);
    await client.end();
    const pool = createPool({ connectionString: withDatabase(admin, template), max: 2 });
    await migrate(pool);
    await pool.end();
    const concurrency = Math.max(2, availableParallelism() * 2);
    // The test run gets a process group of its own: when it ends — normally, at the deadline, or
    // because we were told to stop — whatever it left behind (a server a hung test started, a
    // browser, an embedded PostgreSQL) is killed with the group, so nothing holds this run's output
    // open and `npm test` always ends with a verdict (CI's limit is 90 minutes; ours is below).
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=600000', ...files],
      { stdio: 'inherit', detached: true, env: { ...process.env, JOBPLANE_TEST_ADMIN_URL: admin, JOBPLANE_TEST_TEMPLATE: template } },
    );
    const killGroup = (signal: NodeJS.Signals): void => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        // The group is already gone.
      }
    };
    const deadlineMs = Number(process.env.JOBPLANE_TEST_DEADLINE_MS ?? 80 * 60_000);
    const deadline = setTimeout(() => {
      console.error(`# the test run passed its deadline of ${Math.round(deadlineMs / 60_000)} minutes; killing it`);
      killGroup('SIGKILL');
    }, deadlineMs);
    const forward = (signal: NodeJS.Signals): void => killGroup(signal);
    process.on('SIGINT', forward).on('SIGTERM', forward);
    const code = await new Promise<number>((resolve) => child.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0))));
    clearTimeout(deadline);
    killGroup('SIGKILL');
    return code;
  } finally {
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
    await client.end();
    await embedded?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
