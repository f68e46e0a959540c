/**
 * Database helpers: one fresh database per system per scenario, created from the admin URL
 * (`BENCH_DATABASE_URL`, default postgres://postgres@127.0.0.1:5432/postgres) and dropped afterwards.
 *
 * Only 127.0.0.1 is accepted as a target. Nothing here changes server settings.
 */
import pg from 'pg';

export const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export function adminUrl(): string {
  const url = process.env['BENCH_DATABASE_URL'] ?? DEFAULT_ADMIN_URL;
  assertLocalUrl(url);
  return url;
}

/** Refuse anything that is not PostgreSQL on 127.0.0.1. */
export function assertLocalUrl(url: string): void {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    throw new Error(`BENCH_DATABASE_URL is not a URL: ${url}`);
  }
  if (host !== '127.0.0.1') {
    throw new Error(`benchmarks only run against PostgreSQL on 127.0.0.1 (got host '${host}')`);
  }
}

/** The admin URL with its database name replaced. */
export function databaseUrl(dbName: string): string {
  const u = new URL(adminUrl());
  u.pathname = `/${dbName}`;
  return u.toString();
}

export async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl(), application_name: 'bench-admin' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** `bench_<system>_<scenario>` with every character outside [a-z0-9_] replaced, at most 63 bytes. */
export function benchDatabaseName(system: string, scenario: string): string {
  const clean = (s: string) => s.toLowerCase().replace(/[^a-z0-9_]+/g, '_');
  return `bench_${clean(system)}_${clean(scenario)}`.slice(0, 63);
}

export interface FreshDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** Drop (if left over) and create `bench_<system>_<scenario>`; `drop()` removes it again, forcibly. */
export async function createFreshDatabase(system: string, scenario: string): Promise<FreshDatabase> {
  const name = benchDatabaseName(system, scenario);
  await dropDatabase(name);
  await withAdmin((c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`));
  return { name, url: databaseUrl(name), drop: () => dropDatabase(name) };
}

/**
 * Drop a benchmark database. Clients that just closed their pools may still have backends
 * exiting; wait up to 3 s for them so FORCE does not send FATAL errors to half-closed sockets.
 */
export async function dropDatabase(name: string): Promise<void> {
  if (!name.startsWith('bench_')) throw new Error(`refusing to drop non-benchmark database ${name}`);
  await withAdmin(async (c) => {
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      const { rows } = await c.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [name],
      );
      if ((rows[0]?.n ?? 0) === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  });
}

/** Drop every database named bench_% (left over from an interrupted run). */
export async function dropLeftoverDatabases(): Promise<string[]> {
  return withAdmin(async (c) => {
    const { rows } = await c.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE 'bench\\_%'`,
    );
    for (const r of rows) await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(r.datname)} WITH (FORCE)`);
    return rows.map((r) => r.datname);
  });
}

export interface CommitCounts {
  commits: number;
  rollbacks: number;
}

/**
 * Transaction counters of one database from pg_stat_database. Backends flush their counters
 * when they go idle (at most once a second) and when they exit, so read this after the
 * clients of interest have disconnected.
 */
export async function readCommitCounts(dbName: string): Promise<CommitCounts> {
  return withAdmin(async (c) => {
    const { rows } = await c.query<{ xact_commit: string; xact_rollback: string }>(
      'SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = $1',
      [dbName],
    );
    const r = rows[0];
    return { commits: Number(r?.xact_commit ?? 0), rollbacks: Number(r?.xact_rollback ?? 0) };
  });
}

/** Flush dirty buffers before a measured run, so a timed checkpoint is less likely to land inside it. */
export async function checkpoint(): Promise<void> {
  await withAdmin((c) => c.query('CHECKPOINT'));
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
