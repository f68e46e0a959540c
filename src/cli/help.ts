/**
 * Help texts: the whole CLI, a command group (`jobplane jobs --help`) and one command
 * (`jobplane jobs submit --help`).
 */
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

/** Help of the local commands (start, migrate, audit verify, secrets rewrap). */
export const LOCAL_HELP = `Server and database commands:
  jobplane start [--role api,scheduler,worker] [--ephemeral] [--demo] [--data-dir DIR] [--database-url URL] [--port N]
            Run the API, the scheduler and a worker with the built-in tasks in this process.
            Without DATABASE_URL an embedded PostgreSQL keeps data in ./.jobplane (or a
            temporary folder with --ephemeral). --demo seeds schedules and jobs to look at.
            Ctrl-C stops gracefully; a second Ctrl-C exits. Any role serves /healthz, /readyz
            and /metrics on --ops-port N when given (the api's own port has no /metrics
            unless JOBPLANE_METRICS_TOKEN is set).
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

  Every option of start is also an environment variable; see docs/configuration.md.`;

/** The whole CLI. */
export function topHelp(groups: ReadonlyMap<string, Command[]>, topLevel: Command[]): string {
  const lines = ['jobplane — jobs, queues, workers and schedules on PostgreSQL', '', 'Usage: jobplane <command> [subcommand] [options]', '', LOCAL_HELP, '', 'Session:'];
  for (const c of topLevel) lines.push(`  jobplane ${c.name.padEnd(22)} ${c.summary}`);
  lines.push('', 'API commands:');
  for (const [group, commands] of groups) {
    lines.push(`  jobplane ${group} ${commands.map((c) => c.name.split(' ')[1]).join('|')}${group === 'audit' ? '|verify' : group === 'secrets' ? '|rewrap' : ''}`);
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
