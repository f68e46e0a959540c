/**
 * `jobplane jobs submit --watch --json` and `jobs watch --json` against a real server with a
 * worker: newline-delimited JSON whose last line is the finished job, with its result or errors,
 * as the human output ends with them.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { testDatabase } from '../helpers/db.js';
import { startJobplaneProcess, type JobplaneProcess } from '../helpers/jobplane-process.js';

const ADMIN_PASSWORD = 'watch-json-admin-password-42';
const db = await testDatabase();
let server: JobplaneProcess;
let home: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], input = ''): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['bin/jobplane.js', ...args],
      { env: { ...process.env, JOBPLANE_URL: server.url, XDG_CONFIG_HOME: home, NO_COLOR: '1', JOBPLANE_TOKEN: '' }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input);
  });
}

/** Every stdout line parsed as JSON (each must be one document). */
function lines(run: Run): Array<Record<string, unknown>> {
  const text = run.stdout.trimEnd();
  assert.notEqual(text, '', `no output; stderr: ${run.stderr}`);
  return text.split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}

before(async () => {
  server = db.track(await startJobplaneProcess({ DATABASE_URL: db.url, JOBPLANE_ADMIN_PASSWORD: ADMIN_PASSWORD }));
  home = await mkdtemp(join(tmpdir(), 'jobplane-watch-json-'));
  const login = await cli(['login', '--username', 'admin', '--password-stdin', '--json'], `${ADMIN_PASSWORD}\n`);
  assert.equal(login.code, 0, login.stderr);
});

after(async () => {
  await rm(home, { recursive: true, force: true });
});

test('jobs submit --watch --json prints the submitted job first and the completed job, with its result, last', async () => {
  const run = await cli(['jobs', 'submit', '--task', 'fibonacci', '--payload', '{"n": 10}', '--watch', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const docs = lines(run);
  const first = docs[0]!;
  const last = docs[docs.length - 1]!;
  assert.equal(first.task, 'fibonacci');
  assert.equal(last.id, first.id, 'the last line is the job, not an event');
  assert.equal(last.status, 'completed');
  assert.ok(last.result !== null && last.result !== undefined, `no result in ${JSON.stringify(last)}`);
  assert.ok(!('type' in last && 'data' in last), 'the last line is not an event');
  // Between them: the live events.
  for (const event of docs.slice(1, -1)) assert.ok(typeof event.type === 'string' && 'data' in event, JSON.stringify(event));
});

test('jobs submit --watch --json for a job that fails ends with the failed job and its errors, exit code 10', async () => {
  const run = await cli(['jobs', 'submit', '--task', 'sleep', '--payload', '{"ms": 5000}', '--timeout', '200ms', '--max-attempts', '1', '--watch', '--json']);
  assert.equal(run.code, 10, run.stderr);
  const docs = lines(run);
  const last = docs[docs.length - 1]!;
  assert.equal(last.id, docs[0]!.id);
  assert.equal(last.status, 'failed');
  assert.ok(Array.isArray(last.errors) && last.errors.length > 0, JSON.stringify(last));
});

test('jobs watch --json on a finished job ends with the job too', async () => {
  const submitted = JSON.parse((await cli(['jobs', 'submit', '--task', 'noop', '--json'])).stdout) as { id: string };
  const run = await cli(['jobs', 'watch', submitted.id, '--json']);
  assert.equal(run.code, 0, run.stderr);
  const docs = lines(run);
  const last = docs[docs.length - 1]!;
  assert.equal(last.id, submitted.id);
  assert.equal(last.status, 'completed');
  assert.ok('result' in last);
});
