/**
 * What Node's HTTP server answers itself, before a route runs (headers too large, a deadline
 * passed, bytes that are not HTTP), is RFC 9457 problem JSON with a stable code like every other
 * error. Raw TCP sockets play the misbehaving clients.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../src/api/build-app.js';
import { testApp } from '../helpers/api.js';
import { testDatabase } from '../helpers/db.js';

const db = await testDatabase();

async function listening<T>(overrides: Partial<AppDeps>, body: (port: number) => Promise<T>): Promise<T> {
  const app: FastifyInstance = await testApp(db, overrides);
  try {
    await app.listen({ port: 0, host: '127.0.0.1' });
    return await body((app.server.address() as AddressInfo).port);
  } finally {
    const closing = app.close();
    setTimeout(() => app.server.closeAllConnections(), 100).unref();
    await closing;
  }
}

/** Send `request` on a fresh connection and return everything the server sent until it closed. */
async function exchange(port: number, request: string | Buffer, timeoutMs = 15_000): Promise<string> {
  const socket = connect({ port, host: '127.0.0.1' });
  let data = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => void (data += chunk));
  // A reset after the answer is how a refused request may end; what arrived before it counts.
  socket.on('error', () => undefined);
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(data)));
  await once(socket, 'connect');
  socket.write(request);
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  try {
    return await closed;
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
}

/** Status, headers (lower-case names) and parsed body of a raw HTTP/1.1 answer. */
function parse(raw: string): { status: number; headers: Record<string, string>; body: Record<string, unknown> } {
  const split = raw.indexOf('\r\n\r\n');
  assert.ok(split > 0, `not an HTTP answer: ${JSON.stringify(raw.slice(0, 200))}`);
  const [statusLine = '', ...lines] = raw.slice(0, split).split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(raw.slice(split + 4)) as Record<string, unknown> };
}

function assertProblem(raw: string, status: number, code: string): void {
  const answer = parse(raw);
  assert.equal(answer.status, status, raw.slice(0, 300));
  assert.match(answer.headers['content-type'] ?? '', /^application\/problem\+json/);
  assert.equal(answer.body.code, code);
  assert.equal(answer.body.status, status);
  assert.equal(typeof answer.body.title, 'string');
  assert.equal(typeof answer.body.detail, 'string');
  assert.equal(typeof answer.body.type, 'string');
}

test('a request with 70 kB of headers is answered 431 as problem JSON with code HEADERS_TOO_LARGE', { timeout: 30_000 }, async () => {
  await listening({}, async (port) => {
    const raw = await exchange(port, `GET /healthz HTTP/1.1\r\nHost: jobplane.test\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`);
    assertProblem(raw, 431, 'HEADERS_TOO_LARGE');
  });
});

test('a request through fetch with a 70 kB header gets the same 431 problem', { timeout: 30_000 }, async () => {
  await listening({}, async (port) => {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/jobs`, { headers: { 'x-big': 'a'.repeat(70_000) } });
    assert.equal(res.status, 431);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(((await res.json()) as { code: string }).code, 'HEADERS_TOO_LARGE');
  });
});

test('bytes that are not HTTP are answered 400 as problem JSON with code MALFORMED_REQUEST', { timeout: 30_000 }, async () => {
  await listening({}, async (port) => {
    assertProblem(await exchange(port, 'THIS IS NOT HTTP\r\n\r\n'), 400, 'MALFORMED_REQUEST');
    assertProblem(await exchange(port, 'GET /healthz HTTP/1.1\r\nHost: jobplane.test\r\nBad Header Name: x\r\n\r\n'), 400, 'MALFORMED_REQUEST');
  });
});

test('a request whose body or headers never finish is answered 408 as problem JSON with code REQUEST_TIMEOUT', { timeout: 30_000 }, async () => {
  await listening({ headersTimeoutMs: 1000, requestTimeoutMs: 1500, idleTimeoutMs: 10_000, keepAliveTimeoutMs: 1000 }, async (port) => {
    const stalledBody = 'POST /api/v1/jobs HTTP/1.1\r\nHost: jobplane.test\r\nAuthorization: Bearer manager\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"task":';
    const stalledHeaders = 'GET /healthz HTTP/1.1\r\nHost: jobplane.test\r\nX-Slow: ';
    const [body, headers] = await Promise.all([exchange(port, stalledBody), exchange(port, stalledHeaders)]);
    assertProblem(body, 408, 'REQUEST_TIMEOUT');
    assertProblem(headers, 408, 'REQUEST_TIMEOUT');
  });
});
