/**
 * The `jobplane` command. Entry point: the only place (with bin/) that touches process.env,
 * process.argv, signals and the exit code.
 */
import { parseArgs } from 'node:util';
import { loadConfig, SETTINGS, type Setting } from '../config/index.js';
import { startEmbeddedPostgres } from '../db/embedded.js';
import { migrate } from '../db/migrator.js';
import { createPool } from '../db/pool.js';
import { verifyAudit } from '../engine/audit.js';
import { AppError } from '../errors/index.js';
import { createLogger } from '../server/logger.js';
import { startJobplane } from '../server/start.js';

const HELP = `jobplane — jobs, queues, workers and schedules on PostgreSQL

Usage:
  jobplane start [--role scheduler,worker] [--ephemeral] [--data-dir DIR] [--database-url URL]
  jobplane migrate [--database-url URL]
  jobplane audit verify [--tenant UUID] [--database-url URL]
  jobplane help

Commands:
  start     Run the scheduler and a worker with the built-in tasks in this process. Without
            DATABASE_URL an embedded PostgreSQL keeps data in ./.jobplane (or a temporary
            folder with --ephemeral). Ctrl-C stops gracefully; a second Ctrl-C exits at once.
  migrate   Apply pending database migrations and exit.
  audit verify
            Recompute every tenant's audit hash chain (or one tenant's) and report the first
            entry that was changed, deleted or reordered. Exit code 3 when tampering is found.

Examples:
  npx jobplane start --ephemeral
  DATABASE_URL=postgres://localhost/jobplane jobplane start --role worker --concurrency 20
  jobplane migrate --database-url postgres://localhost/jobplane

Every option is also an environment variable; see docs/configuration.md.
Exit codes: 0 success, 1 runtime failure, 2 bad usage or configuration, 3 audit chain broken.`;

type Flags = Record<string, string | boolean | undefined>;

function parse(argv: string[]): { command: string; flags: Flags } {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' }, tenant: { type: 'string' } };
  for (const s of SETTINGS as readonly Setting[]) {
    if (s.flag) options[s.flag.slice(2)] = { type: s.type === 'boolean' ? 'boolean' : 'string' };
  }
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  // Two-word commands (`audit verify`) are joined; everything else is one word.
  const words = positionals.slice(0, positionals[0] === 'audit' ? 2 : 1).join(' ');
  return { command: values.help ? 'help' : words || 'help', flags: values };
}

async function start(flags: Flags): Promise<number> {
  const config = loadConfig(process.env, flags);
  const logger = createLogger(config.logLevel);
  // Ctrl-C while waiting for an unreachable database ends the wait.
  const starting = new AbortController();
  const abortStart = () => {
    starting.abort();
    process.exit(130);
  };
  process.once('SIGINT', abortStart);
  process.once('SIGTERM', abortStart);
  const app = await startJobplane(config, logger, { signal: starting.signal });
  process.off('SIGINT', abortStart);
  process.off('SIGTERM', abortStart);
  logger.info({ roles: config.roles, workerId: app.worker?.id, schedulerId: app.scheduler?.id }, 'jobplane is running; press Ctrl-C to stop');
  return new Promise<number>((resolve) => {
    let firstSignalAt = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      // Ctrl-C under `npm start` reaches us twice at once (from the terminal and from npm), so only
      // a signal a second or more after the first one means "exit now".
      const now = Date.now();
      if (firstSignalAt > 0 && now - firstSignalAt < 1000) return;
      if (firstSignalAt > 0) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(130);
      }
      firstSignalAt = now;
      logger.info({ signal }, 'stopping gracefully');
      app.stop().then(
        () => resolve(0),
        (error: unknown) => {
          logger.error({ err: (error as Error).message }, 'error while stopping');
          resolve(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

async function runMigrate(flags: Flags): Promise<number> {
  const config = loadConfig(process.env, flags);
  const logger = createLogger(config.logLevel);
  const embedded = config.databaseUrl ? null : await startEmbeddedPostgres({ dataDir: config.dataDir, ephemeral: config.ephemeral, logger });
  const pool = createPool({ connectionString: config.databaseUrl ?? embedded!.connectionString, max: 2, logger });
  try {
    const { applied, current } = await migrate(pool, logger);
    console.log(applied.length > 0 ? `applied ${applied.join(', ')}; now at migration ${current}` : `up to date at migration ${current}`);
    return 0;
  } finally {
    await pool.end();
    await embedded?.stop();
  }
}

async function auditVerify(flags: Flags): Promise<number> {
  const tenant = typeof flags.tenant === 'string' ? flags.tenant : null;
  if (tenant !== null && !/^[0-9a-f-]{36}$/i.test(tenant)) {
    console.error('--tenant must be a tenant UUID');
    return 2;
  }
  const config = loadConfig(process.env, flags);
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const embedded = config.databaseUrl ? null : await startEmbeddedPostgres({ dataDir: config.dataDir, ephemeral: false, logger });
  const pool = createPool({ connectionString: config.databaseUrl ?? embedded!.connectionString, max: 2, logger });
  try {
    const result = await verifyAudit(pool, tenant);
    if (result.ok) {
      console.log(`audit log intact: ${result.checked} entries checked`);
      return 0;
    }
    console.error(`audit log BROKEN in tenant ${result.tenantId} at seq ${result.firstBadSeq}: ${result.reason} (${result.checked} entries checked before it)`);
    return 3;
  } finally {
    await pool.end();
    await embedded?.stop();
  }
}

async function main(argv: string[]): Promise<number> {
  let parsed: { command: string; flags: Flags };
  try {
    parsed = parse(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  switch (parsed.command) {
    case 'start':
      return start(parsed.flags);
    case 'migrate':
      return runMigrate(parsed.flags);
    case 'audit verify':
      return auditVerify(parsed.flags);
    case 'help':
      console.log(HELP);
      return 0;
    default:
      console.error(`unknown command: ${parsed.command}\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof AppError && error.code === 'CONFIG_INVALID') {
      console.error(error.message);
      process.exit(2);
    }
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
