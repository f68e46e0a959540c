/**
 * The secrets store against real PostgreSQL: encryption at rest (no plaintext in the table's
 * bytes, ciphertext bound to tenant and name), resolution in the worker with redaction of what the
 * attempt writes back, the database-kept default key, and rotation by rewrapping while processes
 * with old and new keyrings run side by side.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { silentLogger, type Logger, type LogFields } from '../../src/core/deps.js';
import { DEFAULT_TENANT_ID } from '../../src/core/tenants.js';
import { readJob, readJobLogs } from '../../src/engine/job-service.js';
import { createSecretService, DB_KEY_ID, DB_KEY_SECRET_NAME, SecretDecryptionError, type SecretService } from '../../src/engine/secrets/index.js';
import { addJob } from '../../src/engine/submit.js';
import { isAppError } from '../../src/errors/index.js';
import { createScheduler } from '../../src/scheduler/scheduler.js';
import { SecretRewrapper } from '../../src/scheduler/secret-rewrapper.js';
import { builtinTasks } from '../../src/worker/tasks/index.js';
import { createWorker, type WorkerOptions } from '../../src/worker/worker.js';
import { testApp, as } from '../helpers/api.js';
import { testDatabase } from '../helpers/db.js';

const db = await testDatabase();
const T2 = '00000000-0000-7000-8000-0000000000bb';
await db.pool.query(`INSERT INTO jobplane.tenants (id, slug, name) VALUES ($1, 'second', 'Second') ON CONFLICT DO NOTHING`, [T2]);

const key = (id: string): string => `${id}:${randomBytes(32).toString('base64')}`;
const OLD = key('k-old');
const NEW = key('k-new');

function service(keys: readonly string[], activeKey: string | null = null, logger: Logger = silentLogger): SecretService {
  return createSecretService({ pool: db.pool, keys, activeKey, logger });
}

function worker(options: Omit<WorkerOptions, 'pool'>) {
  return db.track(createWorker({ pool: db.pool, pollIntervalMs: 60_000, ...options }));
}

/** A logger that keeps what it was given. */
function recordingLogger(): Logger & { lines: Array<{ level: string; fields: LogFields; message?: string }> } {
  const lines: Array<{ level: string; fields: LogFields; message?: string }> = [];
  const make = (bindings: LogFields): Logger => ({
    debug: (fields, message) => lines.push({ level: 'debug', fields: { ...bindings, ...fields }, ...(message === undefined ? {} : { message }) }),
    info: (fields, message) => lines.push({ level: 'info', fields: { ...bindings, ...fields }, ...(message === undefined ? {} : { message }) }),
    warn: (fields, message) => lines.push({ level: 'warn', fields: { ...bindings, ...fields }, ...(message === undefined ? {} : { message }) }),
    error: (fields, message) => lines.push({ level: 'error', fields: { ...bindings, ...fields }, ...(message === undefined ? {} : { message }) }),
    child: (more) => make({ ...bindings, ...more }),
  });
  return Object.assign(make({}), { lines });
}

async function tableDump(): Promise<string> {
  const { rows } = await db.pool.query<{ dump: string | null }>(
    `SELECT string_agg(t::text || ' ' || encode(t.nonce, 'hex') || ' ' || encode(t.ciphertext, 'hex') || ' ' || encode(t.ciphertext, 'escape'), E'\\n') AS dump FROM jobplane.tenant_secrets t`,
  );
  return rows[0]?.dump ?? '';
}

test('a value set under a configured key decrypts back exactly, and its plaintext is nowhere in the table or an API answer', async () => {
  const secrets = service([OLD]);
  const canary = `canary-${randomBytes(8).toString('hex')}-ünïcødé ✓`;
  const set = await secrets.set(DEFAULT_TENANT_ID, 'round-trip', { value: canary, description: 'a test' }, 'user:test');
  assert.equal(set.created, true);
  assert.equal(set.after.keyId, 'k-old');
  assert.deepEqual(await secrets.resolve(DEFAULT_TENANT_ID, ['round-trip']), new Map([['round-trip', canary]]));
  const again = await secrets.set(DEFAULT_TENANT_ID, 'round-trip', { value: `${canary}-2` }, 'user:test');
  assert.equal(again.created, false);
  assert.equal(again.before?.description, 'a test');

  const dump = await tableDump();
  assert.ok(dump.includes('round-trip'));
  for (const form of [canary, `${canary}-2`, Buffer.from(canary).toString('hex'), Buffer.from(canary).toString('base64'), 'canary-']) {
    assert.ok(!dump.includes(form), `the table's bytes contain ${form}`);
  }
  const app = await testApp(db, { secrets });
  const listed = await app.inject({ url: '/api/v1/secrets', headers: as('admin') });
  assert.equal(listed.statusCode, 200);
  assert.ok(listed.body.includes('round-trip') && !listed.body.includes('canary-'));
});

test('ciphertext copied onto another tenant’s or another name’s row does not decrypt', async () => {
  const secrets = service([OLD]);
  await secrets.set(DEFAULT_TENANT_ID, 'source', { value: 'the-source-value' }, null);
  await secrets.set(DEFAULT_TENANT_ID, 'other-name', { value: 'other-value' }, null);
  await secrets.set(T2, 'source', { value: 'tenant-two-value' }, null);
  const copy = `UPDATE jobplane.tenant_secrets d SET nonce = s.nonce, ciphertext = s.ciphertext, key_id = s.key_id
                FROM jobplane.tenant_secrets s WHERE s.tenant_id = $1 AND s.name = 'source' AND d.tenant_id = $2 AND d.name = $3`;
  await db.pool.query(copy, [DEFAULT_TENANT_ID, T2, 'source']);
  await db.pool.query(copy, [DEFAULT_TENANT_ID, DEFAULT_TENANT_ID, 'other-name']);
  for (const [tenant, name] of [[T2, 'source'], [DEFAULT_TENANT_ID, 'other-name']] as const) {
    await assert.rejects(secrets.resolve(tenant, [name]), (error: unknown) => {
      assert.ok(error instanceof SecretDecryptionError, String(error));
      assert.match(error.message, new RegExp(`secret "${name}".*key "k-old"`));
      assert.ok(!error.message.includes('the-source-value'));
      return true;
    });
  }
  assert.equal((await secrets.resolve(DEFAULT_TENANT_ID, ['source'])).get('source'), 'the-source-value');
});

test('a row under a key this process does not hold fails with an error naming the key id, never the key', async () => {
  const gone = key('k-gone');
  await service([gone]).set(DEFAULT_TENANT_ID, 'orphan', { value: 'orphan-value' }, null);
  await assert.rejects(service([NEW]).resolve(DEFAULT_TENANT_ID, ['orphan']), (error: unknown) => {
    assert.ok(error instanceof SecretDecryptionError);
    assert.match(error.message, /key "k-gone"/);
    assert.ok(!error.message.includes(gone.split(':')[1]!));
    return true;
  });
  await db.pool.query(`DELETE FROM jobplane.tenant_secrets WHERE name = 'orphan'`);
});

test('without configured keys one key is generated once, kept in the database, and a warning says what that costs', async () => {
  const logger = recordingLogger();
  const first = service([], null, logger);
  const second = service([], null, logger);
  await first.set(DEFAULT_TENANT_ID, 'db-kept', { value: 'db-kept-value' }, null);
  await first.set(DEFAULT_TENANT_ID, 'db-kept-2', { value: 'db-kept-value-2' }, null);
  const meta = await first.get(DEFAULT_TENANT_ID, 'db-kept');
  assert.equal(meta.keyId, DB_KEY_ID);
  assert.equal((await second.resolve(DEFAULT_TENANT_ID, ['db-kept'])).get('db-kept'), 'db-kept-value', 'every process finds the same key');
  const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobplane.auth_secrets WHERE name = $1`, [DB_KEY_SECRET_NAME]);
  assert.equal(rows[0]!.n, 1);
  const warnings = logger.lines.filter((l) => l.level === 'warn' && /JOBPLANE_SECRETS_KEYS/.test(l.message ?? ''));
  assert.equal(warnings.length, 2, 'once per keyring, not once per use');
  assert.match(warnings[0]!.message!, /dump of the database alone reveals/);

  // Configuring keys later: the stored key still reads the old rows, and rewrap moves them off it.
  const configured = service([NEW]);
  assert.equal((await configured.resolve(DEFAULT_TENANT_ID, ['db-kept'])).get('db-kept'), 'db-kept-value');
  while ((await configured.rewrap({ batch: 1 })) > 0);
  assert.equal((await configured.get(DEFAULT_TENANT_ID, 'db-kept')).keyId, 'k-new');
  assert.equal((await configured.pendingRewrap()).byKey[DB_KEY_ID], undefined);
  await db.pool.query(`DELETE FROM jobplane.tenant_secrets WHERE name LIKE 'db-kept%'`);
});

test('a worker hands the handler the resolved payload, stores the references, and redacts the value from logs, progress and result', async () => {
  const secrets = service([OLD]);
  const value = `sk_live_${randomBytes(6).toString('hex')}`;
  await secrets.set(DEFAULT_TENANT_ID, 'x', { value }, null);
  let seen: unknown = null;
  const logger = recordingLogger();
  const w = worker({
    queues: ['q-resolve'],
    secrets,
    logger,
    tasks: {
      use: (payload: { token: string; nested: { list: unknown[] } }, ctx) => {
        seen = payload;
        ctx.log(`calling with ${payload.token}`, { token: payload.token, err: new Error(`bad ${payload.token}`) });
        ctx.progress({ step: `token ${payload.token}` });
        ctx.logger.info({ token: payload.token }, `process log ${payload.token}`);
        return { echoed: payload.token, when: new Date(0), [payload.token]: 1 };
      },
    },
  });
  const payload = { token: { $secret: 'x' }, nested: { list: [{ $secret: 'x' }, 'plain'] } };
  const job = await addJob(db.pool, { task: 'use', queue: 'q-resolve', payload });
  assert.equal(await w.runOnce(), 1);
  assert.deepEqual(seen, { token: value, nested: { list: [value, 'plain'] } });
  const row = await readJob(db.pool, { tenantId: null }, job.id);
  assert.equal(row.status, 'completed');
  assert.deepEqual(row.payload, payload, 'the stored job keeps the references');
  assert.deepEqual(row.result, { echoed: '[secret]', when: '1970-01-01T00:00:00.000Z', '[secret]': 1 });
  assert.deepEqual(row.progress, { step: 'token [secret]' });
  const logs = await readJobLogs(db.pool, { tenantId: null }, job.id);
  const lines = JSON.stringify(logs);
  assert.ok(lines.includes('calling with [secret]'), lines);
  assert.ok(!lines.includes(value), lines);
  const processLog = JSON.stringify(logger.lines);
  assert.ok(processLog.includes('process log [secret]'));
  assert.ok(!processLog.includes(value));
  const { rows } = await db.pool.query<{ dump: string }>(`SELECT j::text AS dump FROM jobplane.jobs j WHERE id = $1`, [job.id]);
  assert.ok(!rows[0]!.dump.includes(value));
});

test('an error that carries the value is stored redacted, message and stack', async () => {
  const secrets = service([OLD]);
  const value = `pw-${randomBytes(6).toString('hex')}`;
  await secrets.set(DEFAULT_TENANT_ID, 'db-password', { value }, null);
  const w = worker({
    queues: ['q-error'],
    secrets,
    tasks: {
      leaky: (payload: { password: string }) => {
        throw new Error(`login failed for password ${payload.password} (${JSON.stringify(payload)})`);
      },
    },
  });
  const job = await addJob(db.pool, { task: 'leaky', queue: 'q-error', payload: { password: { $secret: 'db-password' } }, maxAttempts: 1 });
  await w.runOnce();
  const row = await readJob(db.pool, { tenantId: null }, job.id);
  assert.equal(row.status, 'failed');
  assert.match(row.errors[0]!.message, /login failed for password \[secret\] \(\{"password":"\[secret\]"\}\)/);
  assert.ok(!JSON.stringify(row.errors).includes(value));
});

test('a job that references a missing secret fails at once, permanently, naming the secret', async () => {
  const w = worker({ queues: ['q-missing'], secrets: service([OLD]), tasks: { never: () => assert.fail('the handler must not run') } });
  const job = await addJob(db.pool, { task: 'never', queue: 'q-missing', payload: { token: { $secret: 'no-such-secret' } }, maxAttempts: 5 });
  await w.runOnce();
  const row = await readJob(db.pool, { tenantId: null }, job.id);
  assert.equal(row.status, 'failed');
  assert.equal(row.attempt, 1, 'not retried');
  assert.equal(row.errors[0]!.kind, 'permanent');
  assert.match(row.errors[0]!.message, /"no-such-secret"/);
});

test("a worker never resolves another tenant's secret, and a malformed reference fails the job with its pointer", async () => {
  const secrets = service([OLD]);
  await secrets.set(DEFAULT_TENANT_ID, 'tenant-one-only', { value: 'tenant-one-value' }, null);
  const w = worker({ queues: ['q-isolation'], secrets, tasks: { t: () => 'ran' } });
  const foreign = await addJob(db.pool, { task: 't', queue: 'q-isolation', payload: { v: { $secret: 'tenant-one-only' } } }, { tenantId: T2 });
  const malformed = await addJob(db.pool, { task: 't', queue: 'q-isolation', payload: { v: { $secret: 'tenant-one-only', extra: true } } });
  await w.runOnce();
  const a = await readJob(db.pool, { tenantId: null }, foreign.id);
  const b = await readJob(db.pool, { tenantId: null }, malformed.id);
  assert.deepEqual([a.status, b.status], ['failed', 'failed']);
  assert.match(a.errors[0]!.message, /"tenant-one-only"/);
  assert.match(b.errors[0]!.message, /\/v .*only key/);
});

test('the built-in http task sends the resolved header and stores the echoed value redacted', async () => {
  const token = `Bearer ${randomBytes(12).toString('hex')}`;
  await service([OLD]).set(DEFAULT_TENANT_ID, 'api-token', { value: token }, null);
  let received: IncomingHttpHeaders | null = null;
  const server = createServer((req, res) => {
    received = req.headers;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ youSent: req.headers.authorization }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    // Built from the worker's own pool and the configured keys, as `jobplane start` does.
    const w = worker({ queues: ['q-http'], secretsKeys: [OLD], tasks: builtinTasks(['http'], { http: { allowPrivateNetworks: true } }) });
    const job = await addJob(db.pool, { task: 'http', queue: 'q-http', payload: { url, method: 'POST', headers: { authorization: { $secret: 'api-token' } }, body: { hello: 'world' } } });
    await w.runOnce();
    assert.equal((received as IncomingHttpHeaders | null)?.authorization, token);
    const row = await readJob(db.pool, { tenantId: null }, job.id);
    assert.equal(row.status, 'completed', JSON.stringify(row.errors));
    const result = row.result as { body: string };
    assert.equal(result.body, '{"youSent":"[secret]"}');
    assert.ok(!JSON.stringify(row).includes(token.slice(7)));
  } finally {
    server.close();
  }
});

test('rewrap moves rows from the old key to the active one while processes with either keyring keep reading them', async () => {
  await db.pool.query(`DELETE FROM jobplane.tenant_secrets`);
  const before = service([OLD, NEW]);
  const after = service([NEW, OLD]);
  const names = Array.from({ length: 7 }, (_, i) => `rot-${i}`);
  for (const name of names) await before.set(DEFAULT_TENANT_ID, name, { value: `value of ${name}` }, null);
  const expected = new Map(names.map((n) => [n, `value of ${n}`]));
  assert.deepEqual(await after.resolve(DEFAULT_TENANT_ID, names), expected, 'the new keyring reads rows under the old key');
  assert.deepEqual(await after.pendingRewrap(), { total: 7, byKey: { 'k-old': 7 } });
  assert.equal(await before.rewrap({ batch: 100 }), 0, 'nothing to move for a process whose active key is still the old one');

  assert.equal(await after.rewrap({ batch: 3 }), 3);
  assert.deepEqual(await before.resolve(DEFAULT_TENANT_ID, names), expected, 'mid-rotation, the old keyring reads both');
  assert.deepEqual(await after.resolve(DEFAULT_TENANT_ID, names), expected);
  while ((await after.rewrap({ batch: 3 })) > 0);
  assert.deepEqual(await after.pendingRewrap(), { total: 0, byKey: {} });
  const { rows } = await db.pool.query<{ keyId: string; n: number }>(`SELECT key_id AS "keyId", count(*)::int AS n FROM jobplane.tenant_secrets GROUP BY key_id`);
  assert.deepEqual(rows, [{ keyId: 'k-new', n: 7 }]);
  assert.deepEqual(await before.resolve(DEFAULT_TENANT_ID, names), expected, 'the old keyring still holds the new key');
  assert.deepEqual(await service([NEW]).resolve(DEFAULT_TENANT_ID, names), expected, 'the old key can go');
});

test('several rewrappers at once move every row exactly once and never conflict', async () => {
  await db.pool.query(`DELETE FROM jobplane.tenant_secrets`);
  const writer = service([OLD]);
  const names = Array.from({ length: 120 }, (_, i) => `many-${String(i).padStart(3, '0')}`);
  for (const name of names) await writer.set(name.endsWith('1') ? T2 : DEFAULT_TENANT_ID, name, { value: `v-${name}` }, null);
  const rewrappers = Array.from({ length: 4 }, () => new SecretRewrapper({ secrets: service([NEW, OLD]), batch: 7 }));
  const counts = await Promise.all(
    rewrappers.map(async (r) => {
      // Each stops at its first empty batch: rows it could not lock belong to a rewrapper still running.
      let total = 0;
      for (let moved = await r.runOnce(); moved > 0; moved = await r.runOnce()) total += moved;
      return total;
    }),
  );
  assert.equal(counts.reduce((a, b) => a + b, 0), 120, `moved ${counts.join('+')}`);
  const reader = service([NEW]);
  const t1 = names.filter((n) => !n.endsWith('1'));
  const t2 = names.filter((n) => n.endsWith('1'));
  assert.deepEqual(await reader.resolve(DEFAULT_TENANT_ID, t1), new Map(t1.map((n) => [n, `v-${n}`])));
  assert.deepEqual(await reader.resolve(T2, t2), new Map(t2.map((n) => [n, `v-${n}`])));
});

test('the elected scheduler leader rewraps as one of its maintenance steps', async () => {
  await db.pool.query(`DELETE FROM jobplane.tenant_secrets`);
  await service([OLD]).set(DEFAULT_TENANT_ID, 'leader-moves-me', { value: 'leader value' }, null);
  const scheduler = db.track(createScheduler({ pool: db.pool, secretsKeys: [NEW, OLD] }));
  const pass = await scheduler.runOnce();
  assert.equal(pass.leader, true);
  const { rows } = await db.pool.query<{ keyId: string }>(`SELECT key_id AS "keyId" FROM jobplane.tenant_secrets WHERE name = 'leader-moves-me'`);
  assert.equal(rows[0]!.keyId, 'k-new');
});

test('a configured active key that is not among the keys is refused when the service is built', () => {
  assert.throws(() => service([OLD], 'k-missing'), (error: unknown) => isAppError(error, 'CONFIG_INVALID'));
  assert.throws(() => service(['k1:not-base64-of-32-bytes']), (error: unknown) => isAppError(error, 'CONFIG_INVALID') && !error.message.includes('not-base64'));
});
