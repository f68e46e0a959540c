import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import type { Logger } from '../core/deps.js';
import { silentLogger } from '../core/deps.js';
import { AppError } from '../errors/index.js';
import { checkOut, type Pool } from './pool.js';

/**
 * Migrations ship as plain SQL next to this module. The same relative path works from `src/db`
 * (tsx) and from `dist/db` (built), because the package ships `src/db/migrations`.
 */
const MIGRATIONS_DIR = new URL('../../src/db/migrations/', import.meta.url);

/** An arbitrary but fixed advisory-lock key: only one process migrates at a time. */
const MIGRATION_LOCK_KEY = 7_346_118_202;

/** One migration file. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

/** Load the migration files in order. File names are `NNNN_name.sql`. */
export async function loadMigrations(dir: URL = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const sql = await readFile(new URL(file, dir), 'utf8');
    migrations.push({
      version: Number(file.slice(0, 4)),
      name: file.replace(/\.sql$/, ''),
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
  }
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration numbering has a gap or duplicate at ${m.name}`);
  });
  return migrations;
}

/** What {@link migrate} did. */
export interface MigrateResult {
  applied: string[];
  current: number;
}

/**
 * Apply pending migrations under a session advisory lock, each in its own transaction. Refuses to
 * run when an applied migration's file changed (migrations are append-only) or when the database
 * is newer than this program.
 */
export async function migrate(pool: Pool, logger: Logger = silentLogger): Promise<MigrateResult> {
  const migrations = await loadMigrations();
  const client = await checkOut(pool);
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS jobplane`);
      await client.query(`CREATE TABLE IF NOT EXISTS jobplane.schema_migrations (
        version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now())`);
      const { rows } = await client.query<{ version: number; name: string; checksum: string }>(
        'SELECT version, name, checksum FROM jobplane.schema_migrations ORDER BY version',
      );
      checkApplied(rows, migrations);
      const applied: string[] = [];
      for (const migration of migrations.slice(rows.length)) {
        await client.query('BEGIN');
        try {
          await client.query(migration.sql);
          await client.query('INSERT INTO jobplane.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
            migration.version,
            migration.name,
            migration.checksum,
          ]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw new Error(`migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
        }
        logger.info({ migration: migration.name }, 'applied migration');
        applied.push(migration.name);
      }
      return { applied, current: migrations.length };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
}

function checkApplied(rows: Array<{ version: number; name: string; checksum: string }>, migrations: Migration[]): void {
  if (rows.length > migrations.length) {
    throw new AppError(
      'CONFIG_INVALID',
      `the database is at migration ${rows.length} but this program knows only ${migrations.length}: upgrade Jobplane`,
    );
  }
  rows.forEach((row, i) => {
    const file = migrations[i];
    if (!file || file.version !== row.version || file.checksum !== row.checksum) {
      throw new AppError(
        'CONFIG_INVALID',
        `migration ${row.name} was changed after it was applied; migrations are append-only (add a new file instead)`,
      );
    }
  });
}

/** Names of migrations not yet applied (empty when current). Used by readiness checks. */
export async function pendingMigrations(pool: Pool): Promise<string[]> {
  const migrations = await loadMigrations();
  const { rows } = await pool.query<{ n: number }>(
    `SELECT CASE WHEN to_regclass('jobplane.schema_migrations') IS NULL THEN 0
            ELSE (SELECT count(*)::int FROM jobplane.schema_migrations) END AS n`,
  );
  return migrations.slice(rows[0]?.n ?? 0).map((m) => m.name);
}
