/**
 * The bad-input battery (docs/decisions.md #22), generated from the OpenAPI inventory so a new
 * route is covered the moment it exists: malformed, hostile and oversized bodies on every write
 * operation, hostile path ids and queue names, hostile query strings, out-of-range numbers and
 * unstorable text, cron and time zone nonsense, and abusive credentials. The rule: no input gives
 * a 5xx, a hang or an answer that is not RFC 9457 problem JSON with a stable `code`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { performance } from 'node:perf_hooks';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Permission, Principal } from '../../src/core/access.js';
import { DEFAULT_TENANT_ID } from '../../src/core/tenants.js';
import { testDatabase } from '../helpers/db.js';
import { as, testApp, TOKENS } from '../helpers/api.js';

const db = await testDatabase();
const app = await testApp(db);
await app.ready();

// Worker routes are refused to users before the body is read: a worker-scoped key gets the input to validation.
const workerKey: Principal = { kind: 'key', id: '00000000-0000-7000-8000-0000000000c9', tenantId: DEFAULT_TENANT_ID, prefix: 'jp_test', scopes: ['worker'] };
Object.assign(TOKENS, { 'bad-input-worker': workerKey });

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
type Operation = {
  'x-permission'?: Permission;
  parameters?: Array<{ in: string; name: string }>;
  requestBody?: unknown;
  responses?: Record<string, { content?: Record<string, unknown> }>;
};
const doc = app.swagger() as { paths: Record<string, Record<string, Operation>> };
const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method: method.toUpperCase() as Method, op })));
/** An event stream that succeeds never ends: such routes only get inputs that must fail. */
const streams = (op: Operation): boolean => op.responses?.['200']?.content?.['text/event-stream'] !== undefined;
const headersFor = (op: Operation): Record<string, string> =>
  op['x-permission'] === 'worker' ? { authorization: 'Bearer bad-input-worker' } : op['x-permission'] === 'tenants' ? as('superadmin') : as('admin');

/** An id that names nothing, so a request that gets through validation changes nothing. */
const NO_SUCH_ID = '0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b';
const fill = (path: string, id = NO_SUCH_ID, name = 'bad-input-q'): string => path.replace('{id}', id).replace('{name}', name);

/** Minimal bodies that pass schema validation, so each mutation is the only thing wrong. */
function validBody(method: Method, path: string): Record<string, unknown> | undefined {
  const bodies: Record<string, Record<string, unknown>> = {
    'POST /api/v1/auth/login': { username: 'nobody', password: 'wrong password' },
    'POST /api/v1/auth/refresh': { refreshToken: 'not-a-token' },
    'POST /api/v1/auth/logout': { refreshToken: 'not-a-token' },
    'POST /api/v1/users': { username: 'bad-input-user', password: 'long enough password', role: 'viewer' },
    'PATCH /api/v1/users/{id}': { role: 'viewer' },
    'POST /api/v1/keys': { name: 'bad-input', scopes: ['jobs:read'] },
    'POST /api/v1/jobs': { task: 'bad-input', delayMs: 60_000 },
    'POST /api/v1/jobs/batch': { jobs: [{ task: 'bad-input', delayMs: 60_000 }] },
    'POST /api/v1/jobs/{id}/reschedule': { priority: 1 },
    'POST /api/v1/schedules': { name: 'bad-input', task: 'bad-input', intervalMs: 60_000, paused: true },
    'POST /api/v1/schedules/preview': { name: 'bad-input', task: 'bad-input', intervalMs: 60_000 },
    'PATCH /api/v1/schedules/{id}': { paused: true },
    'PUT /api/v1/queues/{name}/concurrency': { limit: 2 },
    'POST /api/v1/worker/register': { name: 'bad-input', tasks: ['bad-input'], capacity: 1 },
    'POST /api/v1/worker/claim': { workerId: NO_SUCH_ID, max: 1 },
    'POST /api/v1/worker/heartbeat': { workerId: NO_SUCH_ID, jobs: [] },
    'POST /api/v1/worker/jobs/{id}/progress': { leaseToken: '1', progress: 1 },
    'POST /api/v1/worker/jobs/{id}/logs': { leaseToken: '1', lines: [{ message: 'm' }] },
    'POST /api/v1/worker/jobs/{id}/complete': { leaseToken: '1' },
    'POST /api/v1/worker/jobs/{id}/fail': { leaseToken: '1', error: { message: 'm' } },
    'POST /api/v1/worker/stop': { workerId: NO_SUCH_ID },
  };
  return bodies[`${method} ${path}`];
}

/** Every answer of the battery, for the summary and the slowest case. */
const seen: Array<{ kind: string; label: string; status: number; ms: number }> = [];

async function send(kind: string, label: string, request: InjectOptions): Promise<{ res: LightMyRequestResponse; ms: number }> {
  const started = performance.now();
  const res = await app.inject(request);
  const ms = performance.now() - started;
  seen.push({ kind, label, status: res.statusCode, ms });
  return { res, ms };
}

/** No 5xx; an error is problem JSON with a string code; `allowed` lists the acceptable statuses. */
function assertAnswer(res: LightMyRequestResponse, label: string, allowed: (status: number) => boolean): void {
  assert.ok(res.statusCode < 500, `${label} → ${res.statusCode}: ${res.body.slice(0, 300)}`);
  assert.ok(allowed(res.statusCode), `${label} → unexpected ${res.statusCode}: ${res.body.slice(0, 300)}`);
  if (res.statusCode >= 400) {
    assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8', `${label} → ${res.statusCode} is not problem JSON`);
    const body = res.json<{ code?: unknown; status?: unknown }>();
    assert.equal(typeof body.code, 'string', `${label} → problem without a code: ${res.body.slice(0, 300)}`);
    assert.equal(body.status, res.statusCode, `${label} → problem status differs from the HTTP status`);
  }
}
const clientError = (status: number): boolean => status >= 400 && status < 500;

test('malformed, hostile and oversized bodies on every write operation are 4xx problems and pollute nothing', async () => {
  const oneMiBPlusOne = (() => {
    const frame = '{"a":""}';
    return `{"a":"${'x'.repeat(1_048_577 - frame.length)}"}`;
  })();
  const wide = `{${Array.from({ length: 100_000 }, (_, i) => `"k${i.toString(36)}":0`).join(',')}}`;
  // `wellFormed`: JSON a parser may accept, so a route without a body schema may answer 2xx.
  const cases: Array<{ name: string; body: (valid: string) => string | Buffer; contentType?: string; wellFormed?: boolean }> = [
    { name: 'truncated JSON', body: (v) => v.slice(0, -1) },
    { name: 'trailing comma', body: (v) => `${v.slice(0, -1)},}` },
    { name: 'UTF-8 BOM before valid JSON', body: (v) => `\uFEFF${v}`, wellFormed: true },
    { name: 'empty body', body: () => '' },
    { name: 'top-level null', body: () => 'null', wellFormed: true },
    { name: 'top-level array', body: () => '[]', wellFormed: true },
    { name: 'top-level string', body: () => '"hello"', wellFormed: true },
    { name: '__proto__ poisoning', body: () => '{"__proto__":{"isAdmin":true}}' },
    { name: 'constructor.prototype poisoning', body: () => '{"constructor":{"prototype":{"x":1}}}' },
    { name: '10,000-deep nested arrays', body: () => `${'['.repeat(10_000)}${']'.repeat(10_000)}`, wellFormed: true },
    { name: 'object with 100,000 keys', body: () => wide, wellFormed: true },
    { name: 'number 1e309', body: () => '1e309', wellFormed: true },
    { name: 'body of 1 MiB + 1 byte', body: () => oneMiBPlusOne },
    { name: 'form-urlencoded body', body: () => 'task=x&priority=1', contentType: 'application/x-www-form-urlencoded' },
    { name: 'text/plain body', body: (v) => v, contentType: 'text/plain' },
    { name: 'UTF-16 JSON', body: (v) => Buffer.from(v, 'utf16le'), contentType: 'application/json; charset=utf-16' },
  ];
  assert.equal(Buffer.byteLength(oneMiBPlusOne), 1_048_577);
  const writes = operations.filter((o) => ['POST', 'PUT', 'PATCH'].includes(o.method));
  assert.ok(writes.filter((o) => o.op.requestBody).length >= 20, `inventory has ${writes.length} write operations`);
  for (const { path, method, op } of writes) {
    const valid = JSON.stringify(validBody(method, path) ?? {});
    for (const c of cases) {
      const label = `${method} ${path} with ${c.name}`;
      const { res } = await send('body', label, {
        method,
        url: fill(path),
        headers: { ...headersFor(op), 'content-type': c.contentType ?? 'application/json' },
        payload: c.body(valid),
      });
      // A BOM is allowed before JSON (RFC 8259 §8.1); well-formed JSON may reach a route that reads no body.
      const mayPass = c.name.includes('BOM') || (c.wellFormed === true && !op.requestBody);
      assertAnswer(res, label, (s) => clientError(s) || (mayPass && s < 300));
      assert.ok(res.body.length < 65_536, `${label} → a ${res.body.length}-byte answer`);
      if (c.name === 'body of 1 MiB + 1 byte') assert.equal(res.statusCode, 413, label);
      if (c.contentType && !c.contentType.startsWith('application/json')) assert.equal(res.statusCode, 415, label);
    }
  }
  assert.equal(({} as Record<string, unknown>).isAdmin, undefined, 'Object.prototype polluted with isAdmin');
  assert.equal(({} as Record<string, unknown>).x, undefined, 'Object.prototype polluted with x');
});

/** Copies of `body` with one string leaf replaced by `bad`, each with the leaf's JSON pointer. */
function withEachString(body: unknown, bad: string, pointer = ''): Array<[string, unknown]> {
  if (typeof body === 'string') return [[pointer || '/', bad]];
  if (Array.isArray(body)) {
    const items = body as unknown[];
    return items.flatMap((item, i) => withEachString(item, bad, `${pointer}/${i}`).map(([p, v]): [string, unknown] => [p, items.map((old, j) => (j === i ? v : old))]));
  }
  if (typeof body === 'object' && body !== null) {
    return Object.entries(body).flatMap(([key, item]) => withEachString(item, bad, `${pointer}/${key}`).map(([p, v]): [string, unknown] => [p, { ...body, [key]: v }]));
  }
  return [];
}

test('NUL and lone surrogates in every string field of every body are 4xx problems', async () => {
  let generated = 0;
  for (const { path, method, op } of operations) {
    const valid = validBody(method, path);
    if (!valid) continue;
    for (const [name, bad] of [['NUL', 'a\u0000b'], ['lone surrogate', 'a\ud800b']] as const) {
      for (const [pointer, body] of withEachString(valid, bad)) {
        const label = `${method} ${path} with ${name} at ${pointer}`;
        const { res } = await send('text', label, { method, url: fill(path), headers: { ...headersFor(op), 'content-type': 'application/json' }, payload: JSON.stringify(body) });
        // Logging out an unknown refresh token is a no-op (204) by design; nothing is stored.
        assertAnswer(res, label, (s) => clientError(s) || (path === '/api/v1/auth/logout' && s === 204));
        generated += 1;
      }
    }
  }
  assert.ok(generated > 40, `generated ${generated} text cases`);
});

test('hostile ids and queue names in the path are 400 or 404 problems', async () => {
  const uuid = '0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7c';
  const ids = [
    ['not a uuid', 'not-a-uuid'],
    ['nil uuid', '00000000-0000-0000-0000-000000000000'],
    ['uppercase uuid', uuid.toUpperCase()],
    ['uuid in braces', encodeURIComponent(`{${uuid}}`)],
    ['10 kB id', 'a'.repeat(10_240)],
    ['encoded path traversal', '..%2F..%2Fetc%2Fpasswd'],
    ['NUL', '%00'],
    ['SQL injection', encodeURIComponent("' OR 1=1--")],
  ] as const;
  const names = [
    ['encoded path traversal', '..%2F..%2Fetc%2Fpasswd'],
    ['NUL', '%00'],
    ['NUL inside', 'q%00x'],
    ['SQL injection', encodeURIComponent("' OR 1=1--")],
    ['10 kB name', 'q'.repeat(10_240)],
    ['129 characters', 'q'.repeat(129)],
    ['Arabic-Indic digit', encodeURIComponent('\u0665q')],
    ['RTL override', encodeURIComponent('q\u202Eq')],
    ['lone surrogate bytes', '%ED%A0%80'],
    ['template', encodeURIComponent('{{7*7}}')],
  ] as const;
  let generated = 0;
  for (const { path, method, op } of operations) {
    const body = validBody(method, path);
    const table = path.includes('{id}') ? ids : path.includes('{name}') ? names : [];
    for (const [name, value] of table) {
      const label = `${method} ${path} with ${name}`;
      const url = path.includes('{id}') ? fill(path, value) : fill(path, NO_SUCH_ID, value);
      const { res } = await send('path', label, { method, url, headers: headersFor(op), ...(body === undefined ? {} : { payload: body }) });
      assertAnswer(res, label, (s) => s === 400 || s === 404);
      generated += 1;
    }
  }
  assert.ok(generated > 150, `generated ${generated} path cases`);
});

test('hostile query strings are a 4xx problem or a 200, never a 5xx, and never slow', async () => {
  let generated = 0;
  for (const { path, method, op } of operations) {
    const query = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
    if (method !== 'GET' || query.length === 0) continue;
    const cases: Array<[string, string]> = [
      ['unknown parameter', `sort=${encodeURIComponent('name;DROP')}`],
      ['unknown parameter with pg_sleep', `sort=${encodeURIComponent('(select pg_sleep(5))')}`],
      ['filter operator object', `filter[state][$ne]=x`],
    ];
    if (query.includes('limit')) cases.push(['limit=-1', 'limit=-1'], ['limit=1e9', 'limit=1e9'], ['limit=abc', 'limit=abc'], ['limit=%00', 'limit=%00'], ['offset-sized limit', 'limit=1000000000000000000']);
    for (const name of query) {
      cases.push(
        [`${name}=' OR 1=1--`, `${name}=${encodeURIComponent("' OR 1=1--")}`],
        [`${name}=(select pg_sleep(5))`, `${name}=${encodeURIComponent('(select pg_sleep(5))')}`],
        [`${name}=%00`, `${name}=%00`],
        [`${name}=a%00b`, `${name}=a%00b`],
        [`${name} twice`, `${name}=a&${name}=b`],
      );
    }
    for (const [name, q] of cases) {
      // A stream that answers 200 never ends: a bad `types` makes every tenant-wide stream case one that
      // must fail, and the one-job stream opens only for an existing job (NO_SUCH_ID: 400 or 404).
      const url = `${fill(path)}?${q}${streams(op) && !path.includes('{id}') ? '&types=no-such-type' : ''}`;
      const label = `${method} ${path}?${name}`;
      const { res, ms } = await send('query', label, { method, url, headers: headersFor(op) });
      assertAnswer(res, label, (s) => s === 200 || clientError(s));
      if (streams(op)) assert.ok(clientError(res.statusCode), `${label} opened a stream`);
      assert.ok(ms < 1000, `${label} took ${Math.round(ms)} ms`);
      generated += 1;
    }
  }
  assert.ok(generated > 80, `generated ${generated} query cases`);
});

test('out-of-range numbers and unstorable text in job and schedule fields are 400 problems', async () => {
  const job = (fields: string): string => `{"task":"bad-input",${fields}}`;
  const schedule = (fields: string): string => `{"name":"bad-input-n","task":"bad-input","intervalMs":60000,${fields}}`;
  const numbers = ['-1', '0', '1.5', '"3"', '9007199254740993', '1e309'];
  const cases: Array<[string, string, string]> = [
    ...numbers.map((n): [string, string, string] => [`maxAttempts ${n}`, '/api/v1/jobs', job(`"maxAttempts":${n}`)]),
    ['timeoutMs 0', '/api/v1/jobs', job('"timeoutMs":0')],
    ['timeoutMs -1000', '/api/v1/jobs', job('"timeoutMs":-1000')],
    ['timeoutMs 1e12', '/api/v1/jobs', job('"timeoutMs":1e12')],
    ['delayMs 1e309', '/api/v1/jobs', job('"delayMs":1e309')],
    ['delayMs 2^53+1', '/api/v1/jobs', job('"delayMs":9007199254740993')],
    ['priority 1001', '/api/v1/jobs', job('"priority":1001')],
    ['priority -0.5', '/api/v1/jobs', job('"priority":-0.5')],
    ['backoff.factor 1e309', '/api/v1/jobs', job('"backoff":{"factor":1e309}')],
    ['backoff.baseMs 2^53+1', '/api/v1/jobs', job('"backoff":{"baseMs":9007199254740993}')],
    ['NUL in task', '/api/v1/jobs', '{"task":"a\\u0000b"}'],
    ['lone surrogate in task', '/api/v1/jobs', '{"task":"a\\ud800b"}'],
    ['lone surrogate in payload', '/api/v1/jobs', job('"payload":{"s":"\\ud800"}')],
    ['lone surrogate in a payload key', '/api/v1/jobs', job('"payload":{"\\udc00":1}')],
    ['NUL in a label', '/api/v1/jobs', job('"labels":{"k":"\\u0000"}')],
    ['1 MB task name', '/api/v1/jobs', JSON.stringify({ task: 't'.repeat(1_000_000) })],
    ['RTL override in queue', '/api/v1/jobs', job('"queue":"q\\u202Eq"')],
    ...numbers.map((n): [string, string, string] => [`intervalMs ${n}`, '/api/v1/schedules', `{"name":"bad-input-n","task":"bad-input","intervalMs":${n}}`]),
    ...numbers.map((n): [string, string, string] => [`jobOptions.maxAttempts ${n}`, '/api/v1/schedules', schedule(`"jobOptions":{"maxAttempts":${n}}`)]),
    ['jobOptions.timeoutMs 1e12', '/api/v1/schedules', schedule('"jobOptions":{"timeoutMs":1e12}')],
    ['jobOptions.priority 1001', '/api/v1/schedules', schedule('"jobOptions":{"priority":1001}')],
    ['catchUpMax 0', '/api/v1/schedules', schedule('"catchUpMax":0')],
    ['misfireGraceMs 1e12', '/api/v1/schedules', schedule('"misfireGraceMs":1e12')],
    ['NUL in schedule name', '/api/v1/schedules', '{"name":"a\\u0000b","task":"t","intervalMs":60000}'],
    ['lone surrogate in schedule name', '/api/v1/schedules', '{"name":"a\\ud800","task":"t","intervalMs":60000}'],
    ['RTL override in schedule name', '/api/v1/schedules', '{"name":"invoice\\u202Efdp.exe","task":"t","intervalMs":60000}'],
    ['zero-width space in schedule name', '/api/v1/schedules', '{"name":"a\\u200Bb","task":"t","intervalMs":60000}'],
    ['1 MB schedule task', '/api/v1/schedules', JSON.stringify({ name: 'bad-input-n', task: 't'.repeat(1_000_000), intervalMs: 60_000 })],
    ['NUL in schedule description', '/api/v1/schedules', schedule('"description":"a\\u0000"')],
    ['lone surrogate in schedule payload', '/api/v1/schedules', schedule('"payload":{"s":"\\ud800"}')],
  ];
  const count = async (): Promise<string> => (await db.pool.query<{ n: string }>(`SELECT (SELECT count(*) FROM jobplane.jobs) + (SELECT count(*) FROM jobplane.schedules) AS n`)).rows[0]!.n;
  const before = await count();
  for (const [name, url, payload] of cases) {
    const label = `POST ${url} with ${name}`;
    const { res } = await send('fields', label, { method: 'POST', url, headers: { ...as('admin'), 'content-type': 'application/json' }, payload });
    assertAnswer(res, label, (s) => s === 400 || s === 413);
  }
  assert.equal(await count(), before, 'no rejected job or schedule was stored');
});

test('injection strings in a job payload, label and key are stored and read back literally', async () => {
  const strings = ["' OR 1=1--", "'; DROP TABLE jobs;--", '$1', '{{7*7}}', '${7*7}', '<script>alert(1)</script>', '\u202Eevil', '👩‍💻 e\u0301 𝄞'];
  for (const s of strings) {
    const payload = { s, nested: [s, { [s]: s }] };
    const label = `POST /api/v1/jobs with ${JSON.stringify(s)}`;
    const { res } = await send('injection', label, { method: 'POST', url: '/api/v1/jobs', headers: as('admin'), payload: { task: 'bad-input', delayMs: 60_000, payload, labels: { note: s } } });
    assert.equal(res.statusCode, 201, `${label}: ${res.body.slice(0, 300)}`);
    const id = res.json<{ id: string }>().id;
    const back = await send('injection', `GET the job of ${label}`, { url: `/api/v1/jobs/${id}`, headers: as('admin') });
    assert.equal(back.res.statusCode, 200);
    const read = back.res.json<{ payload: unknown; labels: Record<string, string> }>();
    assert.deepEqual(read.payload, payload, label);
    assert.equal(read.labels.note, s, label);
  }
  const { rows } = await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM jobplane.jobs`);
  assert.ok(Number(rows[0]!.n) >= strings.length, 'the jobs table is still there');
});

test('cron expressions and time zones that cannot work are 400 problems within a second', async () => {
  const crons: Array<[string, string]> = [
    ['7 fields', '* * * * * * *'],
    ['minute 60', '60 * * * *'],
    ['hour 24', '* 24 * * *'],
    ['step 0', '*/0 * * * *'],
    ['reversed range', '5-1 * * * *'],
    ['30 February (never fires)', '0 0 30 2 *'],
    ['31 April (never fires)', '0 0 31 4 *'],
    ['@reboot', '@reboot'],
    ['L', '0 0 L * *'],
    ['W', '0 0 15W * *'],
    ['#', '0 0 * * 1#2'],
    ['?', '0 0 ? * 1'],
    ['Arabic-Indic digit', '\u0665 * * * *'],
    ['10 kB expression', `${'1,'.repeat(5_119)}1 * * * *`],
    ['list of 1,000 values', `${Array.from({ length: 1000 }, (_, i) => i % 60).join(',')} * * * *`],
    ['empty', ''],
    ['NUL', '0\u0000 * * * *'],
    ['SQL injection', "' OR 1=1--"],
  ];
  const zones: Array<[string, string]> = [
    ['Mars/Phobos', 'Mars/Phobos'],
    ['EST', 'EST'],
    ['lower-case utc', 'utc'],
    ['offset +05:30', '+05:30'],
    ['empty', ''],
    ['path traversal', '../../etc/localtime'],
    ['NUL', 'Europe/Paris\u0000'],
    ['65 characters', 'A'.repeat(65)],
  ];
  const cases = [
    ...crons.map(([name, cron]) => ({ name: `cron ${name}`, body: { cron } })),
    ...zones.map(([name, timezone]) => ({ name: `timezone ${name}`, body: { cron: '0 * * * *', timezone } })),
  ];
  for (const url of ['/api/v1/schedules', '/api/v1/schedules/preview']) {
    for (const c of cases) {
      const label = `POST ${url} with ${c.name}`;
      const { res, ms } = await send('cron', label, { method: 'POST', url, headers: as('admin'), payload: { name: 'bad-cron', task: 'bad-input', ...c.body } });
      assertAnswer(res, label, (s) => s === 400);
      assert.ok(ms < 1000, `${label} took ${Math.round(ms)} ms`);
    }
  }
});

test('abusive credentials are 4xx problems', async () => {
  const big = 'x'.repeat(65_536);
  const cases: Array<[string, Record<string, string | string[]>]> = [
    ['64 kB bearer token', { authorization: `Bearer ${big}` }],
    ['64 kB API key', { 'x-api-key': big }],
    ['two Authorization headers', { authorization: ['Bearer admin', 'Bearer viewer'] }],
    ['two x-api-key headers', { 'x-api-key': ['jp_a', 'jp_b'] }],
    ['Bearer without a token', { authorization: 'Bearer ' }],
    ['Basic scheme', { authorization: 'Basic YWRtaW46YWRtaW4=' }],
    ['NUL in the token', { authorization: 'Bearer ad\u0000min' }],
    ['SQL injection as API key', { 'x-api-key': "jp_' OR 1=1--" }],
  ];
  const targets = operations.filter((o) => o.op['x-permission'] && !streams(o.op) && o.method === 'GET' && !o.path.includes('{'));
  for (const { path, method } of [...targets, { path: '/api/v1/jobs', method: 'POST' as Method }]) {
    for (const [name, headers] of cases) {
      const label = `${method} ${path} with ${name}`;
      const { res } = await send('headers', label, { method, url: path, headers, ...(method === 'POST' ? { payload: { task: 'bad-input' } } : {}) });
      assertAnswer(res, label, (s) => [400, 401, 403, 431].includes(s));
    }
  }
});

test('the battery ran without a 5xx (summary)', () => {
  const byKind = new Map<string, number>();
  for (const s of seen) byKind.set(s.kind, (byKind.get(s.kind) ?? 0) + 1);
  const slowest = seen.reduce((a, b) => (b.ms > a.ms ? b : a), seen[0]!);
  const fiveHundreds = seen.filter((s) => s.status >= 500);
  console.log(`bad-input battery: ${seen.length} requests ${JSON.stringify(Object.fromEntries(byKind))}; slowest ${slowest.label} ${Math.round(slowest.ms)} ms; 5xx ${fiveHundreds.length}`);
  assert.deepEqual(fiveHundreds, []);
});
