import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { classifyTaskError, isAppError, PermanentError, RetryAfterError } from '../../src/errors/index.js';
import { pinnedLookup } from '../../src/worker/tasks/http-target.js';
import { httpTask, resolveBuiltinTaskOptions, type HttpTaskOptions, type LookupFn } from '../../src/worker/tasks/index.js';
import { fakeJobContext } from '../helpers/fake-job-context.js';

/** Fails the test if anything tries real DNS. */
const noDns: LookupFn = (host) => Promise.reject(new Error(`unexpected DNS lookup of ${host}`));

function task(http: Partial<HttpTaskOptions>) {
  return httpTask(resolveBuiltinTaskOptions({ http: { lookup: noDns, allowedHosts: ['127.0.0.1/32'], ...http } }).http);
}

interface TestServer {
  port: number;
  url: (path?: string) => string;
  requests: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[];
}

/** A local HTTP server on 127.0.0.1 (or ::1), closed when the test ends. */
async function serve(t: TestContext, handler: http.RequestListener, host = '127.0.0.1', port = 0): Promise<TestServer> {
  const requests: TestServer['requests'] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => { body += chunk; });
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res);
    });
  });
  server.listen(port, host);
  await once(server, 'listening');
  t.after(() => { server.closeAllConnections(); server.close(); });
  const actual = (server.address() as AddressInfo).port;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return { port: actual, url: (path = '/') => `http://${hostPart}:${actual}${path}`, requests };
}

/** A listener that must never be connected to; `connections` counts attempts. */
async function canary(t: TestContext, host = '127.0.0.1', port = 0): Promise<{ port: number; connections: () => number }> {
  const { createServer } = await import('node:net');
  let connections = 0;
  const server = createServer((socket) => { connections += 1; socket.destroy(); });
  server.listen(port, host);
  await once(server, 'listening');
  t.after(() => server.close());
  return { port: (server.address() as AddressInfo).port, connections: () => connections };
}

async function rejection(promise: unknown): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Error);
    return error;
  }
  assert.fail('expected the handler to reject');
}

test('a GET through the allow-list returns status, the kept headers, the body and timing', async (t) => {
  const server = await serve(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5', etag: '"v1"', 'x-internal-secret': 'no' }).end('hello');
  });
  const { ctx } = fakeJobContext();
  const result = await task({ userAgent: 'test-agent/1' })({ url: server.url('/path?q=1') }, ctx);
  assert.equal(result.status, 200);
  assert.equal(result.body, 'hello');
  assert.equal(result.truncated, false);
  assert.equal(result.url, server.url('/path?q=1'));
  assert.equal(result.redirects, 0);
  assert.deepEqual(Object.keys(result.headers).sort(), ['content-length', 'content-type', 'date', 'etag']);
  assert.ok(result.durationMs >= 0);
  assert.equal(server.requests[0]?.headers['user-agent'], 'test-agent/1');
  assert.equal(server.requests[0]?.url, '/path?q=1');
});

test('JSON bodies go out as application/json and strings as text', async (t) => {
  const server = await serve(t, (_req, res) => res.end('ok'));
  const { ctx } = fakeJobContext();
  await task({})({ url: server.url(), method: 'post', body: { a: [1, 'two'] } }, ctx);
  await task({})({ url: server.url(), method: 'PUT', body: 'plain', headers: { 'Content-Type': 'text/csv' } }, ctx);
  assert.equal(server.requests[0]?.method, 'POST');
  assert.equal(server.requests[0]?.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(server.requests[0]?.body ?? ''), { a: [1, 'two'] });
  assert.equal(server.requests[1]?.headers['content-type'], 'text/csv');
  assert.equal(server.requests[1]?.body, 'plain');
});

test('the connection goes to the checked address while Host still names the original host', async (t) => {
  const server = await serve(t, (_req, res) => res.end('virtual host'));
  const asked: string[] = [];
  const lookup: LookupFn = (host) => { asked.push(host); return Promise.resolve([{ address: '127.0.0.1', family: 4 }]); };
  const { ctx } = fakeJobContext();
  const result = await task({ allowedHosts: ['public.test'], lookup })({ url: `http://public.test:${server.port}/` }, ctx);
  assert.equal(result.body, 'virtual host');
  assert.equal(server.requests[0]?.headers.host, `public.test:${server.port}`);
  assert.deepEqual(asked, ['public.test']);
});

test('redirects are followed, 303 turns a POST into a body-less GET, and the final url is reported', async (t) => {
  const server = await serve(t, (req, res) => {
    if (req.url === '/start') res.writeHead(303, { location: '/final' }).end();
    else res.end(`${req.method ?? ''} done`);
  });
  const { ctx } = fakeJobContext();
  const result = await task({})({ url: server.url('/start'), method: 'POST', body: { x: 1 } }, ctx);
  assert.equal(result.body, 'GET done');
  assert.equal(result.redirects, 1);
  assert.equal(result.url, server.url('/final'));
  assert.equal(server.requests[1]?.body, '');
  assert.equal(server.requests[1]?.headers['content-type'], undefined);
});

test('a 307 keeps method and body, and credentials are dropped when the redirect changes origin', async (t) => {
  const other = await serve(t, (_req, res) => res.end('other'));
  const first = await serve(t, (_req, res) => res.writeHead(307, { location: other.url('/in') }).end());
  const { ctx } = fakeJobContext();
  await task({})({ url: first.url(), method: 'PUT', body: 'data', headers: { Authorization: 'Bearer secret', Cookie: 'a=b', 'X-Keep': '1' } }, ctx);
  assert.equal(first.requests[0]?.headers.authorization, 'Bearer secret');
  const second = other.requests[0];
  assert.equal(second?.method, 'PUT');
  assert.equal(second?.body, 'data');
  assert.equal(second?.headers.authorization, undefined);
  assert.equal(second?.headers.cookie, undefined);
  assert.equal(second?.headers['x-keep'], '1');
});

test('more redirects than maxRedirects fail the job permanently', async (t) => {
  const server = await serve(t, (req, res) => res.writeHead(302, { location: `${req.url ?? ''}x` }).end());
  const { ctx } = fakeJobContext();
  const error = await rejection(task({ maxRedirects: 3 })({ url: server.url('/') }, ctx));
  assert.ok(error instanceof PermanentError);
  assert.match(error.message, /more than 3 redirects/);
  assert.equal(server.requests.length, 4);
});

test('a redirect status listed in expectStatus is returned instead of followed', async (t) => {
  const server = await serve(t, (_req, res) => res.writeHead(302, { location: '/elsewhere' }).end());
  const { ctx } = fakeJobContext();
  const result = await task({})({ url: server.url(), expectStatus: [302] }, ctx);
  assert.equal(result.status, 302);
  assert.equal(result.headers.location, '/elsewhere');
  assert.equal(server.requests.length, 1);
});

test('the body is cut at maxResponseBytes and marked truncated; a body of exactly the cap is not', async (t) => {
  const server = await serve(t, (req, res) => res.end(req.url === '/big' ? 'x'.repeat(1_000_000) : 'y'.repeat(1000)));
  const { ctx } = fakeJobContext();
  const big = await task({ maxResponseBytes: 1000 })({ url: server.url('/big') }, ctx);
  assert.equal(big.body.length, 1000);
  assert.equal(big.truncated, true);
  const exact = await task({ maxResponseBytes: 1000 })({ url: server.url('/exact') }, ctx);
  assert.equal(exact.body.length, 1000);
  assert.equal(exact.truncated, false);
});

test('429 and 503 with Retry-After become RetryAfterError, capped at one hour', async (t) => {
  const server = await serve(t, (req, res) => {
    if (req.url === '/seconds') res.writeHead(503, { 'retry-after': '7' }).end();
    else if (req.url === '/date') res.writeHead(429, { 'retry-after': new Date(Date.now() + 120_000).toUTCString() }).end();
    else res.writeHead(429, { 'retry-after': '999999' }).end();
  });
  const { ctx } = fakeJobContext();
  const seconds = await rejection(task({})({ url: server.url('/seconds') }, ctx));
  assert.ok(seconds instanceof RetryAfterError);
  assert.equal(seconds.delayMs, 7000);
  const date = await rejection(task({})({ url: server.url('/date') }, ctx));
  assert.ok(date instanceof RetryAfterError);
  assert.ok(date.delayMs > 100_000 && date.delayMs <= 120_000, String(date.delayMs));
  const capped = await rejection(task({})({ url: server.url('/huge') }, ctx));
  assert.ok(capped instanceof RetryAfterError);
  assert.equal(capped.delayMs, 3_600_000);
});

test('4xx fails permanently, 5xx and 429 without Retry-After are retried, expectStatus makes a status a success', async (t) => {
  const server = await serve(t, (req, res) => res.writeHead(Number(req.url?.slice(1))).end(`status body ${'z'.repeat(5000)}`));
  const { ctx } = fakeJobContext();
  const kind = async (status: number) => classifyTaskError(await rejection(task({})({ url: server.url(`/${status}`) }, ctx))).kind;
  assert.equal(await kind(404), 'permanent');
  assert.equal(await kind(400), 'permanent');
  assert.equal(await kind(500), 'error');
  assert.equal(await kind(502), 'error');
  assert.equal(await kind(429), 'error');
  assert.equal(await kind(503), 'error');
  const error = await rejection(task({})({ url: server.url('/404') }, ctx));
  assert.ok(error.message.length < 400, 'the error quotes only a short piece of the body');
  const accepted = await task({})({ url: server.url('/404'), expectStatus: [404] }, ctx);
  assert.equal(accepted.status, 404);
});

test('a refused connection is an ordinary, retryable error', async (t) => {
  const probe = await canary(t);
  const { createServer } = await import('node:net');
  const closed = createServer().listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const port = (closed.address() as AddressInfo).port;
  closed.close();
  await once(closed, 'close');
  const { ctx } = fakeJobContext();
  const error = await rejection(task({})({ url: `http://127.0.0.1:${port}/` }, ctx));
  assert.equal(classifyTaskError(error).kind, 'error');
  assert.equal(probe.connections(), 0);
});

test('aborting the job cancels the request in flight and rejects with the abort reason', async (t) => {
  let arrived!: () => void;
  const requestArrived = new Promise<void>((resolve) => { arrived = resolve; });
  let socketClosed: Promise<unknown> = Promise.resolve();
  const server = await serve(t, (req) => { socketClosed = once(req.socket, 'close'); arrived(); });
  const fake = fakeJobContext();
  const running = rejection(task({})({ url: server.url('/hang') }, fake.ctx));
  await requestArrived;
  const reason = fake.abort('cancelled');
  assert.equal(await running, reason);
  await socketClosed;
});

test('a request slower than timeoutMs fails with a retryable timeout error', async (t) => {
  const server = await serve(t, () => undefined);
  const { ctx } = fakeJobContext();
  const error = await rejection(task({})({ url: server.url('/slow'), timeoutMs: 100 }, ctx));
  assert.equal(classifyTaskError(error).kind, 'error');
  assert.match(error.message, /timed out after 100 ms/);
});

test('HTTP_PROXY and HTTPS_PROXY in the environment are ignored', async (t) => {
  const proxy = await canary(t);
  const server = await serve(t, (_req, res) => res.end('direct'));
  const saved = { http: process.env.HTTP_PROXY, https: process.env.HTTPS_PROXY };
  process.env.HTTP_PROXY = `http://127.0.0.1:${proxy.port}`;
  process.env.HTTPS_PROXY = `http://127.0.0.1:${proxy.port}`;
  t.after(() => {
    if (saved.http === undefined) delete process.env.HTTP_PROXY; else process.env.HTTP_PROXY = saved.http;
    if (saved.https === undefined) delete process.env.HTTPS_PROXY; else process.env.HTTPS_PROXY = saved.https;
  });
  const { ctx } = fakeJobContext();
  const result = await task({})({ url: server.url() }, ctx);
  assert.equal(result.body, 'direct');
  assert.equal(proxy.connections(), 0);
});

test('a CRLF in a header value fails the job permanently without connecting', async (t) => {
  const server = await serve(t, (_req, res) => res.end());
  const { ctx } = fakeJobContext();
  for (const value of ['a\r\nX-Injected: 1', 'a\nb', 'a\0b']) {
    const error = await rejection(task({})({ url: server.url(), headers: { 'X-Test': value } }, ctx));
    assert.ok(error instanceof PermanentError);
    assert.ok(isAppError(error.cause, 'VALIDATION_FAILED'));
  }
  assert.equal(server.requests.length, 0);
});

test('the pinned lookup answers only with checked addresses, in both callback shapes Node uses', async () => {
  const lookup = pinnedLookup([{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }]);
  const call = (options: { all?: boolean; family?: number }) =>
    new Promise<unknown[]>((resolve) => lookup('anything.test', options, (...args: unknown[]) => resolve(args)));
  assert.deepEqual(await call({}), [null, '127.0.0.1', 4]);
  assert.deepEqual(await call({ family: 6 }), [null, '::1', 6]);
  assert.deepEqual(await call({ all: true }), [null, [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }]]);
  assert.deepEqual(await call({ all: true, family: 4 }), [null, [{ address: '127.0.0.1', family: 4 }]]);
  const v4only = pinnedLookup([{ address: '127.0.0.1', family: 4 }]);
  const [error] = await new Promise<unknown[]>((resolve) => v4only('x', { family: 6 }, (...args: unknown[]) => resolve(args)));
  assert.equal((error as NodeJS.ErrnoException).code, 'ENOTFOUND');
});
