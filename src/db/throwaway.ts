/** Throwaway databases for tests: created on a server, migrated, dropped when done. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate } from './migrator.js';
import { createPool, type Pool } from './pool.js';

/** A database of one's own, migrated; `drop()` closes its pool and removes it. */
export interface ThrowawayDatabase {
  url: string;
  pool: Pool;
  drop(): Promise<void>;
}

/**
 * Create a fresh database on the server of `adminUrl` (a URL of any database there whose role
 * may CREATE DATABASE, e.g. `…/postgres`) and migrate it.
 */
export async function createThrowawayDatabase(adminUrl: string, options: { poolMax?: number } = {}): Promise<ThrowawayDatabase> {
  const name = `jobplane_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = createPool({ connectionString: url.toString(), max: options.poolMax ?? 5 });
  try {
    await migrate(pool);
  } catch (error) {
    await pool.end();
    await withAdmin(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    throw error;
  }
  let dropping: Promise<void> | null = null;
  return {
    url: url.toString(),
    pool,
    drop: () => {
      dropping ??= (async () => {
        await pool.end();
        await withAdmin(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      })();
      return dropping;
    },
  };
}

async function withAdmin(adminUrl: string, run: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await run(client);
  } finally {
    await client.end();
  }
}
