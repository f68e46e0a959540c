/**
 * Help texts: the whole CLI, a command group (`jobplane jobs --help`) and one command
 * (`jobplane jobs submit --help`).
 */
import { SETTINGS, type Setting } from '../config/settings.js';
import type { Command } from './command.js';

/** Exit codes, as printed by --help (docs/cli.md has the same table). */
export const EXIT_CODES_HELP = `Exit codes:
  0   success (jobs watch: the job completed)
  1   runtime failure: server unreachable, unexpected error
  2   usage error: unknown command, bad flags or input the server refused as invalid (400)
  3   audit chain broken (audit verify)
  4   not found (404)
  5   not authenticated or not allowed (401, 403)
  6   conflict or invalid state (409, 422), e.g. cancelling a finished job
  10  jobs watch / submit --watch: the job failed
  11  jobs watch / submit --watch: the job was cancelled`;

const GLOBAL_HELP = `Options of every API command:
  --server URL     API address (env JOBPLANE_URL; else the logged-in server; else http://127.0.0.1:8080)
  --token TOKEN    access token or API key (env JOBPLANE_TOKEN; else the stored login)
  --json           print exactly one JSON document (the API's answer) on stdout
  --no-color       no colours (also NO_COLOR=1; never when stdout is not a terminal)
  -h, --help       help for the command`;

/** The settings `jobplane start` takes as flags: the same table its flag parser is built from. */
const START_FLAGS = (SETTINGS as readonly Setting[]).filter((s): s is Setting & { flag: string } => s.flag !== undefined);

/** A flag with the placeholder of its value: `--port N`, `--role A,B`, `--ephemeral`. */
function flagWithValue(setting: Setting & { flag: string }): string {
  switch (setting.type) {
    case 'boolean':
      return setting.flag;
    case 'integer':
      return `${setting.flag} N`;
    case 'duration':
      return `${setting.flag} 30s`;
    case 'list':
      return `${setting.flag} A,B`;
    case 'string':
      return `${setting.flag} ${(setting.flag.split('-').pop() ?? 'value').toUpperCase()}`;
  }
}

function defaultText(value: Setting['default']): string | null {
  if (value === null || value === false) return null;
  if (Array.isArray(value)) return value.length > 0 ? value.join(',') : null;
  return String(value);
}

/** `text` (or these unbreakable pieces) in lines of at most `width` characters, each after `indent`. */
function wrap(text: string | readonly string[], indent: string, width = 100): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of typeof text === 'string' ? text.split(/\s+/) : text) {
    if (line !== '' && indent.length + line.length + 1 + word.length > width) {
      lines.push(`${indent}${line}`);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(`${indent}${line}`);
  return lines;
}

/** `[--role A,B] [--ephemeral] …`: every flag of start, for the usage lines. */
const START_USAGE = START_FLAGS.map((s) => `[${flagWithValue(s)}]`);

/** Help of the local commands (start, migrate, audit verify, secrets rewrap). */
export const LOCAL_HELP = [
  'Server and database commands:',
  ...wrap(['jobplane start', ...START_USAGE], '  ').map((l, i) => (i === 0 ? l : `    ${l}`)),
  `            Run the API, the scheduler and a worker with the built-in tasks in this process.
            Without DATABASE_URL an embedded PostgreSQL keeps data in ./.jobplane (or a
            temporary folder with --ephemeral). --demo seeds schedules and jobs to look at.
            Ctrl-C stops gracefully; a second Ctrl-C exits. Any role serves /healthz, /readyz
            and /metrics on --ops-port N when given (the api's own port has no /metrics
            unless JOBPLANE_METRICS_TOKEN is set). jobplane start --help explains every option.
            Example: jobplane start --role worker --ops-port 9464
  jobplane migrate [--database-url URL] [--json]
            Apply pending database migrations and exit.
  jobplane audit verify [--tenant UUID] [--database-url URL] [--json]
            Recompute every tenant's audit hash chain (or one tenant's) and report the first
            entry that was changed, deleted or reordered. Exit code 3 when tampering is found.
  jobplane secrets rewrap [--database-url URL] [--json]
            Re-encrypt every tenant secret that is not under the active key
            (JOBPLANE_SECRETS_ACTIVE_KEY) and report how many moved and how many are left
            under other keys; remove an old key from JOBPLANE_SECRETS_KEYS once 0 are left.
  jobplane users reset-password USERNAME [--password-stdin] [--database-url URL] [--json]
            Set a user's password straight in the database (a lost admin password): ends the
            user's sessions, clears its login lock and writes an audit entry (actor "cli").

  Every option of start is also an environment variable; see docs/configuration.md.`,
].join('\n');

/**
 * `jobplane start --help`: every flag the start parser accepts, generated from the settings table
 * (src/config/settings.ts) the parser is built from, so the two cannot drift apart.
 */
export function startHelp(): string {
  const lines = [
    'Run the API, the scheduler and a worker with the built-in tasks in this process.',
    '',
    'Usage: jobplane start [options]',
    '',
    '  Without DATABASE_URL an embedded PostgreSQL keeps data in ./.jobplane (or a temporary folder',
    '  with --ephemeral). Ctrl-C (or SIGTERM) stops gracefully: running jobs get',
    '  JOBPLANE_SHUTDOWN_GRACE to finish; a second Ctrl-C exits at once.',
    '',
    'Options (each is also the environment variable shown; a flag wins over its variable):',
  ];
  for (const setting of START_FLAGS) {
    const fallback = defaultText(setting.default);
    lines.push(`  ${flagWithValue(setting).padEnd(24)} ${setting.env}${fallback === null ? '' : ` (default ${fallback})`}`);
    lines.push(...wrap(setting.description, '      '));
  }
  lines.push(
    `  ${'-h, --help'.padEnd(24)} this help`,
    '',
    'Every other setting is an environment variable only; docs/configuration.md lists them all.',
    '',
    'Examples:',
    '  jobplane start --ephemeral',
    '  jobplane start --role api --host 0.0.0.0 --port 8080 --ops-port 9464',
    '  DATABASE_URL=postgres://db/jobplane jobplane start --role worker --concurrency 20 --queues emails,reports --zone eu-1',
  );
  return lines.join('\n');
}

/**
 * One line for a flag the parser refused (node:util parseArgs errors), naming the command and
 * where its options are listed, instead of Node's own message.
 */
export function flagErrorLine(error: unknown, command: string): string {
  const { code, message } = error as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : String(error);
  const see = `see jobplane ${command} --help`;
  const quoted = /'([^']+)'/.exec(text)?.[1];
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${quoted ?? text} for jobplane ${command}; ${see}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const flag = (quoted ?? '').replace(/ <value>$/, '').split(', ').pop() ?? '';
      return /argument missing/.test(text) ? `option ${flag} of jobplane ${command} needs a value; ${see}` : `option ${flag} of jobplane ${command} takes no value; ${see}`;
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${quoted ?? ''} for jobplane ${command}; ${see}`;
    default:
      return `${text} (jobplane ${command}); ${see}`;
  }
}

/** Subcommands of API groups that work on the database instead (listed with the group). */
const LOCAL_SUBCOMMANDS: Record<string, string> = { audit: '|verify', secrets: '|rewrap', users: '|reset-password' };

/** The whole CLI. */
export function topHelp(groups: ReadonlyMap<string, Command[]>, topLevel: Command[]): string {
  const lines = ['jobplane — jobs, queues, workers and schedules on PostgreSQL', '', 'Usage: jobplane <command> [subcommand] [options]', '', LOCAL_HELP, '', 'Session:'];
  for (const c of topLevel) lines.push(`  jobplane ${c.name.padEnd(22)} ${c.summary}`);
  lines.push('', 'API commands:');
  for (const [group, commands] of groups) {
    lines.push(`  jobplane ${group} ${commands.map((c) => c.name.split(' ')[1]).join('|')}${LOCAL_SUBCOMMANDS[group] ?? ''}`);
  }
  lines.push(
    '',
    GLOBAL_HELP,
    '',
    'Examples:',
    '  npx jobplane start --ephemeral',
    '  DATABASE_URL=postgres://localhost/jobplane jobplane start --role worker --concurrency 20',
    '  printf %s "$PASSWORD" | jobplane login --username admin --password-stdin',
    `  jobplane jobs submit --task sleep --payload '{"ms": 2000}' --watch`,
    '  jobplane jobs list --status failed --since 1h --json',
    '',
    "Run 'jobplane <command> --help' for a command's options and examples (e.g. jobplane jobs submit --help).",
    '',
    EXIT_CODES_HELP,
  );
  return lines.join('\n');
}

/** One group, e.g. `jobplane jobs --help`. */
export function groupHelp(group: string, commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = [`Usage: jobplane ${group} <subcommand> [options]`, '', 'Subcommands:'];
  for (const c of commands) lines.push(`  ${c.name.padEnd(width)}  ${c.summary}`);
  if (group === 'audit') lines.push(`  ${'audit verify'.padEnd(width)}  Recompute the audit hash chains in the database (exit 3 when broken)`);
  if (group === 'secrets') lines.push(`  ${'secrets rewrap'.padEnd(width)}  Re-encrypt secrets under the active key, in the database (see jobplane --help)`);
  if (group === 'users') lines.push(`  ${'users reset-password'.padEnd(width)}  Set a lost password straight in the database (see jobplane users reset-password --help)`);
  lines.push('', 'Examples:');
  for (const c of commands) if (c.examples[0]) lines.push(`  ${c.examples[0]}`);
  lines.push('', GLOBAL_HELP, '', `Run 'jobplane ${group} <subcommand> --help' for details.`);
  return lines.join('\n');
}

/** One command, e.g. `jobplane jobs submit --help`. */
export function commandHelp(command: Command): string {
  const lines = [command.summary, '', `Usage: jobplane ${command.name}${command.usage ? ` ${command.usage}` : ''} [--json]`];
  if (command.details) lines.push('', command.details);
  lines.push('', 'Examples:', ...command.examples.map((e) => `  ${e}`), '', GLOBAL_HELP, '', EXIT_CODES_HELP);
  return lines.join('\n');
}
