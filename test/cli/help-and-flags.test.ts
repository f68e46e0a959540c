/**
 * The CLI's own help and flag handling, without a server: `jobplane start --help` lists every
 * flag its parser accepts (and docs/cli.md does too), and an unknown flag gets one clear line and
 * exit code 2 instead of Node's parseArgs message.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseLocalFlags } from '../../src/cli/commands/local.js';
import { SETTINGS, type Setting } from '../../src/config/settings.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['bin/jobplane.js', ...args], { env: { ...process.env, NO_COLOR: '1', JOBPLANE_TOKEN: '' }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}

/** The flags `jobplane start` parses: every setting with a flag (the table its parser is built from). */
const START_FLAGS = (SETTINGS as readonly Setting[]).flatMap((s) => (s.flag ? [s.flag] : []));

test('jobplane start --help lists every flag the start parser accepts, and docs/cli.md names each one', async () => {
  const help = await cli(['start', '--help']);
  assert.equal(help.code, 0, help.stderr);
  const docs = readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8');
  assert.ok(START_FLAGS.length >= 14, `only ${START_FLAGS.length} flags`);
  for (const flag of START_FLAGS) {
    assert.match(help.stdout, new RegExp(`^  ${flag}\\b`, 'm'), `${flag} missing from jobplane start --help`);
    assert.ok(docs.includes(`\`${flag}`), `${flag} missing from docs/cli.md`);
    // The parser really takes it (a value for string flags).
    const setting = (SETTINGS as readonly Setting[]).find((s) => s.flag === flag)!;
    assert.doesNotThrow(() => parseLocalFlags(setting.type === 'boolean' ? [flag] : [flag, '1']), flag);
  }
  for (const flag of ['--host', '--concurrency', '--queues', '--tasks', '--zone', '--log-level', '--ops-port']) {
    assert.ok(help.stdout.includes(flag), `${flag} missing from jobplane start --help`);
  }
});

test('every flag listed in jobplane start --help is one the start parser accepts', async () => {
  const help = await cli(['start', '--help']);
  const listed = [...help.stdout.matchAll(/^ {2}(?:-h, )?(--[a-z-]+)/gm)].map((m) => m[1]!);
  assert.ok(listed.length > START_FLAGS.length, listed.join(' '));
  for (const flag of listed) {
    const setting = (SETTINGS as readonly Setting[]).find((s) => s.flag === flag);
    assert.doesNotThrow(() => parseLocalFlags(setting === undefined || setting.type === 'boolean' ? [flag] : [flag, '1']), `${flag} is in the help but refused`);
  }
});

test('the overall help names every start flag too', async () => {
  const help = await cli(['--help']);
  assert.equal(help.code, 0);
  for (const flag of START_FLAGS) assert.ok(help.stdout.includes(flag), `${flag} missing from jobplane --help`);
});

test('an unknown flag gets one line naming the command and its --help, and exit code 2', async () => {
  for (const [args, command, flag] of [
    [['start', '--x'], 'start', '--x'],
    [['start', '--bogus=1', '--ephemeral'], 'start', '--bogus'],
    [['migrate', '-q'], 'migrate', '-q'],
    [['audit', 'verify', '--nope'], 'audit verify', '--nope'],
    [['jobs', 'list', '--x'], 'jobs list', '--x'],
    [['jobs', 'submit', '--task', 'noop', '--wach'], 'jobs submit', '--wach'],
    [['login', '--x'], 'login', '--x'],
    [['users', 'reset-password', 'admin', '--x'], 'users reset-password', '--x'],
  ] as const) {
    const run = await cli([...args]);
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr, `error: unknown option ${flag} for jobplane ${command}; see jobplane ${command} --help\n`, args.join(' '));
  }
});

test('a flag missing its value gets one line too, with exit code 2', async () => {
  const run = await cli(['start', '--port']);
  assert.equal(run.code, 2);
  assert.equal(run.stderr, 'error: option --port of jobplane start needs a value; see jobplane start --help\n');
  const api = await cli(['jobs', 'list', '--limit']);
  assert.equal(api.code, 2);
  assert.equal(api.stderr, 'error: option --limit of jobplane jobs list needs a value; see jobplane jobs list --help\n');
});
