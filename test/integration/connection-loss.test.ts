/**
 * A backend that dies under a checked-out connection (pg_terminate_backend, a server restart) must
 * fail the operation, never the process: pg emits 'error' on such a client, and an 'error' without
 * a listener ends Node. These run in the test process itself, so a regression crashes the file.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, test } from 'node:test';
import { silentLogger } from '../../src/core/deps.js';
import { NotificationListener } from '../../src/db/listener.js';
import { createPool, isConnectionError, withTransaction, type Pool } from '../../src/db/pool.js';
import { testDatabase } from '../helpers/db.js';
import { eventually } from '../helpers/wait.js';

const db = await testDatabase();
const pools: Pool[] = [];
after(() => Promise.all(pools.map((p) => p.end())));

function poolFor(applicationName: string): Pool {
  const pool = createPool({ connectionString: db.url, max: 2, applicationName, logger: silentLogger });
  pools.push(pool);
  return pool;
}

async function terminate(applicationName: string): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(
    `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`,
    [applicationName],
  );
  return rows[0]!.n;
}

test('a backend terminated between two statements of a transaction rejects the transaction and the pool goes on', async () => {
  const pool = poolFor('conn-loss-tx');
  const failure = await withTransaction(pool, async (tx) => {
    await tx.query('SELECT 1');
    // No statement is in flight while the backend dies: pg reports it only as a client 'error'.
    assert.equal(await terminate('conn-loss-tx'), 1);
    await eventually(async () => (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'conn-loss-tx'`)).rows[0]!.n === 0);
    await tx.query('SELECT 2');
  }).then(
    () => null,
    (error: unknown) => error,
  );
  assert.ok(failure, 'the transaction failed');
  assert.ok(isConnectionError(failure), `a connection error, not ${(failure as Error | null)?.message ?? "success"}`);
  // The broken connection was destroyed, not returned: the next transaction works.
  const value = await withTransaction(pool, async (tx) => (await tx.query<{ v: number }>('SELECT 3 AS v')).rows[0]!.v);
  assert.equal(value, 3);
  assert.equal(pool.totalCount, 1);
});

test('a backend terminated during a statement of a transaction rejects it with a connection error', async () => {
  const pool = poolFor('conn-loss-stmt');
  const failure = await withTransaction(pool, async (tx) => {
    const slow = tx.query('SELECT pg_sleep(30)');
    slow.catch(() => undefined); // awaited below; it may reject before that
    await eventually(async () => (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'conn-loss-stmt' AND state = 'active'`)).rows[0]!.n === 1);
    assert.equal(await terminate('conn-loss-stmt'), 1);
    await slow;
  }).then(
    () => null,
    (error: unknown) => error,
  );
  assert.ok(isConnectionError(failure), `a connection error, not ${(failure as Error | null)?.message ?? "success"}`);
  assert.equal((await pool.query<{ v: number }>('SELECT 4 AS v')).rows[0]!.v, 4);
});

test('a LISTEN connection whose backend is terminated reconnects and says so', async () => {
  const pool = poolFor('conn-loss-listen');
  let connected = 0;
  let disconnected = 0;
  const notes: string[] = [];
  const listener = new NotificationListener({
    pool,
    channels: ['conn_loss_test'],
    logger: silentLogger,
    onNotification: (_channel, payload) => notes.push(payload),
    onConnected: () => (connected += 1),
    onDisconnected: () => (disconnected += 1),
    retryMs: 20,
  });
  db.track(listener);
  await listener.start();
  assert.equal(connected, 1);
  for (let round = 1; round <= 3; round++) {
    assert.equal(await terminate('conn-loss-listen'), 1);
    await eventually(() => Promise.resolve(connected === round + 1), 10_000, 10);
  }
  assert.equal(disconnected, 3);
  await db.pool.query(`SELECT pg_notify('conn_loss_test', 'still here')`);
  await eventually(() => Promise.resolve(notes.includes('still here')));
});

test('an idle pooled connection whose backend is terminated is dropped quietly', async () => {
  const pool = poolFor('conn-loss-idle');
  await pool.query('SELECT 1');
  const gone = once(pool, 'error');
  assert.equal(await terminate('conn-loss-idle'), 1);
  await gone;
  assert.equal((await pool.query<{ v: number }>('SELECT 5 AS v')).rows[0]!.v, 5);
});
