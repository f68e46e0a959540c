/**
 * The embedded PostgreSQL's data folder: its generated password, which process owns it
 * (`owner.json`, so two processes never run one cluster), and stopping a server orphaned by a
 * process that was killed.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../core/deps.js';
import { AppError } from '../errors/index.js';

/** The superuser password of the cluster, kept in the data folder. */
export interface Credentials {
  password: string;
}

/** The cluster's password from `<dataDir>/embedded.json`, made (random, mode 0600) on first start. */
export async function loadOrCreateCredentials(root: string): Promise<Credentials> {
  const file = join(root, 'embedded.json');
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as Credentials;
  const credentials = { password: randomBytes(18).toString('base64url') };
  await writeFile(file, JSON.stringify(credentials), { mode: 0o600 });
  return credentials;
}

/** `<dataDir>/owner.json`: which process runs the embedded server of a data folder. */
export const OWNER_FILE = 'owner.json';

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
export async function claimDataDir(root: string, port: number): Promise<void> {
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
export async function stopOrphan(root: string, logger: Logger): Promise<void> {
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

