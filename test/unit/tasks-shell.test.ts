import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { test } from 'node:test';
import { classifyTaskError, isAppError, PermanentError } from '../../src/errors/index.js';
import { builtinTasks, resolveBuiltinTaskOptions, shellTask, type ShellTaskOptions } from '../../src/worker/tasks/index.js';
import { fakeJobContext } from '../helpers/fake-job-context.js';

const linuxOnly = { skip: process.platform !== 'linux' ? 'needs /proc and POSIX process groups' : false };

function task(options: Partial<ShellTaskOptions> = {}) {
  return shellTask(resolveBuiltinTaskOptions({ shell: { enabled: true, killGraceMs: 200, ...options } }).shell);
}

async function rejection(promise: unknown): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Error);
    return error;
  }
  assert.fail('expected the handler to reject');
}

/** A `sleep` argument no other process on the machine uses, so /proc can find exactly our sleepers. */
function marker(): string {
  return `30.${randomInt(100_000, 999_999)}`;
}

/** Live (non-zombie) processes whose command line is `sleep <mark>`. */
function sleepers(mark: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8') !== `sleep\0${mark}\0`) continue;
      const state = readFileSync(`/proc/${entry}/stat`, 'utf8').replace(/^.*\) /s, '').charAt(0);
      if (state !== 'Z' && state !== 'X') pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/** Poll a condition that has no event to await (other processes' lifetimes), with a deadline. */
async function eventually(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await delay(10);
  }
}

test('shell metacharacters in arguments reach the program literally', async () => {
  const result = await task()({ command: ['/bin/echo', '; id', '$(id)', '`id`', 'a\nb', '|', '&&', '*'] }, fakeJobContext().ctx);
  assert.equal(result.stdout, '; id $(id) `id` a\nb | && *\n');
  assert.equal(result.exitCode, 0);
  assert.equal(result.signal, null);
  assert.equal(result.truncated, false);
});

test('the program gets only the fixed PATH and the payload env, never the worker environment', async (t) => {
  process.env.JOBPLANE_TEST_CANARY_SECRET = 'must-not-leak';
  process.env.DATABASE_URL ??= 'postgres://canary';
  t.after(() => { delete process.env.JOBPLANE_TEST_CANARY_SECRET; });
  const result = await task()({ command: ['env'], env: { FOO: 'bar' } }, fakeJobContext().ctx);
  assert.deepEqual(result.stdout.trim().split('\n').sort(), ['FOO=bar', 'PATH=/usr/local/bin:/usr/bin:/bin']);
  assert.doesNotMatch(result.stdout, /must-not-leak|DATABASE_URL/);
});

test('a PATH in the payload env does not change which program a name runs', async () => {
  const result = await task({ allowedCommands: ['echo'] })({ command: ['echo', 'safe'], env: { PATH: '/tmp' } }, fakeJobContext().ctx);
  assert.equal(result.stdout, 'safe\n');
});

test('a timeout kills the whole process group, children included, and is retryable', linuxOnly, async () => {
  const mark = marker();
  const running = rejection(task()({ command: ['/bin/sh', '-c', `sleep ${mark} & sleep ${mark}`], timeoutMs: 300 }, fakeJobContext().ctx));
  await eventually(() => sleepers(mark).length === 2, 'both sleeps run');
  const error = await running;
  assert.equal(classifyTaskError(error).kind, 'error');
  assert.match(error.message, /timed out after 300 ms/);
  await eventually(() => sleepers(mark).length === 0, 'both sleeps are gone');
});

test('children that ignore SIGTERM are SIGKILLed after the grace period', linuxOnly, async () => {
  const mark = marker();
  const running = rejection(task({ killGraceMs: 100 })({ command: ['/bin/sh', '-c', `trap "" TERM; sleep ${mark} & sleep ${mark}`], timeoutMs: 200 }, fakeJobContext().ctx));
  await eventually(() => sleepers(mark).length === 2, 'both sleeps run');
  await running;
  await eventually(() => sleepers(mark).length === 0, 'both sleeps are gone');
});

test('aborting the job kills the process group and rejects with the abort reason', linuxOnly, async () => {
  const mark = marker();
  const fake = fakeJobContext();
  const running = rejection(task()({ command: ['/bin/sh', '-c', `sleep ${mark} & sleep ${mark}`] }, fake.ctx));
  await eventually(() => sleepers(mark).length === 2, 'both sleeps run');
  const reason = fake.abort('cancelled');
  assert.equal(await running, reason);
  await eventually(() => sleepers(mark).length === 0, 'both sleeps are gone');
});

test('background children left behind by a finished program are ended too', linuxOnly, async () => {
  const mark = marker();
  const result = await task()({ command: ['/bin/sh', '-c', `sleep ${mark} >/dev/null 2>&1 & echo started`] }, fakeJobContext().ctx);
  assert.equal(result.stdout, 'started\n');
  await eventually(() => sleepers(mark).length === 0, 'the background sleep is gone');
});

test('a non-zero exit is a retryable error naming the code and the last stderr line', async () => {
  const error = await rejection(task()({ command: ['/bin/sh', '-c', 'echo first >&2; echo "the last line" >&2; exit 3'] }, fakeJobContext().ctx));
  assert.equal(classifyTaskError(error).kind, 'error');
  assert.match(error.message, /code 3: the last line$/);
});

test('output beyond maxOutputBytes is dropped per stream and marked truncated', async () => {
  const result = await task({ maxOutputBytes: 1000 })({ command: ['/bin/sh', '-c', 'yes | head -c 100000; yes e | head -c 100000 >&2'] }, fakeJobContext().ctx);
  assert.equal(result.stdout.length, 1000);
  assert.equal(result.stderr.length, 1000);
  assert.equal(result.truncated, true);
});

test('stdin is fed to the program', async () => {
  const result = await task()({ command: ['cat'], stdin: 'hello\nworld' }, fakeJobContext().ctx);
  assert.equal(result.stdout, 'hello\nworld');
});

test('without cwd the program runs in a fresh temporary directory that is removed afterwards', async () => {
  const result = await task()({ command: ['pwd'] }, fakeJobContext().ctx);
  const dir = result.stdout.trim();
  assert.ok(dir.startsWith(tmpdir()), dir);
  assert.notEqual(dir, process.cwd());
  assert.equal(existsSync(dir), false);
  const given = await task()({ command: ['pwd'], cwd: '/' }, fakeJobContext().ctx);
  assert.equal(given.stdout, '/\n');
});

test('allowedCommands admits listed names and paths and refuses everything else permanently', async () => {
  const run = task({ allowedCommands: ['echo', '/usr/bin/printf'] });
  const ctx = fakeJobContext().ctx;
  assert.equal((await run({ command: ['echo', 'ok'] }, ctx)).stdout, 'ok\n');
  assert.equal((await run({ command: ['/usr/bin/printf', 'x'] }, ctx)).stdout, 'x');
  // A name is allowed when the fixed PATH resolves it to a listed path.
  assert.equal((await run({ command: ['printf', 'y'] }, ctx)).stdout, 'y');
  for (const command of [['sh', '-c', 'id'], ['/bin/sh', '-c', 'id'], ['cat', '/etc/shadow'], ['/usr/bin/env', 'sh']]) {
    const error = await rejection(run({ command }, ctx));
    assert.ok(error instanceof PermanentError, command.join(' '));
    assert.match(error.message, /not in the allowed commands/);
  }
});

test('a missing program, a missing cwd and a bad payload fail permanently', async () => {
  const ctx = fakeJobContext().ctx;
  for (const payload of [{ command: ['no-such-program-here'] }, { command: ['pwd'], cwd: '/no/such/dir' }, { command: 'echo hi' }, { command: ['env'], env: { LD_PRELOAD: 'x' } }]) {
    const error = await rejection(task()(payload, ctx));
    assert.ok(error instanceof PermanentError, JSON.stringify(payload));
  }
});

test('the shell task cannot be built unless it is enabled', () => {
  for (const overrides of [{}, { shell: { enabled: false } }]) {
    assert.throws(() => builtinTasks(['shell'], overrides), (error) => isAppError(error, 'TASK_DISABLED'));
  }
  assert.equal(typeof builtinTasks(['shell'], { shell: { enabled: true } }).shell, 'function');
});
