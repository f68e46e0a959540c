/**
 * SSRF battery (docs/decisions.md #20) against the `http` task with the private-address block
 * ON. Canary listeners on loopback must see zero connections. Nothing here ever dials anything
 * but 127.0.0.1 or ::1: "public" hosts are loopback servers admitted by an allow-list entry.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { classifyTaskError, isAppError, PermanentError } from '../../src/errors/index.js';
import { httpTask, resolveBuiltinTaskOptions, type HttpTaskOptions, type LookupFn } from '../../src/worker/tasks/index.js';
import { fakeJobContext } from '../helpers/fake-job-context.js';

function task(options: Partial<HttpTaskOptions>) {
  return httpTask(resolveBuiltinTaskOptions({ http: { allowPrivateNetworks: false, allowedHosts: [], ...options } }).http);
}

/** A fake DNS: names map to fixed answers; anything else fails (no real DNS in tests). */
function fakeDns(answers: Record<string, string[]>): LookupFn & { calls: string[] } {
  const calls: string[] = [];
  const lookup = (host: string) => {
    calls.push(host);
    const found = answers[host];
    if (found === undefined) return Promise.reject(Object.assign(new Error(`no fake DNS entry for ${host}`), { code: 'ENOTFOUND' }));
    return Promise.resolve(found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  };
  return Object.assign(lookup, { calls });
}

async function listenOn(t: TestContext, server: net.Server, host: string, port = 0): Promise<number> {
  server.listen(port, host);
  await once(server, 'listening');
  t.after(() => server.close());
  return (server.address() as AddressInfo).port;
}

/** Counts connections on 127.0.0.1:port (and [::1]:port when given `withV6`). */
async function canary(t: TestContext, host = '127.0.0.1', port = 0) {
  let connections = 0;
  const server = net.createServer((socket) => { connections += 1; socket.destroy(); });
  const bound = await listenOn(t, server, host, port);
  return { port: bound, connections: () => connections };
}

async function httpServer(t: TestContext, handler: http.RequestListener, host = '127.0.0.1', port = 0) {
  let hits = 0;
  const server = http.createServer((req, res) => { hits += 1; handler(req, res); });
  t.after(() => server.closeAllConnections());
  const bound = await listenOn(t, server, host, port);
  return { port: bound, hits: () => hits };
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

test('every private or metadata target is refused permanently and the loopback canaries see no connection', async (t) => {
  const v4 = await canary(t);
  const v6 = await canary(t, '::1', v4.port);
  const c = v4.port;
  const dns = fakeDns({
    '7f000001.nip.io': ['127.0.0.1'],
    'mixed.test': ['93.184.216.34', '127.0.0.1'],
    'private.test': ['10.0.0.5'],
    'mapped.test': ['::ffff:127.0.0.1'],
    'v6-local.test': ['::1'],
    'metadata.test': ['169.254.169.254'],
  });
  const targets = [
    `http://127.0.0.1:${c}/`, `http://localhost:${c}/`, `http://[::1]:${c}/`, `http://0.0.0.0:${c}/`, `http://[::]:${c}/`,
    'http://169.254.169.254/latest/meta-data', `http://2130706433:${c}/`, `http://0x7f.1:${c}/`, `http://0177.0.0.1:${c}/`,
    `http://127.1:${c}/`, `http://7f000001.nip.io:${c}/`, `http://[::ffff:127.0.0.1]:${c}/`, 'http://[fd00::1]/', 'http://10.0.0.1/',
    'http://100.64.0.1/', `http://user@127.0.0.1:${c}/`, 'http://127.0.0.1:22/', 'http://127.0.0.1:5432/', 'http://127.0.0.1:6379/',
    'file:///etc/passwd', `gopher://127.0.0.1:${c}/_INFO`, `ftp://127.0.0.1:${c}/`, 'data:text/plain,hello',
    `http://mixed.test:${c}/`, `http://private.test:${c}/`, `http://mapped.test:${c}/`, `http://v6-local.test:${c}/`,
    'http://metadata.test/latest/meta-data', `http://LOCALHOST.:${c}/`, `http://foo.localhost:${c}/`,
  ];
  const handler = task({ lookup: dns });
  let blocked = 0;
  for (const url of targets) {
    const error = await rejection(handler({ url }, fakeJobContext().ctx));
    assert.equal(classifyTaskError(error).kind, 'permanent', `${url}: ${error.message}`);
    blocked += 1;
  }
  assert.equal(blocked, targets.length);
  assert.equal(v4.connections() + v6.connections(), 0);
});

test('a refusal names the address and the range it falls in', async () => {
  const dns = fakeDns({ 'inward.test': ['93.184.216.34', '127.0.0.1'] });
  const error = await rejection(task({ lookup: dns })({ url: 'http://inward.test/' }, fakeJobContext().ctx));
  assert.ok(error instanceof PermanentError);
  assert.match(error.message, /inward\.test.*127\.0\.0\.1.*127\.0\.0\.0\/8 \(loopback\)/);
  assert.ok(isAppError(error.cause, 'URL_NOT_ALLOWED'));
});

test('a redirect from an allowed host to a blocked loopback target is refused at every hop', async (t) => {
  const probe = await canary(t);
  const dns = fakeDns({ 'public.test': ['127.0.0.1'], 'inward.test': ['127.0.0.1'] });
  const locations = [
    `http://127.0.0.1:${probe.port}/`, `http://[::1]:${probe.port}/`, `http://localhost:${probe.port}/`,
    `http://inward.test:${probe.port}/`, `http://2130706433:${probe.port}/`, 'file:///etc/passwd', `http://user@public.test:${probe.port}/`,
  ];
  let next = 0;
  // Stands in for a public host: reached only because the allow-list names "public.test".
  const origin = await httpServer(t, (_req, res) => res.writeHead(302, { location: locations[next] }).end());
  const handler = task({ lookup: dns, allowedHosts: ['public.test'] });
  for (; next < locations.length; next += 1) {
    const error = await rejection(handler({ url: `http://public.test:${origin.port}/start` }, fakeJobContext().ctx));
    assert.ok(error instanceof PermanentError, `${locations[next] ?? ''}: ${error.message}`);
    assert.match(error.message, /redirect|refusing/);
  }
  assert.equal(origin.hits(), locations.length);
  assert.equal(probe.connections(), 0);
});

test('DNS rebinding cannot win: the connection uses the address that was checked, and a re-resolution to a blocked address is refused', async (t) => {
  // The server on [::1]:P plays the public site (admitted by ::1/128); the canary on 127.0.0.1:P is what a rebinding would reach.
  let server: Awaited<ReturnType<typeof httpServer>>;
  try {
    server = await httpServer(t, (req, res) => {
      if (req.url === '/hop') res.writeHead(302, { location: '/after-redirect' }).end();
      else res.end('from the checked address');
    }, '::1');
  } catch {
    t.skip('IPv6 loopback is not available');
    return;
  }
  const probe = await canary(t, '127.0.0.1', server.port);
  let calls = 0;
  const rebinding: LookupFn = () => {
    calls += 1;
    return Promise.resolve([calls % 2 === 1 ? { address: '::1', family: 6 } : { address: '127.0.0.1', family: 4 }]);
  };
  const handler = task({ lookup: rebinding, allowedHosts: ['::1/128'] });
  const url = `http://rebind.test:${server.port}/`;
  const result = await handler({ url }, fakeJobContext().ctx);
  assert.equal(result.body, 'from the checked address');
  assert.equal(calls, 1, 'the socket never resolved the name again');
  const second = await rejection(handler({ url }, fakeJobContext().ctx));
  assert.ok(second instanceof PermanentError);
  assert.match(second.message, /127\.0\.0\.1/);
  const hop = await rejection(handler({ url: `http://rebind.test:${server.port}/hop` }, fakeJobContext().ctx));
  assert.ok(hop instanceof PermanentError, 'the redirect hop was resolved and checked again');
  assert.equal(server.hits(), 2);
  assert.equal(probe.connections(), 0);
});

test('allowPrivateNetworks lets a job reach loopback', async (t) => {
  const server = await httpServer(t, (_req, res) => res.end('inside'));
  const result = await task({ allowPrivateNetworks: true })({ url: `http://127.0.0.1:${server.port}/` }, fakeJobContext().ctx);
  assert.equal(result.body, 'inside');
});
