import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, test } from 'node:test';
import pg from 'pg';
import { silentLogger } from '../../src/core/deps.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { DatabaseHealth } from '../../src/engine/database-health.js';
import { testDatabase } from '../helpers/db.js';

const db = await testDatabase();
const pools: Pool[] = [];
const servers: Server[] = [];
after(async () => {
  await Promise.all(pools.map((p) => p.end()));
  for (const s of servers) s.close();
});

function pool(connectionString: string, max = 2): Pool {
  const p = createPool({ connectionString, max, logger: silentLogger });
  pools.push(p);
  return p;
}

/** A port that accepts connections and never answers: a network that black-holes packets. */
async function silentPort(): Promise<number> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => sockets.push(socket));
  server.on('close', () => sockets.forEach((s) => s.destroy()));
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

test('health is up on a database that answers, and counts nothing as a reconnect', async () => {
  const health = new DatabaseHealth({ pool: db.pool });
  assert.equal(health.state, 'unknown');
  assert.equal(await health.runOnce(), 'up');
  assert.equal(health.reconnects, 0);
});

test('a database that refuses connections is down at the first ping, with the reason', async () => {
  const closed = await silentPort();
  servers.at(-1)!.close();
  const health = new DatabaseHealth({ pool: pool(`postgres://127.0.0.1:${closed}/x`) });
  assert.equal(await health.runOnce(), 'down');
  assert.match(health.lastError ?? '', /ECONNREFUSED|connect/);
});

test('a database behind a black-holed network is down after the ping timeout, not after the connection timeout', async () => {
  const port = await silentPort();
  const health = new DatabaseHealth({ pool: pool(`postgres://127.0.0.1:${port}/x`), intervalMs: 200, timeoutMs: 200 });
  const started = performance.now();
  assert.equal(await health.runOnce(), 'down');
  assert.ok(performance.now() - started < 2000, 'answered within about one interval');
  // The first ping still hangs: the next one reports down at once instead of piling up.
  assert.equal(await health.runOnce(), 'down');
  assert.match(health.lastError ?? '', /previous ping/);
});

test('a read-only database is reported as such', async () => {
  const url = new URL(db.url);
  url.searchParams.set('options', '-c default_transaction_read_only=on');
  const readOnly = new pg.Pool({ connectionString: url.toString(), max: 1 });
  readOnly.on('error', () => undefined);
  pools.push(readOnly);
  const health = new DatabaseHealth({ pool: readOnly });
  assert.equal(await health.runOnce(), 'read-only');
});

test('going down and coming back is one change each way and one reconnect', async () => {
  // A forwarder to the real server that the test can cut: connections are destroyed while off.
  const target = new URL(db.url);
  let on = true;
  const open = new Set<Socket>();
  const proxy = createServer((client) => {
    if (!on) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(target.port || 5432), target.hostname === 'localhost' ? '127.0.0.1' : target.hostname);
    open.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  servers.push(proxy);
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  const via = new URL(db.url);
  via.hostname = '127.0.0.1';
  via.port = String((proxy.address() as { port: number }).port);
  const health = new DatabaseHealth({ pool: pool(via.toString()), intervalMs: 500 });
  const changes: string[] = [];
  health.events.on('change', ({ from, to }) => changes.push(`${from}→${to}`));
  assert.equal(await health.runOnce(), 'up');
  on = false;
  for (const socket of open) socket.destroy();
  assert.equal(await health.runOnce(), 'down');
  assert.equal(await health.runOnce(), 'down');
  on = true;
  assert.equal(await health.runOnce(), 'up');
  assert.deepEqual(changes, ['unknown→up', 'up→down', 'down→up']);
  assert.equal(health.reconnects, 1);
});
