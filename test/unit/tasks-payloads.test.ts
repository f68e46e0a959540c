import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateBuiltinPayload } from '../../src/core/builtin-payloads.js';

const pointers = (task: string, payload: unknown, policy = {}): string[] =>
  validateBuiltinPayload(task, payload, policy).map((error) => error.pointer);

test('a well-formed http payload has no errors', () => {
  assert.deepEqual(validateBuiltinPayload('http', {
    url: 'https://example.com/hook?x=1', method: 'post', headers: { Authorization: 'Bearer x', 'X-Tab': 'a\tb' },
    body: { hello: ['world', 1, null] }, timeoutMs: 5000, expectStatus: [404],
  }), []);
});

test('unknown task names and noop accept anything', () => {
  assert.deepEqual(validateBuiltinPayload('send-email', 42), []);
  assert.deepEqual(validateBuiltinPayload('noop', undefined), []);
});

test('payloads that are not objects are refused at the root', () => {
  for (const payload of [null, 'x', [], 3]) assert.deepEqual(pointers('http', payload), ['']);
});

test('http URLs with other schemes, credentials, spaces or control characters are refused', () => {
  for (const url of ['file:///etc/passwd', 'gopher://example.com/', 'ftp://example.com/', 'data:text/plain,hi', 'javascript:alert(1)',
    'http://user@example.com/', 'http://user:pw@example.com/', 'http://exa mple.com/', 'http://example.com/\r\nX-Injected: 1',
    'http://example.com/\0', 'http://example.com:0/', '/relative', '', 'http://', `http://example.com/${'a'.repeat(70_000)}`]) {
    assert.deepEqual(pointers('http', { url }), ['/url'], url);
  }
});

test('http URLs with literal private addresses in any spelling are refused early', () => {
  for (const url of ['http://127.0.0.1/', 'http://2130706433/', 'http://0x7f.1/', 'http://0177.0.0.1/', 'http://[::ffff:127.0.0.1]/',
    'http://[::1]/', 'http://[fd00::1]/', 'http://0.0.0.0/', 'http://[::]/', 'http://169.254.169.254/latest/meta-data', 'http://10.0.0.1/',
    'http://100.64.0.1/', 'http://127.0.0.1:5432/', 'http://localhost:6379/', 'http://metadata.google.internal/']) {
    const errors = validateBuiltinPayload('http', { url });
    assert.equal(errors.length, 1, url);
    assert.equal(errors[0]?.pointer, '/url');
  }
  assert.match(validateBuiltinPayload('http', { url: 'http://2130706433/' })[0]?.message ?? '', /127\.0\.0\.1.*loopback/);
});

test('the allow-list and allowPrivateNetworks let private targets through', () => {
  assert.deepEqual(pointers('http', { url: 'http://127.0.0.1:8080/' }, { allowedHosts: ['127.0.0.1/32'] }), []);
  assert.deepEqual(pointers('http', { url: 'http://localhost/' }, { allowedHosts: ['localhost'] }), []);
  assert.deepEqual(pointers('http', { url: 'http://10.1.2.3/' }, { allowPrivateNetworks: true }), []);
  assert.deepEqual(pointers('http', { url: 'http://127.0.0.2/' }, { allowedHosts: ['127.0.0.1/32'] }), ['/url']);
});

test('public names and addresses, IDN hosts included, pass the early check', () => {
  for (const url of ['http://93.184.216.34/', 'https://[2606:4700:4700::1111]/', 'https://bücher.example/', 'http://7f000001.nip.io/']) {
    assert.deepEqual(pointers('http', { url }), [], url);
  }
});

test('header names, values and forbidden headers are checked one by one', () => {
  const errors = validateBuiltinPayload('http', {
    url: 'https://example.com/',
    headers: { 'X-Ok': 'fine', 'X-Crlf': 'a\r\nX-Injected: 1', 'X-Lf': 'a\nb', 'X-Nul': 'a\0b', 'Bad Name': 'x', Host: 'evil', 'Content-Length': '1', 'X-Num': 5, 'X-Uni': 'é€' },
  });
  assert.deepEqual(errors.map((error) => error.pointer).sort(), [
    '/headers/Bad Name', '/headers/Content-Length', '/headers/Host', '/headers/X-Crlf', '/headers/X-Lf', '/headers/X-Nul', '/headers/X-Num', '/headers/X-Uni',
  ]);
  assert.deepEqual(pointers('http', { url: 'https://example.com/', headers: { 'a/b~': 'x' } }), ['/headers/a~1b~0']);
});

test('http methods, bodies, timeouts and expected statuses are bounded', () => {
  assert.deepEqual(pointers('http', { url: 'https://example.com/', method: 'TRACE' }), ['/method']);
  assert.deepEqual(pointers('http', { url: 'https://example.com/', body: 'x' }), ['/body']);
  assert.deepEqual(pointers('http', { url: 'https://example.com/', method: 'HEAD', body: 'x' }), ['/body']);
  assert.deepEqual(pointers('http', { url: 'https://example.com/', timeoutMs: 0 }), ['/timeoutMs']);
  assert.deepEqual(pointers('http', { url: 'https://example.com/', timeoutMs: 1.5 }), ['/timeoutMs']);
  assert.deepEqual(pointers('http', { url: 'https://example.com/', expectStatus: [200, 99, 'x'] }), ['/expectStatus/1', '/expectStatus/2']);
  assert.deepEqual(pointers('http', { url: 'https://example.com/', urll: 'typo' }), ['/urll']);
});

test('shell payloads need an argv array whose program is a bare name or a normalised absolute path', () => {
  assert.deepEqual(pointers('shell', { command: ['/bin/echo', '; id', '$(id)', '`id`', 'a\nb'] }), []);
  assert.deepEqual(pointers('shell', { command: 'echo hi' }), ['/command']);
  assert.deepEqual(pointers('shell', { command: [] }), ['/command']);
  assert.deepEqual(pointers('shell', { command: ['./run.sh'] }), ['/command/0']);
  assert.deepEqual(pointers('shell', { command: ['/usr/bin/../bin/sh'] }), ['/command/0']);
  assert.deepEqual(pointers('shell', { command: ['echo', 'a\0b'] }), ['/command/1']);
  assert.deepEqual(pointers('shell', { command: ['echo', 3] }), ['/command/1']);
});

test('shell env names are validated and loader variables are refused', () => {
  assert.deepEqual(pointers('shell', { command: ['env'], env: { FOO: 'bar', PATH: '/opt/bin' } }), []);
  assert.deepEqual(pointers('shell', { command: ['env'], env: { LD_PRELOAD: '/tmp/x.so', 'BAD-NAME': 'x', NODE_OPTIONS: '-r x', OK: 1 } }).sort(),
    ['/env/BAD-NAME', '/env/LD_PRELOAD', '/env/NODE_OPTIONS', '/env/OK']);
  assert.deepEqual(pointers('shell', { command: ['env'], cwd: 'relative', timeoutMs: -1, stdin: 5 }), ['/cwd', '/timeoutMs', '/stdin']);
});

test('fibonacci and sleep bounds are enforced', () => {
  assert.deepEqual(pointers('fibonacci', { n: 0 }), []);
  assert.deepEqual(pointers('fibonacci', { n: 100_000 }), []);
  assert.deepEqual(pointers('fibonacci', { n: 100_001 }), ['/n']);
  assert.deepEqual(pointers('fibonacci', { n: 50 }, { fibonacciMaxN: 10 }), ['/n']);
  assert.deepEqual(pointers('fibonacci', { n: '5' }), ['/n']);
  assert.deepEqual(pointers('sleep', { ms: 86_400_000 }), []);
  assert.deepEqual(pointers('sleep', { ms: 86_400_001 }), ['/ms']);
  assert.deepEqual(pointers('sleep', {}), ['/ms']);
});
