/**
 * `jobplane users reset-password USERNAME`: recovery of a lost password straight on the database
 * (no API, no login). It sets the password, ends the user's sessions, clears its login lock,
 * writes an audit entry with actor `cli` and prints one line.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { DEFAULT_TENANT_ID } from '../../src/core/tenants.js';
import { listAudit, verifyAudit } from '../../src/engine/audit.js';
import { createIdentity } from '../../src/engine/auth/index.js';
import { testDatabase } from '../helpers/db.js';

const OLD_PASSWORD = 'the-old-admin-password-1';
const NEW_PASSWORD = 'a-brand-new-admin-password-2';
const db = await testDatabase();
const identity = createIdentity({ pool: db.pool });
await identity.bootstrap({ adminPassword: OLD_PASSWORD });

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `jobplane users reset-password …` on the test database; stdin is a pipe (not a terminal). */
function reset(args: string[], input?: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['bin/jobplane.js', 'users', 'reset-password', ...args],
      // No JOBPLANE_URL or token: the command must not need the API.
      { env: { ...process.env, DATABASE_URL: db.url, JOBPLANE_URL: 'http://127.0.0.1:9', JOBPLANE_TOKEN: '', NO_COLOR: '1', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input ?? '');
  });
}

async function loginFails(password: string, ip: string): Promise<string> {
  try {
    await identity.login('admin', password, { ip });
  } catch (error) {
    return (error as { code: string }).code;
  }
  throw new Error('the login succeeded');
}

test('users reset-password sets the password, ends every session, clears the login lock, audits it as cli and prints one line', async () => {
  const session = await identity.login('admin', OLD_PASSWORD, { ip: '198.51.100.1' });
  assert.equal((await identity.authenticate(session.accessToken)).kind, 'user');
  // Lock the account out from one address by guessing.
  const attacker = '203.0.113.7';
  let locked = false;
  for (let i = 0; i < 20 && !locked; i++) locked = (await loginFails('wrong guess password', attacker)) === 'RATE_LIMITED';
  assert.ok(locked, 'the guesses locked the account at that address');
  // The first locks last a second or two; make this one last as long as the longest could.
  await db.pool.query(`UPDATE jobplane.login_attempts SET locked_until = now() + interval '15 minutes' WHERE key = $1`, [`ua:${attacker}|admin`]);
  assert.equal(await loginFails(OLD_PASSWORD, attacker), 'RATE_LIMITED', 'even the right password is refused from there');
  await identity.flush();

  const run = await reset(['admin', '--password-stdin'], `${NEW_PASSWORD}\n`);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trimEnd().split('\n').length, 1, run.stdout);
  assert.match(run.stdout, /password of admin reset/);

  // The new password works at once, even from the address that was locked out.
  const fresh = await identity.login('admin', NEW_PASSWORD, { ip: attacker });
  assert.ok(fresh.accessToken);
  assert.equal(await loginFails(OLD_PASSWORD, '198.51.100.2'), 'INVALID_CREDENTIALS');
  // The old sessions are over: the access token and the refresh token.
  await assert.rejects(identity.authenticate(session.accessToken), { code: 'TOKEN_INVALID' });
  await assert.rejects(identity.refresh(session.refreshToken), { code: 'TOKEN_INVALID' });

  const page = await listAudit(db.pool, DEFAULT_TENANT_ID, { action: 'user.password_reset', limit: 10 });
  const entries = page.entries.filter((e) => e.action === 'user.password_reset');
  assert.equal(entries.length, 1);
  assert.equal(entries[0]!.actor, 'cli');
  assert.equal(entries[0]!.targetId, fresh.user.id);
  assert.ok(!JSON.stringify(entries[0]).includes(NEW_PASSWORD), 'the password is not in the audit log');
  assert.equal((await verifyAudit(db.pool, DEFAULT_TENANT_ID)).ok, true);
});

test('users reset-password --json prints one JSON document about the user', async () => {
  const run = await reset(['admin', '--password-stdin', '--json'], `${NEW_PASSWORD}-again\n`);
  assert.equal(run.code, 0, run.stderr);
  const answer = JSON.parse(run.stdout) as { username: string; tenantId: string; sessionsRevoked: boolean };
  assert.equal(answer.username, 'admin');
  assert.equal(answer.tenantId, DEFAULT_TENANT_ID);
  assert.equal(answer.sessionsRevoked, true);
  assert.ok(await identity.login('admin', `${NEW_PASSWORD}-again`, { ip: '198.51.100.3' }));
});

test('without a terminal and without --password-stdin, users reset-password exits 2 with a clear error and changes nothing', async () => {
  const run = await reset(['admin'], `${NEW_PASSWORD}-ignored\n`);
  assert.equal(run.code, 2);
  assert.equal(run.stdout, '');
  assert.match(run.stderr, /^error: .*--password-stdin/);
  assert.equal(run.stderr.trimEnd().split('\n').length, 1);
  assert.equal(await loginFails(`${NEW_PASSWORD}-ignored`, '198.51.100.4'), 'INVALID_CREDENTIALS');
});

test('users reset-password refuses a short password (exit 2), an unknown user (exit 4) and a missing username (exit 2)', async () => {
  const short = await reset(['admin', '--password-stdin'], 'short\n');
  assert.equal(short.code, 2);
  assert.match(short.stderr, /^error: the new password is refused/);
  const unknown = await reset(['nobody-here', '--password-stdin'], `${NEW_PASSWORD}\n`);
  assert.equal(unknown.code, 4, unknown.stderr);
  assert.match(unknown.stderr, /no user "nobody-here"/);
  const missing = await reset(['--password-stdin'], `${NEW_PASSWORD}\n`);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /missing USERNAME/);
});

test('users reset-password --help explains the command and jobplane users --help lists it', async () => {
  const help = await reset(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--password-stdin/);
  assert.match(help.stdout, /DATABASE_URL/);
  const group = await new Promise<string>((resolve) => execFile(process.execPath, ['bin/jobplane.js', 'users', '--help'], (_e, stdout) => resolve(stdout)));
  assert.match(group, /users reset-password/);
});
