/**
 * The credentials `jobplane login` stores: `$XDG_CONFIG_HOME/jobplane/credentials.json`
 * (default `~/.config/jobplane`), directory mode 0700, file mode 0600, written atomically.
 */
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** What is stored for one server: a refresh token (with the current access token) or an API key. */
export interface StoredCredentials {
  server: string;
  username?: string;
  refreshToken?: string;
  accessToken?: string;
  /** When `accessToken` expires (ISO). */
  accessExpiresAt?: string;
  apiKey?: string;
}

/** The folder of the CLI's configuration. */
export function configDir(env: Record<string, string | undefined>): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(env.HOME ?? homedir(), '.config');
  return join(base, 'jobplane');
}

/** The credentials file. */
export function credentialsPath(env: Record<string, string | undefined>): string {
  return join(configDir(env), 'credentials.json');
}

/** The stored credentials, or null when there are none (or the file is unreadable JSON). */
export async function readCredentials(env: Record<string, string | undefined>): Promise<StoredCredentials | null> {
  let text: string;
  try {
    text = await readFile(credentialsPath(env), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const data = JSON.parse(text) as unknown;
    if (typeof data === 'object' && data !== null && typeof (data as StoredCredentials).server === 'string') return data as StoredCredentials;
  } catch {
    // A damaged file is treated as absent; the next login overwrites it.
  }
  return null;
}

/** Store credentials (replacing any), readable by the user only. */
export async function writeCredentials(env: Record<string, string | undefined>, credentials: StoredCredentials): Promise<string> {
  const dir = configDir(env);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const path = credentialsPath(env);
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, path);
  return path;
}

/** Remove the stored credentials; false when there were none. */
export async function removeCredentials(env: Record<string, string | undefined>): Promise<boolean> {
  const path = credentialsPath(env);
  try {
    await readFile(path);
  } catch {
    return false;
  }
  await rm(path, { force: true });
  return true;
}

/** A server URL in the form credentials are matched by (no trailing slash). */
export function normalizeServer(url: string): string {
  return url.replace(/\/+$/, '');
}
