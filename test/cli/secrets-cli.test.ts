/**
 * `jobplane secrets set|list|delete` against a real server process with configured keys, a job
 * that uses a secret end to end (the process's worker resolves it for the http task), and
 * `jobplane secrets rewrap` on the database after a key rotation.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { testDatabase } from '../helpers/db.js';
import { startJobplaneProcess, type JobplaneProcess } from '../helpers/jobplane-process.js';

const ADMIN_PASSWORD = 'secrets-cli-admin-password';
const OLD = `k-old:${randomBytes(32).toString('base64')}`;
const NEW = `k-new:${randomBytes(32).toString('base64')}`;
const VALUE = `cli-secret-${randomBytes(8).toString('hex')}`;
const db = await testDatabase();
let server: JobplaneProcess;
let home: string;
const outputs: string[] = [];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['bin/jobplane.js', ...args],
      { env: { ...process.env, JOBPLANE_URL: server.url, XDG_CONFIG_HOME: home, NO_COLOR: '1', JOBPLANE_TOKEN: '', ...options.env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        outputs.push(stdout, stderr);
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}

async function json<T>(args: string[], options: Parameters<typeof cli>[1] = {}): Promise<T> {
  const run = await cli([...args, '--json'], options);
  assert.equal(run.code, 0, `jobplane ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

before(async () => {
  server = db.track(await startJobplaneProcess({ DATABASE_URL: db.url, JOBPLANE_ADMIN_PASSWORD: ADMIN_PASSWORD, JOBPLANE_SECRETS_KEYS: OLD, JOBPLANE_HTTP_ALLOW_PRIVATE: 'true' }));
  home = await mkdtemp(join(tmpdir(), 'jobplane-secrets-cli-'));
  await json(['login', '--username', 'admin', '--password-stdin'], { input: ADMIN_PASSWORD });
});

after(async () => {
  await rm(home, { recursive: true, force: true });
});

test('secrets set reads the value from stdin, list shows metadata only, and delete removes it', async () => {
  const set = await json<{ name: string; keyId: string; description: string }>(['secrets', 'set', 'cli-token', '--description', 'from the CLI', '--value-stdin'], { input: `${VALUE}\n` });
  assert.deepEqual([set.name, set.keyId, set.description], ['cli-token', 'k-old', 'from the CLI']);
  const replaced = await cli(['secrets', 'set', 'cli-token', '--value-stdin'], { input: VALUE });
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.match(replaced.stdout, /^replaced secret cli-token/);
  const listed = await json<{ secrets: Array<{ name: string; description: string }> }>(['secrets', 'list']);
  assert.deepEqual(listed.secrets.map((s) => [s.name, s.description]), [['cli-token', 'from the CLI']]);
  const table = await cli(['secrets', 'list']);
  assert.match(table.stdout, /^NAME\s+DESCRIPTION\s+UPDATED\s+BY\s+KEY\n/);
  assert.ok(table.stdout.includes('cli-token'));

  assert.equal((await cli(['secrets', 'set', 'no-value'])).code, 2, 'no terminal and no --value-stdin is a usage error');
  assert.equal((await cli(['secrets', 'set', 'bad name', '--value-stdin'], { input: 'x-value' })).code, 2, 'a bad name is refused by the server: 400');
  assert.equal((await cli(['secrets', 'delete', 'cli-token'])).code, 0);
  const missing = await cli(['secrets', 'delete', 'cli-token']);
  assert.equal(missing.code, 4);
  assert.match(missing.stderr, /SECRET_NOT_FOUND/);
});

test("a job referencing a secret runs on the server's worker with the value, and every output shows [secret]", async () => {
  let received: string | undefined;
  const echo = createServer((req, res) => {
    received = req.headers.authorization;
    res.end(`you sent ${req.headers.authorization ?? ''}`);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  try {
    await json(['secrets', 'set', 'hook-token', '--value-stdin'], { input: VALUE });
    const url = `http://127.0.0.1:${(echo.address() as AddressInfo).port}/hook`;
    const payload = JSON.stringify({ url, headers: { authorization: { $secret: 'hook-token' } } });
    const run = await cli(['jobs', 'submit', '--task', 'http', '--payload', payload, '--watch', '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(received, VALUE);
    const job = JSON.parse(run.stdout.split('\n')[0]!) as { id: string };
    const { rows } = await db.pool.query<{ payload: unknown }>(`SELECT payload FROM jobplane.jobs WHERE id = $1`, [job.id]);
    assert.deepEqual(rows[0]!.payload, JSON.parse(payload), 'the stored job keeps the reference');
    const stored = await json<{ status: string; result: { body: string } }>(['jobs', 'get', job.id]);
    assert.equal(stored.status, 'completed');
    assert.equal(stored.result.body, 'you sent [secret]');
    const unknown = await cli(['jobs', 'submit', '--task', 'http', '--payload', JSON.stringify({ url, headers: { authorization: { $secret: 'nope' } } }), '--watch', '--json']);
    // Refused at submit (6, 422 SECRET_REFERENCE_UNKNOWN) once the submit path checks references; else the job fails (10).
    assert.ok([6, 10].includes(unknown.code), `exit ${unknown.code}: ${unknown.stderr}`);
  } finally {
    echo.close();
  }
});

test('after a key rotation, secrets rewrap moves every secret to the active key and then reports 0 left', async () => {
  const env = { DATABASE_URL: db.url, JOBPLANE_SECRETS_KEYS: `${NEW},${OLD}`, LOG_LEVEL: 'warn' };
  const first = await json<{ activeKey: string; moved: number; left: number }>(['secrets', 'rewrap'], { env });
  assert.deepEqual(first, { activeKey: 'k-new', moved: 1, left: 0, leftByKey: {} });
  const second = await cli(['secrets', 'rewrap'], { env });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /^moved 0 secrets to key "k-new"; 0 left under other keys/);
  const listed = await json<{ secrets: Array<{ name: string; keyId: string }> }>(['secrets', 'list']);
  assert.deepEqual(listed.secrets.map((s) => s.keyId), ['k-new']);
  const stale = await json<{ left: number; leftByKey: Record<string, number> }>(['secrets', 'rewrap'], { env: { ...env, JOBPLANE_SECRETS_KEYS: OLD } });
  assert.deepEqual([stale.left, stale.leftByKey], [1, { 'k-new': 1 }], 'a process without the new key reports what it cannot move');
});

test('no value appears in any CLI output or in the server log', () => {
  assert.ok(outputs.length > 10);
  for (const text of [...outputs, server.output.join('\n')]) assert.ok(!text.includes(VALUE), text.slice(0, 300));
});
