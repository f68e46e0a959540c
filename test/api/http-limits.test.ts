/**
 * The api server's defences against clients that hold connections: header, request, idle and
 * keep-alive deadlines, the per-address connection cap, and which X-Forwarded-For it believes.
 * Raw TCP sockets (node:net) play the slow clients; every one is destroyed when its test ends.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as connectTcp, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../src/api/build-app.js';
import { loadConfig } from '../../src/config/index.js';
import type { LogFields, Logger } from '../../src/core/deps.js';
import { DEFAULT_TENANT_ID } from '../../src/core/tenants.js';
import { addJob } from '../../src/engine/submit.js';
import { createMetrics, type Metrics } from '../../src/server/metrics.js';
import { startJobplane } from '../../src/server/start.js';
import { as, testApp } from '../helpers/api.js';
import { testDatabase } from '../helpers/db.js';
import { openSse, type SseEvent } from '../helpers/sse.js';
import { eventually } from '../helpers/wait.js';

const db = await testDatabase();

/** Deadlines short enough for a test, far enough apart to tell which one fired. */
const SHORT: Partial<AppDeps> = { headersTimeoutMs: 1000, requestTimeoutMs: 1500, idleTimeoutMs: 10_000, keepAliveTimeoutMs: 1000 };
/** However slow the machine, a deadline of a second or two has fired by then. */
const BOUND_MS = 10_000;

/** A listening app for the length of `body`: each holds a LISTEN connection, and the pool is small. */
async function listening<T>(overrides: Partial<AppDeps>, body: (server: { app: FastifyInstance; port: number; base: string }) => Promise<T>, host = '127.0.0.1'): Promise<T> {
  const app = await testApp(db, overrides);
  try {
    await app.listen({ port: 0, host });
    const port = (app.server.address() as AddressInfo).port;
    return await body({ app, port, base: `http://${host.includes(':') ? `[${host}]` : host}:${port}` });
  } finally {
    await closeApp(app);
  }
}

/** Close now; fetch may keep a spare connection the server would otherwise wait on. */
async function closeApp(app: FastifyInstance): Promise<void> {
  const closing = app.close();
  setTimeout(() => app.server.closeAllConnections(), 100).unref();
  await closing;
}

/** A raw client connection and everything the server sent on it. */
interface Raw {
  socket: Socket;
  received(): string;
  /** Everything received, once the connection is closed. */
  closed: Promise<string>;
}

async function connect(port: number, options: { host?: string; localAddress?: string } = {}): Promise<Raw> {
  const socket = connectTcp({ port, host: options.host ?? '127.0.0.1', ...(options.localAddress ? { localAddress: options.localAddress } : {}) });
  let data = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => void (data += chunk));
  // A reset after the server's answer is how some refusals end; what arrived before it counts.
  socket.on('error', () => undefined);
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(data)));
  await once(socket, 'connect');
  return { socket, received: () => data, closed };
}

/** Run `body` with raw connections that are destroyed however it ends. */
async function holding<T>(body: (open: (port: number, options?: { host?: string; localAddress?: string }) => Promise<Raw>) => Promise<T>): Promise<T> {
  const sockets: Socket[] = [];
  try {
    return await body(async (port, options) => {
      const raw = await connect(port, options);
      sockets.push(raw.socket);
      return raw;
    });
  } finally {
    for (const socket of sockets) socket.destroy();
  }
}

/** `promise`, or a rejection naming `what` after `ms`. */
async function within<T>(promise: Promise<T>, what: string, ms = BOUND_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still waiting after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The status line of the first answer on `raw` (or what arrived before it closed). */
async function statusLine(raw: Raw): Promise<string> {
  const line = (): string | null => {
    const text = raw.received();
    return text.includes('\r\n') ? text.slice(0, text.indexOf('\r\n')) : null;
  };
  return within(new Promise<string>((resolve) => {
    const check = (): void => {
      const found = line();
      if (found !== null) {
        raw.socket.off('data', check);
        resolve(found);
      }
    };
    raw.socket.on('data', check);
    void raw.closed.then((all) => resolve(line() ?? `closed after ${JSON.stringify(all)}`));
    check();
  }), 'an answer');
}

const HEALTHZ = 'GET /healthz HTTP/1.1\r\nHost: jobplane.test\r\n\r\n';

test('a request whose body never comes is answered 408 and closed after the request timeout', { timeout: 30_000 }, async () => {
  await listening(SHORT, ({ port }) => holding(async (open) => {
    const raw = await open(port);
    raw.socket.write('POST /api/v1/jobs HTTP/1.1\r\nHost: jobplane.test\r\nAuthorization: Bearer manager\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"task":');
    const all = await within(raw.closed, 'the stalled body to be cut');
    assert.match(all, /^HTTP\/1\.1 408 /);
  }));
});

test('a client that never finishes its headers, or sends nothing at all, is closed after the header timeout', { timeout: 30_000 }, async () => {
  await listening(SHORT, ({ port }) => holding(async (open) => {
    const partial = await open(port);
    partial.socket.write('GET /healthz HTTP/1.1\r\nHost: jobplane.test\r\nX-Slow: ');
    const silent = await open(port);
    assert.match(await within(partial.closed, 'the partial headers to be cut'), /^HTTP\/1\.1 408 /);
    await within(silent.closed, 'the silent connection to be cut');
  }));
});

test('a kept-alive connection waiting for its next request is closed after the keep-alive timeout', { timeout: 30_000 }, async () => {
  await listening(SHORT, ({ port }) => holding(async (open) => {
    const raw = await open(port);
    raw.socket.write(HEALTHZ);
    assert.equal(await statusLine(raw), 'HTTP/1.1 200 OK');
    await within(raw.closed, 'the idle keep-alive connection to be closed');
    assert.doesNotMatch(raw.received(), /408/, 'closed quietly: no request was pending');
  }));
});

/** Waits for the first live event of job `id`. */
const isJob = (id: string) => (e: SseEvent): boolean => e.event === 'job' && (e.data as { jobId: string }).jobId === id;

async function submit(app: FastifyInstance, queue: string): Promise<string> {
  const submitted = await app.inject({ method: 'POST', url: '/api/v1/jobs', headers: as('admin'), payload: { task: 'x', queue } });
  assert.equal(submitted.statusCode, 201, submitted.body);
  return submitted.json<{ id: string }>().id;
}

test('while slow clients are held, other requests are answered and an event stream outlives the request timeout', { timeout: 30_000 }, async () => {
  await listening(SHORT, async ({ app, port, base }) => {
    const stream = await openSse(`${base}/api/v1/events?queue=limits-live`, as('admin'));
    try {
      assert.equal(stream.status, 200);
      await holding(async (open) => {
        const slow: Raw[] = [];
        for (let i = 0; i < 10; i++) {
          const raw = await open(port);
          raw.socket.write(i % 2 === 0 ? 'GET /healthz HTTP/1.1\r\nHost: x\r\n' : 'POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer manager\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{');
          slow.push(raw);
        }
        const healthy = await fetch(`${base}/healthz`);
        assert.equal(healthy.status, 200, 'served while ten slow clients are held');
        await healthy.arrayBuffer();
        // Every slow client is cut once its deadline (1.5 s at most) has passed; the stream, opened
        // before them, is older than the request timeout by then.
        await within(Promise.all(slow.map((raw) => raw.closed)), 'the slow clients to be cut');
      });
      await stream.next(isJob(await submit(app, 'limits-live')));
    } finally {
      stream.close();
    }
  });
});

/** Long-polls parked in `metrics`' app right now. */
async function parkedClaims(metrics: Metrics): Promise<number> {
  const gauge = await metrics.registry.getSingleMetric('jobplane_remote_claims_waiting')?.get();
  return gauge?.values[0]?.value ?? 0;
}

/** A registered remote worker of the default tenant: its key and id. */
async function remoteWorker(app: FastifyInstance, base: string, task: string): Promise<{ key: string; workerId: string }> {
  const created = await app.inject({ method: 'POST', url: '/api/v1/keys', headers: as('admin'), payload: { name: `limits-${task}`, scopes: ['worker'] } });
  assert.equal(created.statusCode, 201, created.body);
  const key = created.json<{ key: string }>().key;
  const registered = await fetch(`${base}/api/v1/worker/register`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify({ name: task, tasks: [task], capacity: 1 }) });
  assert.equal(registered.status, 201);
  return { key, workerId: ((await registered.json()) as { workerId: string }).workerId };
}

test('a remote worker’s long-poll may wait longer than the request timeout', { timeout: 30_000 }, async () => {
  const metrics = createMetrics(db.pool);
  await listening({ ...SHORT, metrics }, async ({ app, port, base }) => {
    const { key, workerId } = await remoteWorker(app, base, 'limits-long-poll');
    const claim = fetch(`${base}/api/v1/worker/claim`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify({ workerId, max: 1, waitMs: 20_000 }) });
    await eventually(async () => (await parkedClaims(metrics)) === 1);
    await holding(async (open) => {
      // A stalled request started after the poll was parked: once it is cut, the poll has been
      // waiting longer than the request timeout.
      const stalled = await open(port);
      stalled.socket.write('POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer manager\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{');
      await within(stalled.closed, 'the stalled request to be cut');
    });
    const job = await addJob(db.pool, { task: 'limits-long-poll' }, { tenantId: DEFAULT_TENANT_ID });
    const answered = await within(claim, 'the long-poll to answer');
    assert.equal(answered.status, 200);
    assert.deepEqual(((await answered.json()) as { jobs: Array<{ id: string }> }).jobs.map((j) => j.id), [job.id]);
  });
});

test('a connection silent in both directions for the idle timeout is closed, even mid-request, while event streams keep theirs with pings', { timeout: 30_000 }, async () => {
  const metrics = createMetrics(db.pool);
  await listening({ headersTimeoutMs: 1000, requestTimeoutMs: 1000, idleTimeoutMs: 1000, keepAliveTimeoutMs: 1000, metrics }, async ({ app, port, base }) => {
    const { key, workerId } = await remoteWorker(app, base, 'limits-idle');
    const stream = await openSse(`${base}/api/v1/events?queue=limits-idle`, as('admin'));
    try {
      await holding(async (open) => {
        const raw = await open(port);
        const body = JSON.stringify({ workerId, max: 1, waitMs: 20_000 });
        raw.socket.write(`POST /api/v1/worker/claim HTTP/1.1\r\nHost: x\r\nx-api-key: ${key}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
        assert.equal(await within(raw.closed, 'the silent long-poll to be cut'), '', 'cut without an answer');
      });
      await stream.next(isJob(await submit(app, 'limits-idle')));
    } finally {
      stream.close();
    }
  });
});

test('one address holds at most the configured connections; the next is answered 503 TOO_MANY_CONNECTIONS and closed', { timeout: 30_000 }, async () => {
  await listening({ maxConnectionsPerAddress: 3 }, ({ port }) => holding(async (open) => {
    const connections: Raw[] = [];
    for (let i = 0; i < 5; i++) connections.push(await open(port));
    for (const raw of connections) raw.socket.write(HEALTHZ);
    const lines = await Promise.all(connections.map(statusLine));
    assert.deepEqual(lines, ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 503 Service Unavailable', 'HTTP/1.1 503 Service Unavailable']);
    const refused = await within(connections[3]!.closed, 'the refused connection to be closed');
    const [head = '', body = ''] = refused.split('\r\n\r\n');
    assert.match(head, /\r\ncontent-type: application\/problem\+json/i);
    assert.match(head, /\r\nconnection: close/i);
    const problem = JSON.parse(body) as { code: string; status: number };
    assert.deepEqual([problem.code, problem.status], ['TOO_MANY_CONNECTIONS', 503]);

    // Another client address is not affected (all of 127.0.0.0/8 is this machine).
    const neighbour = await open(port, { localAddress: '127.0.0.2' });
    neighbour.socket.write(HEALTHZ);
    assert.equal(await statusLine(neighbour), 'HTTP/1.1 200 OK');

    // A closed connection frees its place (once the server has seen it close).
    connections[0]!.socket.destroy();
    await eventually(async () => {
      const raw = await open(port);
      raw.socket.write(HEALTHZ);
      const line = await statusLine(raw);
      raw.socket.destroy();
      return line === 'HTTP/1.1 200 OK';
    });
  }));
});

test('trusted proxies are exempt from the connection cap, also when the listener reports IPv4-mapped addresses', { timeout: 30_000 }, async () => {
  const statuses = async (port: number, host: string, count: number): Promise<string[]> => holding(async (open) => {
    const connections: Raw[] = [];
    for (let i = 0; i < count; i++) connections.push(await open(port, { host }));
    for (const raw of connections) raw.socket.write(HEALTHZ);
    return Promise.all(connections.map(statusLine));
  });
  for (const host of ['127.0.0.1', '::ffff:127.0.0.1']) {
    const lines = await listening({ maxConnectionsPerAddress: 2, trustedProxies: ['127.0.0.1'] }, ({ port }) => statuses(port, host, 5), host);
    assert.deepEqual(lines, Array<string>(5).fill('HTTP/1.1 200 OK'), host);
  }
  // Without the exemption, the mapped address is counted as the one client it is.
  const lines = await listening({ maxConnectionsPerAddress: 2 }, ({ port }) => statuses(port, '::ffff:127.0.0.1', 3), '::ffff:127.0.0.1');
  assert.deepEqual(lines, ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 503 Service Unavailable']);
});

/** The client address the audit log recorded for a job submitted through `app` from this peer with these headers. */
async function auditedClientIp(app: FastifyInstance, remoteAddress: string, forwardedFor?: string): Promise<string | null> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/jobs',
    remoteAddress,
    headers: { ...as('admin'), ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
    payload: { task: 'x', queue: 'limits-proxy' },
  });
  assert.equal(res.statusCode, 201, res.body);
  const id = res.json<{ id: string }>().id;
  const audit = await app.inject({ url: `/api/v1/audit?targetId=${id}`, headers: as('admin') });
  return audit.json<{ entries: Array<{ clientIp: string | null }> }>().entries[0]?.clientIp ?? null;
}

test('X-Forwarded-For is ignored unless it comes from a trusted proxy, and then the nearest untrusted hop is the client', async () => {
  const direct = await testApp(db);
  try {
    assert.equal(await auditedClientIp(direct, '198.51.100.7', '203.0.113.9'), '198.51.100.7', 'no trusted proxies: the peer is the client');
  } finally {
    await closeApp(direct);
  }
  const proxied = await testApp(db, { trustedProxies: ['10.0.0.0/8', '192.0.2.1'] });
  try {
    assert.equal(await auditedClientIp(proxied, '10.1.2.3', '203.0.113.9'), '203.0.113.9');
    assert.equal(await auditedClientIp(proxied, '::ffff:10.1.2.3', '203.0.113.9'), '203.0.113.9', 'an IPv4-mapped peer matches its IPv4 network');
    assert.equal(await auditedClientIp(proxied, '10.1.2.3', '198.51.100.1, 192.0.2.1, 10.9.9.9'), '198.51.100.1', 'trusted hops are skipped');
    assert.equal(await auditedClientIp(proxied, '10.1.2.3', '203.0.113.66, 198.51.100.1'), '198.51.100.1', 'what an untrusted hop claims is not believed');
    assert.equal(await auditedClientIp(proxied, '198.51.100.7', '203.0.113.9'), '198.51.100.7', 'an untrusted peer cannot set its address');
  } finally {
    await closeApp(proxied);
  }
});

test('`jobplane start` gives the api its configured limits, and says once that /metrics is not served on its port', { timeout: 60_000 }, async () => {
  const lines: Array<{ level: string; fields: LogFields; message: string | undefined }> = [];
  const capture = (level: string) => (fields: LogFields, message?: string): void => void lines.push({ level, fields, message });
  const logger: Logger = { debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error'), child: () => logger };
  const config = loadConfig({
    DATABASE_URL: db.url,
    JOBPLANE_ROLES: 'api',
    PORT: '0',
    JOBPLANE_HOST: '127.0.0.1',
    JOBPLANE_ADMIN_PASSWORD: 'limits-admin-password',
    JOBPLANE_MAX_CONNECTIONS_PER_ADDRESS: '1',
    JOBPLANE_KEEP_ALIVE_TIMEOUT: '1s',
  });
  const running = await startJobplane(config, logger);
  try {
    const port = Number(new URL(running.url ?? '').port);
    await holding(async (open) => {
      const first = await open(port);
      const second = await open(port);
      first.socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.equal(await statusLine(first), 'HTTP/1.1 404 Not Found', 'no token, no /metrics on the api port');
      assert.equal(await statusLine(second), 'HTTP/1.1 503 Service Unavailable', 'JOBPLANE_MAX_CONNECTIONS_PER_ADDRESS=1');
      await within(first.closed, 'the kept-alive connection to close after JOBPLANE_KEEP_ALIVE_TIMEOUT');
    });
    const notices = lines.filter((l) => l.message?.startsWith('/metrics is not served'));
    assert.equal(notices.length, 1);
    assert.match(notices[0]!.message ?? '', /JOBPLANE_OPS_PORT.*JOBPLANE_METRICS_TOKEN/);
  } finally {
    await running.stop();
  }
});
