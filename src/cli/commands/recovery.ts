/**
 * `jobplane users reset-password USERNAME`: recovery for a lost password (the last admin's,
 * typically), straight against the database like `jobplane migrate` — no API, no login needed.
 * Whoever can reach the database with the owner's credentials can do this anyway; the command
 * does it the way the API would: a fresh argon2 hash, every session of the user ended, the login
 * lock cleared and an audit entry in the user's tenant (actor `cli`).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/index.js';
import { COUNTER_IDLE_RESET_S, LOGIN_THROTTLE, loginThrottleKeys } from '../../core/login-throttle.js';
import { startEmbeddedPostgres } from '../../db/embedded.js';
import { createPool, withTransaction, type Queryable } from '../../db/pool.js';
import { findUserForLogin, lockAccounts, revokeUserRefreshTokens, updateUserRow } from '../../db/queries/identity.js';
import { listLoginFailures, settleSuccess } from '../../db/queries/login-attempts.js';
import { recordAudit } from '../../engine/audit.js';
import { hashPassword, normalizeUsername } from '../../engine/auth/index.js';
import { requirePassword } from '../../engine/auth/inputs.js';
import type { AppError } from '../../errors/index.js';
import { createLogger } from '../../server/logger.js';
import { EXIT, prompt, readStdin, type Io } from '../context.js';
import { flagErrorLine } from '../help.js';

const NAME = 'users reset-password';

/** `jobplane users reset-password --help`. */
export const RESET_PASSWORD_HELP = `Set a user's password straight in the database, for a lost password (e.g. the only admin's).

Usage: jobplane users reset-password USERNAME [--password-stdin] [--database-url URL] [--data-dir DIR] [--json]

  Works on the database like jobplane migrate (DATABASE_URL or --database-url; without either,
  the embedded PostgreSQL in --data-dir / ./.jobplane), not through the API, so it needs no login.
  It ends every session of the user (access and refresh tokens), clears the user's login lock
  and writes a user.password_reset entry to the user's tenant audit log with actor "cli".
  The new password is asked for twice on a terminal, or read from stdin with --password-stdin
  (one line; at least 12 characters).

  --password-stdin     read the new password from stdin instead of prompting
  --database-url URL   PostgreSQL to work on (env DATABASE_URL, or DB_HOST and friends)
  --data-dir DIR       the embedded PostgreSQL's folder when there is no database URL
  --json               print {"id","username","tenantId","sessionsRevoked","loginLockCleared"}

Examples:
  DATABASE_URL=postgres://db/jobplane jobplane users reset-password admin
  printf %s "$NEW_PASSWORD" | jobplane users reset-password admin --password-stdin

Exit codes: 0 done, 1 database unreachable, 2 usage error or password refused, 4 no such user.`;

/** What a reset did, as printed by --json. */
export interface ResetResult {
  id: string;
  username: string;
  tenantId: string;
  disabled: boolean;
  sessionsRevoked: true;
  loginLockCleared: number;
}

/** Why a reset could not run: the message for stderr and the exit code. */
class ResetRefused extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** The new password: stdin with --password-stdin, else asked twice on a terminal, else refused. */
async function newPassword(io: Io, username: string, fromStdin: boolean): Promise<string> {
  if (fromStdin) {
    const text = (await readStdin(io.stdin)).replace(/\r?\n$/, '');
    if (text === '') throw new ResetRefused('no password on stdin', EXIT.usage);
    return text;
  }
  if (io.stdin.isTTY !== true) {
    throw new ResetRefused('stdin is not a terminal, so the new password cannot be asked for; pipe it in with --password-stdin', EXIT.usage);
  }
  const first = await prompt(io, `new password for ${username}: `, true);
  const again = await prompt(io, 'the same again: ', true);
  if (first !== again) throw new ResetRefused('the two passwords differ; nothing was changed', EXIT.usage);
  return first;
}

/**
 * The login-throttle counters that lock `username` out: its own counter and one per address it
 * was guessed from (`ua:<ip>|<username>`), as a successful login clears them. The addresses come
 * from the failed-login trail; only failures recent enough to still hold a lock matter.
 */
async function lockCounterKeys(db: Queryable, tenantId: string, username: string, now: Date): Promise<string[]> {
  // The account's own counter has no address in it; the per-address ones are found below.
  const keys = new Set(loginThrottleKeys(username, '').filter((k) => k.resetOnSuccess && !k.key.startsWith('ua:')).map((k) => k.key));
  const relevantMs = (COUNTER_IDLE_RESET_S + LOGIN_THROTTLE.accountAtAddress.maxLockS) * 1000 * 2;
  let before: Date | null = null;
  for (;;) {
    const page = await listLoginFailures(db, { tenantId, withUnknown: false, before, limit: 500 });
    for (const entry of page) {
      if (entry.username !== username) continue;
      for (const key of loginThrottleKeys(username, entry.clientIp)) if (key.resetOnSuccess) keys.add(key.key);
    }
    const last = page[page.length - 1];
    if (!last || page.length < 500 || now.getTime() - last.lastAt.getTime() > relevantMs) return [...keys];
    before = last.lastAt;
  }
}

/** Set the password of `username` in one transaction, with everything a reset entails. */
export async function resetPasswordInDatabase(db: Queryable, username: string, password: string, now = new Date()): Promise<ResetResult> {
  // Hashed before the transaction: it must not hold the account lock through argon2.
  const passwordHash = await hashPassword(password);
  return withTransaction(db, async (tx) => {
    await lockAccounts(tx);
    const user = await findUserForLogin(tx, username);
    if (!user) throw new ResetRefused(`no user "${username}" in this database (usernames are unique across tenants)`, EXIT.notFound);
    const updated = await updateUserRow(tx, user.tenantId, user.id, { passwordHash, bumpTokenVersion: true });
    if (!updated) throw new ResetRefused(`user "${username}" vanished while being changed`, EXIT.failure);
    await revokeUserRefreshTokens(tx, user.id);
    const counters = await lockCounterKeys(tx, user.tenantId, username, now);
    await settleSuccess(tx, counters, []);
    await recordAudit(tx, {
      tenantId: user.tenantId,
      actor: 'cli',
      action: 'user.password_reset',
      targetType: 'user',
      targetId: user.id,
      after: { username: user.username, passwordChanged: true, sessionsRevoked: true, loginLockCleared: true },
    });
    return { id: user.id, username: user.username, tenantId: user.tenantId, disabled: updated.disabled, sessionsRevoked: true, loginLockCleared: counters.length };
  });
}

/** `jobplane users reset-password USERNAME`: parse, read the password, reset, print one line. */
export async function resetPassword(argv: string[], io: Io): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: { 'password-stdin': { type: 'boolean' }, 'database-url': { type: 'string' }, 'data-dir': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    }));
  } catch (error) {
    io.stderr.write(`error: ${flagErrorLine(error, NAME)}\n`);
    return EXIT.usage;
  }
  if (values.help === true) {
    io.stdout.write(`${RESET_PASSWORD_HELP}\n`);
    return EXIT.ok;
  }
  if (positionals.length !== 1) {
    io.stderr.write(`error: ${positionals.length === 0 ? 'missing USERNAME' : `unexpected argument "${positionals[1] ?? ''}"`}\nUsage: jobplane ${NAME} USERNAME [--password-stdin]\n`);
    return EXIT.usage;
  }
  const username = normalizeUsername(positionals[0]);
  const config = loadConfig(io.env, { 'database-url': values['database-url'], 'data-dir': values['data-dir'] });
  try {
    if (username === null) throw new ResetRefused(`"${positionals[0] ?? ''}" is not a username (3 to 64 characters of a-z, 0-9, ".", "_" or "-")`, EXIT.usage);
    const password = await newPassword(io, username, values['password-stdin'] === true);
    try {
      requirePassword(password, 'password');
    } catch (error) {
      throw new ResetRefused(`the new password is refused: ${(error as AppError).message.replace(/^password: /, '')}`, EXIT.usage);
    }
    const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, {}, config.logFormat);
    const embedded = config.databaseUrl ? null : await startEmbeddedPostgres({ dataDir: config.dataDir, ephemeral: false, logger });
    const pool = createPool({ connectionString: config.databaseUrl ?? embedded!.connectionString, max: 2, logger, applicationName: 'jobplane-cli' });
    try {
      const result = await resetPasswordInDatabase(pool, username, password);
      if (values.json === true) io.stdout.write(`${JSON.stringify(result)}\n`);
      else {
        io.stdout.write(`password of ${result.username} reset; every session of it ended and its login lock cleared${result.disabled ? ' (the account is disabled: enable it with jobplane users update ID --enable)' : ''}\n`);
      }
      return EXIT.ok;
    } finally {
      await pool.end();
      await embedded?.stop();
    }
  } catch (error) {
    if (error instanceof ResetRefused) {
      io.stderr.write(`error: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
}
