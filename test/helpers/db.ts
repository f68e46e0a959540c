import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import pg from 'pg';
import { migrate } from '../../src/db/migrator.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { findServer, withDatabase } from './server.js';

/** A database of one's own for a test file. */
export interface TestDatabase {
  url: string;
  pool: Pool;
  /** Stop `thing` (a worker, scheduler, process…) before the database is dropped at the end of the file. */
  track<T extends { stop(): Promise<unknown> }>(thing: T): T;
}

let cached: Promise<TestDatabase> | null = null;

/**
 * This test file's own database, cloned from the migrated template that `test/run.ts` prepared
 * (or migrated from scratch when the file runs alone). Dropped when the file ends.
 */
export function testDatabase(): Promise<TestDatabase> {
  cached ??= create();
  return cached;
}

async function create(): Promise<TestDatabase> {
  const admin = process.env.JOBPLANE_TEST_ADMIN_URL ?? (await findServer());
  if (!admin) throw new Error('no PostgreSQL for tests: run through `npm test`, which starts an embedded one');
  const template = process.env.JOBPLANE_TEST_TEMPLATE;
  const name = `jobplane_t_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
  } finally {
    await client.end();
  }
  const url = withDatabase(admin, name);
  const pool = createPool({ connectionString: url, max: 10 });
  if (!template) await migrate(pool);
  const tracked: Array<{ stop(): Promise<unknown> }> = [];
  // after() hooks run in registration order and this one is registered first, so everything a
  // test started is stopped here, before the pool closes and the database is dropped.
  after(async () => {
    await Promise.allSettled(tracked.map((t) => t.stop()));
    await pool.end();
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  });
  return {
    url,
    pool,
    track(thing) {
      tracked.push(thing);
      return thing;
    },
  };
}
