/**
 * What a newcomer meets following the README on a fresh clone: `jobplane start` with an embedded
 * PostgreSQL, twice in one folder, on a taken port, as root in a 0700 folder, with a wrong
 * DATABASE_URL. The rule: a Jobplane process never dies with a stack trace, hangs, or hurts another
 * process; a configuration error is one clear line and exit code 2.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdir, rm, symlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { freePort } from '../helpers/jobplane-process.js';
import { entriesStartingWith, freshFolder, postgresProcessesUnder, REPO, runJobplane, type JobplaneChild } from '../helpers/newcomer.js';
import { findServer, withDatabase } from '../helpers/server.js';

const RUNNING = /"jobplane is running/;
const held: Server[] = [];
after(() => Promise.all(held.map((server) => new Promise<void>((resolve) => server.close(() => resolve())))));

/** stderr is exactly one line, with no stack trace. */
function oneLine(child: JobplaneChild): string {
  const text = child.stderr().trim();
  assert.equal(text.split('\n').length, 1, `one line on stderr, got:\n${text}`);
  assert.doesNotMatch(text, /^\s+at /m, 'no stack trace');
  return text;
}

async function ready(port: number): Promise<number> {
  return (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
}

/** A port some other program listens on, until the file ends. */
async function holdPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  held.push(server);
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return { port: address.port, server };
}

// Each test has its own folders, ports and processes: they run side by side to keep the file short.
// Three at a time: each case starts Jobplane (and most an embedded PostgreSQL) from a cold start;
// all seven at once on a loaded 2-core CI machine starved each other past their timeouts.
describe('a newcomer following the README', { concurrency: 3 }, () => {
  test('a second start in a folder whose embedded PostgreSQL is in use refuses in one line and leaves it alone; an orphan of a killed start is stopped and reused', async () => {
    const dir = await freshFolder('twice');
    const firstPort = await freePort();
    const first = runJobplane(['start', '--port', String(firstPort)], dir);
    await first.waitForLine(RUNNING);

    const second = runJobplane(['start', '--port', String(await freePort())], dir);
    assert.equal((await second.waitForExit()).code, 2);
    const line = oneLine(second);
    assert.match(line, new RegExp(`in use by a running jobplane \\(pid ${first.process.pid}`));
    assert.match(line, /--data-dir \/ JOBPLANE_DATA_DIR/);
    assert.match(line, /DATABASE_URL=postgres:\/\/postgres:<password in .*embedded\.json>@127\.0\.0\.1:\d+\/jobplane/);
    assert.equal(await ready(firstPort), 200, 'the running server still has its database');

    // A folder without the owner file (an older version's) is still recognised by its server's parent.
    await rm(join(dir.cwd, '.jobplane', 'owner.json'));
    const third = runJobplane(['start', '--port', String(await freePort())], dir);
    assert.equal((await third.waitForExit()).code, 2);
    assert.match(oneLine(third), new RegExp(`in use by a running jobplane \\(pid ${first.process.pid}`));
    assert.equal(await ready(firstPort), 200);
    assert.ok(!first.lines.some((l) => l.includes('ECONNREFUSED')), 'the first server never lost its database');

    // Its owner killed, the server is an orphan: the next start stops it and serves the same data.
    await first.kill();
    assert.equal((await postgresProcessesUnder(dir.cwd)).length, 1, 'SIGKILL leaves the server behind');
    const nextPort = await freePort();
    const next = runJobplane(['start', '--port', String(nextPort)], dir);
    await next.waitForLine(RUNNING);
    assert.ok(next.lines.some((l) => l.includes('stopping an embedded PostgreSQL left running by an earlier process')));
    assert.equal(await ready(nextPort), 200);
    await next.stop();
    assert.equal((await next.exited).code, 0);
    assert.deepEqual(await postgresProcessesUnder(dir.cwd), []);
    assert.ok(!existsSync(join(dir.cwd, '.jobplane', 'owner.json')), 'a clean stop gives the folder up');
  });

  test('start --ephemeral on a taken port says so in one line, starts nothing and leaves nothing', async () => {
    const dir = await freshFolder('port');
    const { port } = await holdPort();
    const child = runJobplane(['start', '--ephemeral', '--port', String(port)], dir);
    const { code } = await child.waitForExit();
    assert.equal(code, 1);
    assert.match(oneLine(child), new RegExp(`^error: 127\\.0\\.0\\.1:${port} is already in use .*port ${port} is taken.*--port / PORT`));
    assert.deepEqual(await entriesStartingWith(dir.tmp, 'jobplane-'), [], 'no temporary folder left');
    assert.deepEqual(await postgresProcessesUnder(dir.root), []);
  });

  test('SIGTERM while an --ephemeral start is still creating its database stops everything and removes the temporary folder', async () => {
    const dir = await freshFolder('sigterm-starting');
    const child = runJobplane(['start', '--ephemeral', '--port', String(await freePort())], { ...dir, env: { LOG_LEVEL: 'debug' } });
    // The first output of initdb: the start is under way, nothing is listening yet.
    await child.waitForLine(/"msg":"embedded postgres"/);
    assert.equal((await entriesStartingWith(dir.tmp, 'jobplane-')).length, 1);
    child.process.kill('SIGTERM');
    const { code } = await child.waitForExit();
    assert.equal(code, 130);
    assert.ok(!child.lines.some((l) => RUNNING.test(l)));
    assert.deepEqual(await entriesStartingWith(dir.tmp, 'jobplane-'), [], 'temporary folder removed');
    assert.deepEqual(await postgresProcessesUnder(dir.root), []);
    assert.doesNotMatch(child.stderr(), /^\s+at /m);
  });

  test('SIGTERM after an --ephemeral start stops gracefully and removes the temporary folder', async () => {
    const dir = await freshFolder('sigterm-running');
    const child = runJobplane(['start', '--ephemeral', '--port', String(await freePort())], dir);
    await child.waitForLine(RUNNING);
    child.process.kill('SIGTERM');
    assert.equal((await child.waitForExit()).code, 0);
    assert.deepEqual(await entriesStartingWith(dir.tmp, 'jobplane-'), []);
    assert.deepEqual(await postgresProcessesUnder(dir.root), []);
  });

  const notRoot = userInfo().uid !== 0 ? 'needs root: only as root does the embedded PostgreSQL run as the separate "postgres" user' : false;

  test('as root, programs or data under a 0700 folder: one line naming the folder and what to do, exit 2, nothing left', { skip: notRoot }, async () => {
    const dir = await freshFolder('locked');
    // A clone in a folder the postgres user cannot enter (like /root): the tree is symlinked there
    // and Node keeps the symlinked paths, so the PostgreSQL programs are found under it.
    const locked = join(dir.root, 'locked');
    const clone = join(locked, 'clone');
    await mkdir(clone, { recursive: true });
    await chmod(locked, 0o700);
    for (const entry of ['bin', 'src', 'node_modules', 'package.json', 'dashboard', 'tsconfig.json']) await symlink(join(REPO, entry), join(clone, entry));
    const programs = runJobplane(['start', '--ephemeral', '--port', String(await freePort())], {
      ...dir,
      bin: join(clone, 'bin', 'jobplane.js'),
      nodeArgs: ['--preserve-symlinks', '--preserve-symlinks-main'],
    });
    // A data folder under it (cwd inside, the default ./.jobplane).
    const data = runJobplane(['start', '--port', String(await freePort())], { cwd: clone, tmp: dir.tmp });
    const [p, d] = await Promise.all([programs.waitForExit(), data.waitForExit()]);
    assert.equal(p.code, 2);
    assert.match(oneLine(programs), new RegExp(`cannot enter ${locked} \\(mode 0700\\), the folder that holds its programs.*DATABASE_URL`));
    assert.equal(d.code, 2);
    assert.match(oneLine(data), new RegExp(`cannot enter ${locked} \\(mode 0700\\), the folder that holds the data folder ${clone}/\\.jobplane.*JOBPLANE_DATA_DIR`));
    assert.ok(!existsSync(join(clone, '.jobplane')), 'the data folder it created is gone again');
    assert.deepEqual(await entriesStartingWith(dir.tmp, 'jobplane-'), [], 'no temporary folder left');
    assert.deepEqual(await entriesStartingWith(dir.tmp, 'pg-password-'), []);
    assert.deepEqual(await postgresProcessesUnder(dir.root), []);
  });

  test('DATABASE_URL that is no URL, names a missing database or a missing role: one line and exit 2, for start and migrate', async () => {
    const admin = process.env.JOBPLANE_TEST_ADMIN_URL ?? (await findServer());
    assert.ok(admin, 'a PostgreSQL for tests');
    const dir = await freshFolder('bad-url');
    const noRole = new URL(admin);
    noRole.username = 'jobplane_no_such_role';
    noRole.password = 'secret-password';
    const cases: Array<{ url: string; command: string; expect: RegExp }> = [
      { url: 'notaurl', command: 'start', expect: /^error: invalid configuration: DATABASE_URL \(--database-url\) must be a PostgreSQL URL/ },
      { url: withDatabase(admin, 'jobplane_no_such_db'), command: 'start', expect: /database "jobplane_no_such_db" does not exist\. Create that database, or fix the database name in DATABASE_URL/ },
      { url: noRole.toString(), command: 'start', expect: /refused the connection: .*(role "jobplane_no_such_role" does not exist|password authentication failed).*DATABASE_URL/ },
      { url: withDatabase(admin, 'jobplane_no_such_db'), command: 'migrate', expect: /database "jobplane_no_such_db" does not exist/ },
    ];
    const runs = await Promise.all(
      cases.map(async (c) => {
        const child = runJobplane([c.command, '--port', String(await freePort())], { ...dir, env: { DATABASE_URL: c.url } });
        return { c, child, exit: await child.waitForExit() };
      }),
    );
    for (const { c, child, exit } of runs) {
      assert.equal(exit.code, 2, `${c.command} ${c.url}: ${child.stderr()}`);
      const line = oneLine(child);
      assert.match(line, c.expect);
      assert.doesNotMatch(line, /secret-password/, 'the password is not printed');
    }
  });

  test('an unreachable database is retried with one log line per attempt and growing backoff, no stack; SIGTERM ends the wait', async () => {
    const dir = await freshFolder('unreachable');
    const dbPort = await freePort();
    const child = runJobplane(['start', '--port', String(await freePort())], { ...dir, env: { DATABASE_URL: `postgres://postgres@127.0.0.1:${dbPort}/jobplane` } });
    await child.waitForLine(/"attempt":2,.*database not reachable; not ready, retrying/);
    const retries = child.lines.filter((l) => l.includes('database not reachable')).map((l) => JSON.parse(l) as { attempt: number; retryInMs: number; err: string });
    assert.deepEqual(retries.map((r) => r.attempt), [1, 2]);
    assert.ok(retries[1]!.retryInMs > retries[0]!.retryInMs, 'backoff grows');
    assert.match(retries[0]!.err, /ECONNREFUSED/);
    child.process.kill('SIGTERM');
    assert.equal((await child.waitForExit()).code, 130);
    assert.equal(child.stderr(), '', 'nothing on stderr, no stack trace');
  });
});
