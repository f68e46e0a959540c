/**
 * The `jobplane` command. Entry point: the only place (with bin/) that touches process.env,
 * process.argv, signals and the exit code. It only dispatches: local commands (start, migrate,
 * audit verify, secrets rewrap) to commands/local.ts, users reset-password to commands/recovery.ts,
 * API commands to commands/*.ts.
 */
import { parseArgs } from 'node:util';
import { AppError } from '../errors/index.js';
import type { Command } from './command.js';
import { authCommands } from './commands/auth.js';
import { auditCommands, keyCommands, tenantCommands, userCommands } from './commands/admin.js';
import { jobCommands } from './commands/jobs.js';
import { queueCommands, workerCommands } from './commands/queues.js';
import { scheduleCommands } from './commands/schedules.js';
import { secretCommands } from './commands/secrets.js';
import { Context, describeFailure, EXIT, GLOBAL_OPTIONS, UsageError, type Io, type Values } from './context.js';
import { commandHelp, flagErrorLine, groupHelp, LOCAL_HELP, startHelp, topHelp } from './help.js';

const GROUPS = new Map<string, Command[]>([
  ['jobs', jobCommands],
  ['schedules', scheduleCommands],
  ['queues', queueCommands],
  ['workers', workerCommands],
  ['users', userCommands],
  ['keys', keyCommands],
  ['tenants', tenantCommands],
  ['audit', auditCommands],
  ['secrets', secretCommands],
]);
const TOP_LEVEL = authCommands;

/** The first two words of argv (skipping flags and the values of --server/--token) and where they are. */
function words(argv: string[]): Array<{ word: string; index: number }> {
  const found: Array<{ word: string; index: number }> = [];
  for (let i = 0; i < argv.length && found.length < 2; i++) {
    const token = argv[i] ?? '';
    if (token === '--') break;
    if (token === '--server' || token === '--token') i++;
    else if (!token.startsWith('-')) found.push({ word: token, index: i });
  }
  return found;
}

async function runLocal(command: string, argv: string[]): Promise<number> {
  // Loaded on demand: the server and database modules would slow every API command down.
  const { auditVerify, parseLocalFlags, runMigrate, secretsRewrap, start } = await import('./commands/local.js');
  let parsed: ReturnType<typeof parseLocalFlags>;
  try {
    parsed = parseLocalFlags(argv);
  } catch (error) {
    console.error(`error: ${flagErrorLine(error, command)}`);
    return EXIT.usage;
  }
  if (parsed.flags.help === true) {
    console.log(command === 'start' ? startHelp() : LOCAL_HELP);
    return EXIT.ok;
  }
  if (command === 'start') return start(parsed.flags);
  if (command === 'migrate') return runMigrate(parsed.flags);
  if (command === 'secrets rewrap') return secretsRewrap(parsed.flags);
  return auditVerify(parsed.flags);
}

async function runApi(command: Command, argv: string[], io: Io): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, options: { ...GLOBAL_OPTIONS, ...command.options }, allowPositionals: true, strict: true }));
  } catch (error) {
    io.stderr.write(`error: ${flagErrorLine(error, command.name)}\n`);
    return EXIT.usage;
  }
  if (values.help === true) {
    io.stdout.write(`${commandHelp(command)}\n`);
    return EXIT.ok;
  }
  if (positionals.length < command.args.min || positionals.length > command.args.max) {
    const what = positionals.length < command.args.min ? 'missing argument' : `unexpected argument "${positionals[command.args.max] ?? ''}"`;
    io.stderr.write(`error: ${what}\nUsage: jobplane ${command.name} ${command.usage}\n`);
    return EXIT.usage;
  }
  const ctx = await Context.create(io, values);
  try {
    return await command.run(ctx, positionals, values);
  } catch (error) {
    const failure = describeFailure(error, ctx.server);
    io.stderr.write(`${failure.message}\n`);
    if (error instanceof UsageError) io.stderr.write(`Run 'jobplane ${command.name} --help' for usage.\n`);
    else if (failure.code === EXIT.failure && !(error instanceof TypeError) && process.env.JOBPLANE_DEBUG) io.stderr.write(`${(error as Error).stack ?? ''}\n`);
    return failure.code;
  }
}

async function main(argv: string[]): Promise<number> {
  const io: Io = { env: process.env, stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };
  const found = words(argv);
  const [first, second] = found;
  const without = (...drop: Array<{ index: number } | undefined>) => argv.filter((_, i) => !drop.some((d) => d?.index === i));
  if (!first) {
    const help = topHelp(GROUPS, TOP_LEVEL);
    if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
      console.log(help);
      return EXIT.ok;
    }
    console.error(`error: no command given\n\n${help}`);
    return EXIT.usage;
  }
  if (first.word === 'help') {
    const group = second ? GROUPS.get(second.word) : undefined;
    console.log(group && second ? groupHelp(second.word, group) : topHelp(GROUPS, TOP_LEVEL));
    return EXIT.ok;
  }
  if (first.word === 'start' || first.word === 'migrate') return runLocal(first.word, without(first));
  if (first.word === 'audit' && second?.word === 'verify') return runLocal('audit verify', without(first, second));
  if (first.word === 'secrets' && second?.word === 'rewrap') return runLocal('secrets rewrap', without(first, second));
  if (first.word === 'users' && second?.word === 'reset-password') {
    // On the database, not through the API; loaded on demand like the other local commands.
    const { resetPassword } = await import('./commands/recovery.js');
    return resetPassword(without(first, second), io);
  }
  const top = TOP_LEVEL.find((c) => c.name === first.word);
  if (top) return runApi(top, without(first), io);
  const group = GROUPS.get(first.word);
  if (!group) {
    console.error(`error: unknown command "${first.word}"\nRun 'jobplane --help' for the list of commands.`);
    return EXIT.usage;
  }
  if (!second) {
    if (argv.includes('--help') || argv.includes('-h')) {
      console.log(groupHelp(first.word, group));
      return EXIT.ok;
    }
    console.error(`error: missing subcommand\n\n${groupHelp(first.word, group)}`);
    return EXIT.usage;
  }
  const command = group.find((c) => c.name === `${first.word} ${second.word}`);
  if (!command) {
    console.error(`error: unknown command "${first.word} ${second.word}"\n\n${groupHelp(first.word, group)}`);
    return EXIT.usage;
  }
  return runApi(command, without(first, second), io);
}

main(process.argv.slice(2)).then(
  (code) => {
    // Let stdout drain when it is a pipe before exiting.
    process.exitCode = code;
    if (process.stdout.writableLength === 0) process.exit(code);
    else process.stdout.once('drain', () => process.exit(code));
  },
  (error: unknown) => {
    if (error instanceof AppError && error.code === 'CONFIG_INVALID') {
      console.error(error.message);
      process.exit(2);
    }
    const listen = error as { code?: unknown; address?: unknown; port?: unknown };
    if (listen.code === 'EADDRINUSE' || listen.code === 'EACCES') {
      const where = `${String(listen.address)}:${String(listen.port)}`;
      console.error(listen.code === 'EADDRINUSE'
        ? `error: ${where} is already in use (another program, or another jobplane, listens there). Choose another port: --port / PORT for the API, --ops-port / JOBPLANE_OPS_PORT for probes and metrics.`
        : `error: not allowed to listen on ${where} (ports below 1024 need privileges). Choose another port with --port or --ops-port.`);
      process.exit(1);
    }
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
