import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { clientAddressKey, timeoutServerOptions, trustProxyOption } from '../../src/api/plugins/http-limits.js';
import { isAppError } from '../../src/errors/index.js';

test('connections are counted under one key per client, whether it arrives as IPv4 or IPv4-mapped IPv6', () => {
  assert.equal(clientAddressKey('::ffff:127.0.0.1'), '127.0.0.1');
  assert.equal(clientAddressKey('::FFFF:7f00:1'), '127.0.0.1');
  assert.equal(clientAddressKey('127.0.0.1'), '127.0.0.1');
  assert.equal(clientAddressKey('0:0:0:0:0:0:0:1'), '::1');
  assert.equal(clientAddressKey('2001:DB8::1'), '2001:db8::1');
  assert.equal(clientAddressKey('not an address'), 'not an address');
});

test('without trusted proxies X-Forwarded-For is not trusted; with them, each is passed to Fastify in canonical form', () => {
  assert.equal(trustProxyOption([]), false);
  assert.deepEqual(trustProxyOption(['10.0.0.0/8', '192.0.2.1', '::1', ' fd00::/8 ']), ['10.0.0.0/8', '192.0.2.1/32', '::1/128', 'fd00::/8']);
  assert.throws(() => trustProxyOption(['10.0.0.0/33']), (error: unknown) => isAppError(error, 'CONFIG_INVALID'));
});

test('the timeouts reach the Node server, whose deadline checks run often enough to fire within a second', () => {
  const options = timeoutServerOptions({ headersMs: 10_000, requestMs: 30_000, idleMs: 75_000, keepAliveMs: 5000 });
  assert.deepEqual(
    [options.connectionTimeout, options.keepAliveTimeout, options.requestTimeout],
    [75_000, 5000, 30_000],
  );
  assert.deepEqual(options.http, { headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 1000 });
  const short = timeoutServerOptions({ headersMs: 1000, requestMs: 1500, idleMs: 5000, keepAliveMs: 1000 });
  assert.equal(short.http.connectionsCheckingInterval, 250);
});

test('a header timeout longer than the request timeout is capped, since Node refuses it', () => {
  const options = timeoutServerOptions({ headersMs: 60_000, requestMs: 20_000, idleMs: 75_000, keepAliveMs: 5000 });
  assert.equal(options.http.headersTimeout, 20_000);
  const server = createServer(options.http);
  assert.equal(server.headersTimeout, 20_000);
  assert.equal(server.requestTimeout, 20_000);
});
