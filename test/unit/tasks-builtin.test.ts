import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isAppError, PermanentError } from '../../src/errors/index.js';
import {
  BUILTIN_TASK_NAMES,
  builtinTasks,
  DEFAULT_BUILTIN_TASK_OPTIONS,
  noopTask,
  resolveBuiltinTaskOptions,
  sleepTask,
} from '../../src/worker/tasks/index.js';
import { fakeJobContext } from '../helpers/fake-job-context.js';

test('builtinTasks returns a handler for each requested built-in and nothing else', () => {
  const tasks = builtinTasks(['http', 'fibonacci', 'sleep', 'noop']);
  assert.deepEqual(Object.keys(tasks).sort(), ['fibonacci', 'http', 'noop', 'sleep']);
  assert.deepEqual(Object.keys(builtinTasks([])), []);
  assert.deepEqual([...BUILTIN_TASK_NAMES], ['http', 'fibonacci', 'sleep', 'noop', 'shell']);
});

test('unknown task names are refused together with VALIDATION_FAILED', () => {
  assert.throws(() => builtinTasks(['noop', 'email', 'ftp']), (error) => {
    assert.ok(isAppError(error, 'VALIDATION_FAILED'));
    assert.deepEqual(error.errors.map((problem) => problem.pointer), ['/1', '/2']);
    return true;
  });
});

test('defaults are the safe ones and overrides do not change them', () => {
  assert.equal(DEFAULT_BUILTIN_TASK_OPTIONS.http.allowPrivateNetworks, false);
  assert.deepEqual(DEFAULT_BUILTIN_TASK_OPTIONS.http.allowedHosts, []);
  assert.equal(DEFAULT_BUILTIN_TASK_OPTIONS.http.maxResponseBytes, 65_536);
  assert.equal(DEFAULT_BUILTIN_TASK_OPTIONS.http.defaultTimeoutMs, 30_000);
  assert.equal(DEFAULT_BUILTIN_TASK_OPTIONS.http.maxRedirects, 5);
  assert.equal(DEFAULT_BUILTIN_TASK_OPTIONS.shell.enabled, false);
  assert.equal(DEFAULT_BUILTIN_TASK_OPTIONS.shell.maxOutputBytes, 65_536);
  assert.equal(DEFAULT_BUILTIN_TASK_OPTIONS.fibonacci.maxN, 100_000);
  const resolved = resolveBuiltinTaskOptions({ http: { allowedHosts: ['127.0.0.1/32'] }, fibonacci: { maxN: 5 } });
  resolved.http.allowedHosts.push('10.0.0.0/8');
  assert.deepEqual(resolved.http.allowedHosts, ['127.0.0.1/32', '10.0.0.0/8']);
  assert.equal(resolved.http.maxRedirects, 5);
  assert.deepEqual(DEFAULT_BUILTIN_TASK_OPTIONS.http.allowedHosts, []);
  assert.ok(Object.isFrozen(DEFAULT_BUILTIN_TASK_OPTIONS.http));
});

test('noop returns null synchronously, from one shared handler', () => {
  const first = builtinTasks(['noop']).noop;
  assert.equal(first, noopTask);
  assert.equal(builtinTasks(['noop']).noop, noopTask);
  assert.equal(noopTask({ anything: true }, fakeJobContext().ctx), null);
});

test('sleep resolves with null after the requested time', async () => {
  const started = performance.now();
  assert.equal(await sleepTask()({ ms: 30 }, fakeJobContext().ctx), null);
  assert.ok(performance.now() - started >= 29);
});

test('aborting a day-long sleep rejects at once with the abort reason', async () => {
  const fake = fakeJobContext();
  const sleeping = sleepTask()({ ms: 86_400_000 }, fake.ctx);
  const reason = fake.abort('shutdown');
  await assert.rejects(sleeping, (error) => error === reason);
});

test('sleep on an already aborted job rejects without waiting', async () => {
  const fake = fakeJobContext();
  const reason = fake.abort('timeout');
  await assert.rejects(sleepTask()({ ms: 60_000 }, fake.ctx), (error) => error === reason);
});

test('an invalid sleep payload fails permanently', async () => {
  for (const payload of [{ ms: -1 }, { ms: 86_400_001 }, { ms: 'soon' }, null]) {
    await assert.rejects(sleepTask()(payload, fakeJobContext().ctx), PermanentError);
  }
});
