/**
 * Parent side of test/fixtures/fault-postgres.ts: a private PostgreSQL cluster this test file may
 * stop and start (same port) without touching the shared server the other test files use.
 */
import pg from 'pg';
import { migrate } from '../../../src/db/migrator.js';
import { createPool, type Pool } from '../../../src/db/pool.js';
import { startFaultFixture, type FaultProcess } from './procs.js';

/** A private cluster. */
export interface PrivatePostgres {
  port: number;
  /** Which binaries run it. */
  source: string;
  /** URL of database `name` on it. */
  url(name: string): string;
  /** Stop the server: `fast` (SIGINT) or `immediate` (SIGQUIT, no checkpoint); resolves when it has exited. */
  stop(mode: 'fast' | 'immediate'): Promise<number>;
  /** Start it again on the same port; resolves when it accepts connections. */
  start(): Promise<number>;
  /** The owning process (stop it to delete the cluster). */
  owner: FaultProcess;
}

/** Start a private cluster (initdb + postgres, ~2–4 s). */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const owner = startFaultFixture('private-postgres', 'test/fixtures/fault-postgres.ts', {});
  const ready = await owner.waitFor((m) => m.ready === true, 60_000);
  const port = ready.port as number;
  const password = ready.password as string;
  let next = 1;
  const command = async (message: Record<string, unknown>): Promise<number> => {
    const id = next++;
    owner.send({ ...message, id });
    const reply = await owner.waitFor((m) => m.reply === id, 60_000);
    if (reply.ok !== true) throw new Error(`private postgres ${String(message.cmd)} failed: ${String(reply.error)}`);
    return reply.ms as number;
  };
  return {
    port,
    source: ready.bin as string,
    url: (name) => `postgres://postgres:${password}@127.0.0.1:${port}/${name}`,
    stop: (mode) => command({ cmd: 'stop', mode }),
    start: () => command({ cmd: 'start' }),
    owner,
  };
}

/** Create database `name` on the cluster and migrate it; returns a pool on it. */
export async function createMigratedDatabase(server: PrivatePostgres, name: string): Promise<Pool> {
  const admin = new pg.Client({ connectionString: server.url('postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const pool = createPool({ connectionString: server.url(name), max: 6, applicationName: 'fault-observer' });
  await migrate(pool);
  return pool;
}
