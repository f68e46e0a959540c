/**
 * A process a test starts dies with the test, however the test ends: here the "test" (a fixture
 * standing in for a test file) is SIGKILLed, as the runner does with a file past its timeout.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testDatabase } from '../helpers/db.js';
import { isAlive, startFixture } from '../helpers/processes.js';
import { eventually } from '../helpers/wait.js';

const db = await testDatabase();


test('a jobplane process started by a test stops when the test process is SIGKILLed', async () => {
  const parent = db.track(startFixture('test/fixtures/jobplane-parent.ts', { DATABASE_URL: db.url }));
  const { pid } = (await parent.waitFor((m) => m.ready === true, 60_000)) as { pid: number };
  assert.ok(isAlive(pid));
  await parent.kill();
  // Its graceful stop takes about a second; the hard exit comes 15 s after the parent went away.
  await eventually(() => Promise.resolve(!isAlive(pid)), 60_000, 100);
});

test('a started process whose main thread is stuck still dies after the test process is SIGKILLed', async () => {
  const parent = db.track(startFixture('test/fixtures/stuck-parent.ts', {}));
  const { pid } = (await parent.waitFor((m) => m.ready === true, 60_000)) as { pid: number };
  assert.ok(isAlive(pid));
  await parent.kill();
  // SIGTERM cannot stop it (its handler blocks the thread); the watchdog's SIGKILL comes 15 s after the parent went away.
  await eventually(() => Promise.resolve(!isAlive(pid)), 60_000, 100);
});
