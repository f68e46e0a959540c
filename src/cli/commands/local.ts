/**
 * The commands that work on this machine rather than through the API: `start`, `migrate`,
 * `audit verify` and `secrets rewrap` (database level). Their flags come from the SETTINGS table.
 */
import { parseArgs } from 'node:util';
import { loadConfig, SETTINGS, type Config, type Setting } from '../../config/index.js';
import type { Logger } from '../../core/deps.js';
import { startEmbeddedPostgres } from '../../db/embedded.js';
import { migrate } from '../../db/migrator.js';
import { createPool, isConnectionError } from '../../db/pool.js';
import { AppError } from '../../errors/index.js';
import { verifyAudit } from '../../engine/audit.js';
import { createSecretService } from '../../engine/secrets/index.js';
import { createLogger } from '../../server/logger.js';
import { databaseConfigProblem, startJobplane, type RunningJobplane } from '../../server/start.js';

/** Parsed flags of a local command. */
export type Flags = Record<string, string | boolean | undefined>;

/** Parse a local command's flags: every setting with a flag, plus --tenant, --json and --help. */
export function parseLocalFlags(argv: string[]): { positionals: string[]; flags: Flags } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' }, tenant: { type: 'string' }, json: { type: 'boolean' } };
  for (const s of SETTINGS as readonly Setting[]) {
    if (s.flag) options[s.flag.slice(2)] = { type: s.type === 'boolean' ? 'boolean' : 'string' };
  }
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  return { positionals, flags: values };
}

/**
 * `jobplane start`: run the roles in this process until a signal. A start that cannot succeed
 * (bad settings, a taken port, a data folder in use, a database that refuses us) prints one line
 * and returns its exit code (2 for configuration, 1 otherwise) after stopping what it started.
 */
export async function start(flags: Flags): Promise<number> {
  const loaded = configured(flags);
  if (typeof loaded === 'number') return loaded;
  const { config, logger } = loaded;
  const app = await startUntilSignal(config, logger);
  if (typeof app === 'number') return app;
  logger.info({ roles: config.roles, url: app.url ?? undefined, opsUrl: app.opsUrl ?? undefined, workerId: app.worker?.id, schedulerId: app.scheduler?.id }, 'jobplane is running; press Ctrl-C to stop');
  return new Promise<number>((resolve) => {
    onStopSignals(logger, 'stopping gracefully', () => {
      app.stop().then(
        () => resolve(0),
        (error: unknown) => {
          logger.error({ err: (error as Error).message }, 'error while stopping');
          resolve(1);
        },
      );
    });
  });
}

/**
 * Call `onFirst` on the first SIGINT/SIGTERM. Ctrl-C under `npm start` reaches us twice at once
 * (from the terminal and from npm), so only a signal a second or more after the first one means
 * "exit now" (130). Returns a function that removes the handlers.
 */
function onStopSignals(logger: Logger, message: string, onFirst: () => void): () => void {
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    const now = performance.now();
    if (firstSignalAt > 0 && now - firstSignalAt < 1000) return;
    if (firstSignalAt > 0) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    firstSignalAt = now;
    logger.info({ signal }, message);
    onFirst();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/**
 * Start the roles; a signal meanwhile (an unreachable database, a slow first initdb) ends the
 * start, and everything started so far (the embedded database, its temporary folder) is stopped
 * and removed before this returns 130. A second signal a second later exits at once; the embedded
 * database's exit hook still stops its server and removes a temporary folder.
 */
async function startUntilSignal(config: Config, logger: Logger): Promise<RunningJobplane | number> {
  const starting = new AbortController();
  const removeHandlers = onStopSignals(logger, 'signal while starting: stopping what was started', () => starting.abort());
  try {
    const app = await startJobplane(config, logger, { signal: starting.signal });
    if (!starting.signal.aborted) return app;
    await app.stop();
    return 130;
  } catch (error) {
    if (starting.signal.aborted) return 130;
    return reportFailure(error, config);
  } finally {
    removeHandlers();
  }
}

/**
 * One line on stderr for a local command that could not run, and its exit code: 2 for a
 * configuration problem, 1 for anything else. No stack trace unless JOBPLANE_DEBUG is set.
 */
/** The settings and a logger for them, or the exit code of a bad setting (reported). */
function configured(flags: Flags): { config: Config; logger: ReturnType<typeof createLogger> } | number {
  try {
    const config = loadConfig(process.env, flags);
    return { config, logger: createLogger(config.logLevel, {}, config.logFormat) };
  } catch (error) {
    return reportFailure(error, null);
  }
}

function reportFailure(error: unknown, config: Config | null): number {
  const fault = error as { code?: unknown; address?: string; port?: number };
  if (error instanceof AppError && error.code === 'CONFIG_INVALID') {
    console.error(error.message.startsWith('error: ') ? error.message : `error: ${error.message}`);
    return 2;
  }
  if ((fault.code === 'EADDRINUSE' || fault.code === 'EACCES') && fault.port !== undefined) {
    const where = `${fault.address ?? ''}:${fault.port}`;
    const setting = config !== null && fault.port === config.opsPort && config.opsPort !== config.port ? '--ops-port / JOBPLANE_OPS_PORT (probes and metrics)' : '--port / PORT';
    console.error(fault.code === 'EADDRINUSE'
      ? `error: ${where} is already in use (another program, or another jobplane, listens there): port ${fault.port} is taken. Choose another port with ${setting}.`
      : `error: not allowed to listen on ${where} (ports below 1024 need privileges). Choose another port with ${setting}.`);
    return 1;
  }
  const message = error instanceof Error ? error.message.replace(/\s+/g, ' ').trim() : String(error);
  if (isConnectionError(error)) console.error(`error: cannot reach the database: ${message}. Check DATABASE_URL (or DB_HOST, DB_PORT) and that PostgreSQL runs there.`);
  else console.error(`error: ${message}`);
  if (process.env.JOBPLANE_DEBUG && error instanceof Error && error.stack) console.error(error.stack);
  return 1;
}

/** `jobplane migrate`: one line and exit 2 on bad settings, 1 when the database cannot be reached. */
export async function runMigrate(flags: Flags): Promise<number> {
  const loaded = configured(flags);
  if (typeof loaded === 'number') return loaded;
  const { config, logger } = loaded;
  try {
    const embedded = config.databaseUrl ? null : await startEmbeddedPostgres({ dataDir: config.dataDir, ephemeral: config.ephemeral, logger });
    const url = config.databaseUrl ?? embedded!.connectionString;
    const pool = createPool({ connectionString: url, max: 2, logger });
    try {
      const { applied, current } = await migrate(pool, logger).catch((error: unknown) => {
        throw databaseConfigProblem(error, url) ?? error;
      });
      if (flags.json === true) console.log(JSON.stringify({ applied, current }));
      else console.log(applied.length > 0 ? `applied ${applied.join(', ')}; now at migration ${current}` : `up to date at migration ${current}`);
      return 0;
    } finally {
      await pool.end();
      await embedded?.stop();
    }
  } catch (error) {
    return reportFailure(error, config);
  }
}

/** `jobplane audit verify`: recompute the audit hash chains in the database. */
export async function auditVerify(flags: Flags): Promise<number> {
  const tenant = typeof flags.tenant === 'string' ? flags.tenant : null;
  if (tenant !== null && !/^[0-9a-f-]{36}$/i.test(tenant)) {
    console.error('--tenant must be a tenant UUID');
    return 2;
  }
  const config = loadConfig(process.env, flags);
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, {}, config.logFormat);
  const embedded = config.databaseUrl ? null : await startEmbeddedPostgres({ dataDir: config.dataDir, ephemeral: false, logger });
  const pool = createPool({ connectionString: config.databaseUrl ?? embedded!.connectionString, max: 2, logger });
  try {
    const result = await verifyAudit(pool, tenant);
    if (flags.json === true) console.log(JSON.stringify(result));
    if (result.ok) {
      if (flags.json !== true) console.log(`audit log intact: ${result.checked} entries checked`);
      return 0;
    }
    console.error(`audit log BROKEN in tenant ${result.tenantId} at seq ${result.firstBadSeq}: ${result.reason} (${result.checked} entries checked before it)`);
    return 3;
  } finally {
    await pool.end();
    await embedded?.stop();
  }
}

/** Rows per rewrap transaction from the CLI: larger than the leader's, it runs while someone waits. */
const CLI_REWRAP_BATCH = 500;

/**
 * `jobplane secrets rewrap`: re-encrypt every secret this process can read that is not under the
 * active key (JOBPLANE_SECRETS_KEYS / JOBPLANE_SECRETS_ACTIVE_KEY), then report how many moved and
 * how many are still under other keys. The old key may go once it reports 0 left.
 */
export async function secretsRewrap(flags: Flags): Promise<number> {
  const config = loadConfig(process.env, flags);
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, {}, config.logFormat);
  const embedded = config.databaseUrl ? null : await startEmbeddedPostgres({ dataDir: config.dataDir, ephemeral: false, logger });
  const pool = createPool({ connectionString: config.databaseUrl ?? embedded!.connectionString, max: 2, logger });
  try {
    const secrets = createSecretService({ pool, keys: config.secretsKeys, activeKey: config.secretsActiveKey, logger });
    let moved = 0;
    for (let batch = await secrets.rewrap({ batch: CLI_REWRAP_BATCH }); batch > 0; batch = await secrets.rewrap({ batch: CLI_REWRAP_BATCH })) moved += batch;
    const left = await secrets.pendingRewrap();
    const activeKey = secrets.keyring.activeId;
    if (flags.json === true) console.log(JSON.stringify({ activeKey, moved, left: left.total, leftByKey: left.byKey }));
    else {
      const byKey = Object.entries(left.byKey).map(([key, count]) => `${key}: ${count}`).join(', ');
      console.log(`moved ${moved} secret${moved === 1 ? '' : 's'} to key "${activeKey}"; ${left.total} left under other keys${left.total > 0 ? ` (${byKey})` : ''}`);
      if (left.total > 0) console.log('secrets under a key this process does not have stay there: add that key to JOBPLANE_SECRETS_KEYS and run this again');
      if (!secrets.keyring.configured) console.log('JOBPLANE_SECRETS_KEYS is not set: secrets stay under the key kept in the database (docs/secrets.md)');
    }
    return 0;
  } finally {
    await pool.end();
    await embedded?.stop();
  }
}
