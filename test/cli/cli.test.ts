/**
 * The `jobplane` binary against a real server process: every command group through `--json`,
 * stored credentials, and the exit codes scripts rely on.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { testDatabase } from '../helpers/db.js';
import { startJobplaneProcess, type JobplaneProcess } from '../helpers/jobplane-process.js';

const ADMIN_PASSWORD = 'cli-test-admin-password-42';
const db = await testDatabase();
let server: JobplaneProcess;
let adminHome: string;
const homes: string[] = [];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `node bin/jobplane.js …` with its own config dir; never throws on a non-zero exit. */
function cli(args: string[], options: { home?: string; input?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['bin/jobplane.js', ...args],
      { env: { ...process.env, JOBPLANE_URL: server.url, XDG_CONFIG_HOME: options.home ?? adminHome, NO_COLOR: '1', JOBPLANE_TOKEN: '', ...options.env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}

/** Run and parse the one JSON document on stdout, asserting exit 0. */
async function json<T = Record<string, unknown>>(args: string[], options: Parameters<typeof cli>[1] = {}): Promise<T> {
  const run = await cli([...args, '--json'], options);
  assert.equal(run.code, 0, `jobplane ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

async function home(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'jobplane-cli-'));
  homes.push(dir);
  return dir;
}

before(async () => {
  server = db.track(await startJobplaneProcess({ DATABASE_URL: db.url, JOBPLANE_ADMIN_PASSWORD: ADMIN_PASSWORD }));
  adminHome = await home();
});

after(async () => {
  await Promise.all(homes.map((h) => rm(h, { recursive: true, force: true })));
});

test('login with --password-stdin stores the session with mode 0600 and later commands use it', async () => {
  const me = await json<{ username: string; role: string }>(['login', '--username', 'admin', '--password-stdin'], { input: `${ADMIN_PASSWORD}\n` });
  assert.equal(me.username, 'admin');
  const file = join(adminHome, 'jobplane', 'credentials.json');
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.equal((await stat(join(adminHome, 'jobplane'))).mode & 0o777, 0o700);
  const stored = JSON.parse(await readFile(file, 'utf8')) as { server: string; refreshToken: string };
  assert.equal(stored.server, server.url);
  assert.ok(stored.refreshToken.length > 10);
  const whoami = await json<{ username: string }>(['whoami']);
  assert.equal(whoami.username, 'admin');
});

test('an expired access token is refreshed and the rotated refresh token saved, still mode 0600', async () => {
  const file = join(adminHome, 'jobplane', 'credentials.json');
  const before = JSON.parse(await readFile(file, 'utf8')) as Record<string, string>;
  await writeFile(file, JSON.stringify({ ...before, accessExpiresAt: '2000-01-01T00:00:00Z' }), { mode: 0o600 });
  const me = await json<{ username: string }>(['whoami']);
  assert.equal(me.username, 'admin');
  const after = JSON.parse(await readFile(file, 'utf8')) as Record<string, string>;
  assert.notEqual(after.refreshToken, before.refreshToken, 'the refresh token rotated');
  assert.ok(Date.parse(after.accessExpiresAt ?? '') > Date.now());
  assert.equal((await stat(file)).mode & 0o777, 0o600);
});

test('a wrong password exits 5 and stores nothing', async () => {
  const dir = await home();
  const run = await cli(['login', '--username', 'admin', '--password-stdin'], { home: dir, input: 'wrong-password' });
  assert.equal(run.code, 5);
  assert.match(run.stderr, /^error: .+\(\w+\)/);
  await assert.rejects(stat(join(dir, 'jobplane', 'credentials.json')));
});

test('jobs submit, list, get, reschedule, cancel, retry and logs answer with the API documents', async () => {
  const later = new Date(Date.now() + 3_600_000).toISOString();
  const job = await json<{ id: string; status: string; task: string; priority: number }>(['jobs', 'submit', '--task', 'noop', '--run-at', later, '--priority', '3', '--payload', '{"a":1}']);
  assert.equal(job.task, 'noop');
  assert.equal(job.status, 'queued');
  assert.equal(job.priority, 3);

  const page = await json<{ jobs: Array<{ id: string }>; nextCursor: string | null }>(['jobs', 'list', '--task', 'noop', '--status', 'queued']);
  assert.ok(page.jobs.some((j) => j.id === job.id));

  const got = await json<{ id: string; payload: unknown }>(['jobs', 'get', job.id]);
  assert.deepEqual(got.payload, { a: 1 });

  const moved = await json<{ priority: number; runAt: string }>(['jobs', 'reschedule', job.id, '--priority', '7']);
  assert.equal(moved.priority, 7);

  const cancelled = await json<{ status: string }>(['jobs', 'cancel', job.id]);
  assert.equal(cancelled.status, 'cancelled');

  const again = await json<{ status: string }>(['jobs', 'retry', job.id, '--run-at', later]);
  assert.equal(again.status, 'queued');

  const logs = await json<{ lines: unknown[] }>(['jobs', 'logs', job.id]);
  assert.deepEqual(logs.lines, []);

  const table = await cli(['jobs', 'list', '--task', 'noop']);
  assert.equal(table.code, 0);
  assert.match(table.stdout, /^ID\s+STATUS\s+TASK\s+QUEUE\s+ATTEMPT\s+CREATED\n/);
  assert.ok(table.stdout.includes(job.id));
  assert.ok(!table.stdout.includes('\u001b['), 'no colour codes with NO_COLOR and no TTY');
});

test('jobs submit --watch follows a short job to completion and exits 0, and cancelling it afterwards exits 6', async () => {
  const run = await cli(['jobs', 'submit', '--task', 'sleep', '--payload', '{"ms": 300}', '--watch', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id?: string; type?: string; data?: { status?: string } });
  assert.ok(lines[0]?.id, 'the first line is the submitted job');
  assert.equal((lines.at(-1) as { status?: string } | undefined)?.status, 'completed', 'the last line is the finished job');
  const late = await cli(['jobs', 'cancel', lines[0]?.id ?? '']);
  assert.equal(late.code, 6, 'a finished job cannot be cancelled: conflict');
  assert.match(late.stderr, /\(JOB_NOT_CANCELLABLE\)/);
});

test('jobs watch exits 10 when the job fails by timeout', async () => {
  const job = await json<{ id: string }>(['jobs', 'submit', '--task', 'sleep', '--payload', '{"ms": 5000}', '--timeout', '50ms', '--max-attempts', '1']);
  const run = await cli(['jobs', 'watch', job.id]);
  assert.equal(run.code, 10, run.stderr);
  assert.match(run.stdout, /failed/);
});

test('jobs watch exits 11 for a cancelled job', async () => {
  const job = await json<{ id: string }>(['jobs', 'submit', '--task', 'noop', '--delay', '1h']);
  await json(['jobs', 'cancel', job.id]);
  const run = await cli(['jobs', 'watch', job.id]);
  assert.equal(run.code, 11, run.stderr);
});

test('schedules create, preview, pause, resume and trigger', async () => {
  const schedule = await json<{ id: string; name: string; paused: boolean; describe: string }>(['schedules', 'create', '--name', 'cli-nightly', '--cron', '0 3 * * *', '--timezone', 'Europe/Paris', '--task', 'noop']);
  assert.equal(schedule.name, 'cli-nightly');
  const preview = await json<{ fireTimes: string[]; describe: string }>(['schedules', 'preview', schedule.id, '--count', '3']);
  assert.equal(preview.fireTimes.length, 3);
  assert.ok(preview.describe.length > 0);
  const adHoc = await json<{ fireTimes: string[]; timezone: string }>(['schedules', 'preview', '--cron', '*/15 * * * *', '--count', '4']);
  assert.equal(adHoc.fireTimes.length, 4);
  const human = await cli(['schedules', 'preview', '--every', '5m', '--count', '2']);
  assert.equal(human.code, 0, human.stderr);
  assert.equal(human.stdout.trim().split('\n').length, 3, 'the words, then two fire times');
  assert.equal((await json<{ paused: boolean }>(['schedules', 'pause', schedule.id])).paused, true);
  assert.equal((await json<{ paused: boolean }>(['schedules', 'resume', schedule.id])).paused, false);
  const fired = await json<{ jobId: string }>(['schedules', 'trigger', schedule.id]);
  const job = await json<{ scheduleId: string }>(['jobs', 'get', fired.jobId]);
  assert.equal(job.scheduleId, schedule.id);
  const list = await json<{ schedules: Array<{ id: string }> }>(['schedules', 'list']);
  assert.ok(list.schedules.some((s) => s.id === schedule.id));
});

test('queues pause and resume, queues list and workers list', async () => {
  assert.equal((await json<{ paused: boolean }>(['queues', 'pause', 'cli-queue'])).paused, true);
  const queues = await json<{ queues: Array<{ name: string; paused: boolean }> }>(['queues', 'list']);
  assert.equal(queues.queues.find((q) => q.name === 'cli-queue')?.paused, true);
  assert.equal((await json<{ paused: boolean }>(['queues', 'resume', 'cli-queue'])).paused, false);
  const workers = await json<{ workers: unknown[] }>(['workers', 'list']);
  assert.ok(workers.workers.length >= 1, 'the server runs a worker');
});

test('keys create prints the key once; an API key login works until it is revoked', async () => {
  const plain = await cli(['keys', 'create', '--name', 'cli-script', '--scope', 'jobs:read,jobs:write']);
  assert.equal(plain.code, 0, plain.stderr);
  const secret = plain.stdout.trim();
  assert.ok(secret.length > 20 && !secret.includes(' '), 'stdout is the key alone when not a terminal');
  assert.match(plain.stderr, /shown once/);

  const listed = await cli(['keys', 'list']);
  assert.ok(!listed.stdout.includes(secret), 'keys list never shows a secret');

  const dir = await home();
  const me = await json<{ kind: string }>(['login', '--api-key-stdin'], { home: dir, input: secret });
  assert.equal(me.kind, 'key');
  await json(['jobs', 'list', '--limit', '1'], { home: dir });

  const keys = await json<{ keys: Array<{ id: string; name: string }> }>(['keys', 'list']);
  const id = keys.keys.find((k) => k.name === 'cli-script')?.id;
  assert.ok(id);
  await json(['keys', 'revoke', id]);
  const refused = await cli(['jobs', 'list'], { home: dir });
  assert.equal(refused.code, 5);
});

test('users create makes a viewer who may read but whose cancel exits 5', async () => {
  const user = await json<{ id: string; role: string }>(['users', 'create', '--username', 'cli-viewer', '--role', 'viewer', '--password-stdin'], { input: 'viewer-password-123' });
  assert.equal(user.role, 'viewer');
  const users = await json<{ users: Array<{ username: string }> }>(['users', 'list']);
  assert.ok(users.users.some((u) => u.username === 'cli-viewer'));

  const job = await json<{ id: string }>(['jobs', 'submit', '--task', 'noop', '--delay', '1h']);
  const dir = await home();
  await json(['login', '--username', 'cli-viewer', '--password-stdin'], { home: dir, input: 'viewer-password-123' });
  await json(['jobs', 'get', job.id], { home: dir });
  const run = await cli(['jobs', 'cancel', job.id], { home: dir });
  assert.equal(run.code, 5);
  assert.match(run.stderr, /^error: .+\([A-Z_]+\)\n$/);
  assert.equal(run.stdout, '');
});

test('passwd needs the current password and ends the stored session; an ordinary admin cannot touch the superadmin', async () => {
  await json(['users', 'create', '--username', 'cli-pat', '--role', 'admin', '--password-stdin'], { input: 'pat-password-1234' });
  const dir = await home();
  await json(['login', '--username', 'cli-pat', '--password-stdin'], { home: dir, input: 'pat-password-1234' });
  const wrong = await cli(['passwd', '--password-stdin'], { home: dir, input: 'not-my-password\npat-new-password\n' });
  assert.equal(wrong.code, 5);
  assert.match(wrong.stderr, /\(CURRENT_PASSWORD_INVALID\)/);
  // The superadmin is out of this admin's reach.
  const users = await json<{ users: Array<{ id: string; username: string }> }>(['users', 'list'], { home: dir });
  const root = users.users.find((u) => u.username === 'admin')!;
  const takeover = await cli(['users', 'update', root.id, '--password-stdin'], { home: dir, input: 'attacker-password-1' });
  assert.equal(takeover.code, 5);
  assert.match(takeover.stderr, /\(TARGET_MORE_PRIVILEGED\)/);
  const grant = await cli(['users', 'update', users.users.find((u) => u.username === 'cli-pat')!.id, '--grant-superadmin'], { home: dir });
  assert.match(grant.stderr, /\(FORBIDDEN\)/);
  const changed = await json<{ passwordChanged: boolean }>(['passwd', '--password-stdin'], { home: dir, input: 'pat-password-1234\npat-new-password\n' });
  assert.equal(changed.passwordChanged, true);
  await assert.rejects(stat(join(dir, 'jobplane', 'credentials.json')), 'the stored session is gone');
  await json(['login', '--username', 'cli-pat', '--password-stdin'], { home: dir, input: 'pat-new-password' });
});

test('tenants create makes a tenant whose admin sees only it; tenants commands need a superadmin', async () => {
  const created = await json<{ tenant: { id: string; slug: string }; admin: { username: string; tenantId: string } }>(
    ['tenants', 'create', '--slug', 'cli-acme', '--name', 'CLI Acme', '--admin', 'cli-acme-admin', '--password-stdin'],
    { input: 'cli acme admin password' },
  );
  assert.equal(created.admin.tenantId, created.tenant.id);
  const listed = await json<{ tenants: Array<{ slug: string; users: number }> }>(['tenants', 'list']);
  assert.deepEqual(listed.tenants.find((t) => t.slug === 'cli-acme')?.users, 1);

  const dir = await home();
  await json(['login', '--username', 'cli-acme-admin', '--password-stdin'], { home: dir, input: 'cli acme admin password' });
  assert.deepEqual((await json<{ jobs: unknown[] }>(['jobs', 'list'], { home: dir })).jobs, [], "none of the default tenant's jobs");
  const refused = await cli(['tenants', 'list'], { home: dir });
  assert.equal(refused.code, 5, 'a tenant admin is not a superadmin');
  const again = await cli(['tenants', 'create', '--slug', 'cli-acme', '--name', 'Again', '--admin', 'someone-else', '--password-stdin'], { input: 'another password 123' });
  assert.equal(again.code, 6);
  assert.match(again.stderr, /TENANT_SLUG_TAKEN/);
});

test('audit list shows what the CLI did', async () => {
  const page = await json<{ entries: Array<{ action: string }> }>(['audit', 'list', '--limit', '50']);
  assert.ok(page.entries.length > 0);
  assert.ok(page.entries.some((e) => e.action.includes('key')), 'the key created above is audited');
});

test('an unknown job exits 4 with one clear line on stderr', async () => {
  const run = await cli(['jobs', 'get', '00000000-0000-4000-8000-000000000000', '--json']);
  assert.equal(run.code, 4);
  assert.equal(run.stdout, '');
  assert.match(run.stderr, /^error: .*\(JOB_NOT_FOUND\)\n$/);
});

test('bad flags and unknown commands exit 2', async () => {
  assert.equal((await cli(['jobs', 'submit', '--task', 'noop', '--nope'])).code, 2);
  assert.equal((await cli(['jobs', 'submit'])).code, 2, '--task is required');
  assert.equal((await cli(['jobs', 'submit', '--task', 'noop', '--delay', 'soon'])).code, 2, 'not a duration (a bare number would be milliseconds)');
  assert.equal((await cli(['jobs', 'frobnicate'])).code, 2);
  assert.equal((await cli(['jobs', 'get'])).code, 2, 'missing ID');
  const help = await cli(['jobs', 'submit', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Examples:/);
});

test('an unreachable server exits 1 and says which address it tried', async () => {
  const run = await cli(['jobs', 'list', '--server', 'http://127.0.0.1:9', '--json']);
  assert.equal(run.code, 1);
  assert.equal(run.stdout, '');
  assert.match(run.stderr, /^error: cannot reach the server at http:\/\/127\.0\.0\.1:9/);
});

test('start on a port that is taken exits 1 and names the port and the setting to change', async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as AddressInfo).port;
  try {
    const run = await cli(['start', '--role', 'worker', '--ops-port', String(port), '--database-url', db.url], { env: { LOG_LEVEL: 'error' } });
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`^error: 127\\.0\\.0\\.1:${port} is already in use .*--ops-port / JOBPLANE_OPS_PORT`, 'm'));
    assert.doesNotMatch(run.stderr, /at Server\.setupListenHandle/, 'no stack trace');
  } finally {
    taken.close();
  }
});

test('logout removes the stored credentials', async () => {
  const dir = await home();
  await json(['login', '--username', 'admin', '--password-stdin'], { home: dir, input: ADMIN_PASSWORD });
  const out = await json<{ loggedOut: boolean }>(['logout'], { home: dir });
  assert.equal(out.loggedOut, true);
  await assert.rejects(stat(join(dir, 'jobplane', 'credentials.json')));
  assert.equal((await cli(['jobs', 'list'], { home: dir })).code, 5, 'no credentials: not authenticated');
});
