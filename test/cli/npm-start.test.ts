/**
 * `npm start` is how README runs Jobplane, and how containers and process managers stop it is
 * SIGTERM to that process. npm runs the script through `sh -c`; unless the script `exec`s node, the
 * signal stops npm and the shell and leaves the server running, orphaned.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { testDatabase } from '../helpers/db.js';
import { isAlive } from '../helpers/processes.js';
import { eventually } from '../helpers/wait.js';

const db = await testDatabase();


test('the start script execs node, so the signal npm forwards reaches the server itself', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.start, 'exec node bin/jobplane.js start');
});

test('SIGTERM to `npm start` stops the jobplane server it started', { timeout: 120_000 }, async () => {
  const npm = spawn('npm', ['start', '--silent', '--', '--port', '0', '--role', 'api,scheduler'], {
    cwd: new URL('../..', import.meta.url),
    env: { ...process.env, DATABASE_URL: db.url, JOBPLANE_ADMIN_PASSWORD: 'npm-start-admin-password', LOG_FORMAT: 'json', LOG_LEVEL: 'info', JOBPLANE_HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const output: string[] = [];
  let serverPid: number | null = null;
  try {
    serverPid = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm start was not running within 90 s:\n${output.join('\n')}`)), 90_000);
      createInterface({ input: npm.stdout }).on('line', (line) => {
        output.push(line);
        if (line.includes('"jobplane is running')) {
          clearTimeout(timer);
          resolve((JSON.parse(line) as { pid: number }).pid);
        }
      });
      npm.once('exit', () => {
        clearTimeout(timer);
        reject(new Error(`npm start exited:\n${output.join('\n')}`));
      });
    });
    assert.ok(isAlive(serverPid));
    const npmExited = new Promise<void>((resolve) => npm.once('exit', () => resolve()));
    npm.kill('SIGTERM');
    const pid = serverPid;
    await eventually(() => Promise.resolve(!isAlive(pid)), 30_000, 100).catch(() => assert.fail(`the server (pid ${pid}) still runs 30 s after SIGTERM to npm start`));
    await npmExited;
    assert.ok(output.some((line) => line.includes('stopping gracefully')), 'the server stopped gracefully, not killed');
  } finally {
    if (serverPid !== null && isAlive(serverPid)) process.kill(serverPid, 'SIGKILL');
    if (npm.exitCode === null && npm.signalCode === null) npm.kill('SIGKILL');
  }
});
