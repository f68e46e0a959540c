/**
 * Users: create, list, change and delete accounts under the rules of src/core/account-rules.ts,
 * the caller's own password change, the failed-login trail, and the first admin (bootstrap).
 */
import { randomBytes } from 'node:crypto';
import type { Principal, Role } from '../../core/access.js';
import { accountChangeProblem, needsCurrentPassword, type AccountChange } from '../../core/account-rules.js';
import { DEFAULT_TENANT_ID } from '../../core/tenants.js';
import { uuidv7 } from '../../db/ids.js';
import { isPgError, withTransaction, type Queryable } from '../../db/pool.js';
import * as q from '../../db/queries/identity.js';
import { listLoginFailures as listLoginFailureRows, type LoginFailureEntry } from '../../db/queries/login-attempts.js';
import { AppError, invalidField } from '../../errors/app-error.js';
import { publicUser, UUID, type ActorContext, type IdentityContext, type User } from './identity-context.js';
import { requirePassword, requireRole, requireUsername } from './inputs.js';
import { dummyHash, hashPassword, verifyPassword } from './passwords.js';

/** User accounts over the shared identity state. */
export function createUsers(ctx: IdentityContext) {
  const { pool, logger, guard } = ctx;

  /** Create a user in `tenantId`. USERNAME_TAKEN when the (global) username exists. */
  async function createUser(
    tenantId: string,
    input: { username: string; password: string; role: Role; superadmin?: boolean },
  ): Promise<User> {
    const username = requireUsername(input.username);
    const password = requirePassword(input.password);
    const role = requireRole(input.role);
    const passwordHash = await hashPassword(password);
    try {
      const row = await q.insertUser(pool, { id: uuidv7(), tenantId, username, passwordHash, role, superadmin: input.superadmin === true });
      return publicUser(row);
    } catch (error) {
      if (isPgError(error, '23505')) throw new AppError('USERNAME_TAKEN');
      if (isPgError(error, '23503')) throw new AppError('TENANT_NOT_FOUND');
      throw error;
    }
  }

  /** Every user of a tenant. */
  async function listUsers(tenantId: string): Promise<User[]> {
    return (await q.listUsers(pool, tenantId)).map(publicUser);
  }

  /** A user of `tenantId`; USER_NOT_FOUND otherwise (also for another tenant's user). */
  async function getUser(tenantId: string, id: string): Promise<User> {
    const row = UUID.test(id) ? await q.findUser(pool, id, tenantId) : null;
    if (!row) throw new AppError('USER_NOT_FOUND');
    return publicUser(row);
  }

  /**
   * Run `change` on a user of `tenantId` as `actor`, under the installation-wide account lock, after
   * the rules of src/core/account-rules.ts: nobody acts on an account that outranks them, and the
   * last superadmin and the last admin of a tenant stay. USER_NOT_FOUND for another tenant's user.
   */
  async function changeAccount<T>(
    actor: Principal,
    tenantId: string,
    id: string,
    change: AccountChange,
    write: (tx: Queryable, target: q.UserRow) => Promise<T>,
  ): Promise<{ before: User; result: T }> {
    if (!UUID.test(id)) throw new AppError('USER_NOT_FOUND');
    return withTransaction(pool, async (tx) => {
      // One lock for every account change: two admins demoting each other at once must not both
      // pass the last-admin check. Account changes are rare; logins do not take it.
      await q.lockAccounts(tx);
      const target = await q.findUser(tx, id, tenantId);
      if (!target) throw new AppError('USER_NOT_FOUND');
      const problem = accountChangeProblem(actor, target, change, await q.powerCounts(tx, target.tenantId));
      if (problem) throw problem;
      return { before: publicUser(target), result: await write(tx, target) };
    });
  }

  /**
   * Change a user's role, disabled flag, superadmin flag or password, as `actor`. Setting your own
   * password needs `currentPassword` (checked and throttled like a login). A password change or
   * disable ends every session of the user: access tokens via token_version, refresh tokens by
   * revocation.
   */
  async function updateUser(
    tenantId: string,
    id: string,
    change: { role?: Role | undefined; disabled?: boolean | undefined; password?: string | undefined; currentPassword?: string | undefined; superadmin?: boolean | undefined },
    context: ActorContext,
  ): Promise<{ before: User; after: User }> {
    const role = change.role === undefined ? undefined : requireRole(change.role);
    if (change.disabled !== undefined && typeof change.disabled !== 'boolean') throw invalidField('/disabled', 'must be a boolean');
    if (change.superadmin !== undefined && typeof change.superadmin !== 'boolean') throw invalidField('/superadmin', 'must be a boolean');
    const password = change.password === undefined ? undefined : requirePassword(change.password);
    if (password !== undefined && needsCurrentPassword(context.actor, id)) {
      await checkCurrentPassword(context.actor, change.currentPassword, context.ip ?? 'unknown');
    }
    // Hashed before the lock is taken: a transaction must not hold it through argon2.
    const passwordHash = password === undefined ? undefined : await hashPassword(password);
    const endSessions = passwordHash !== undefined || change.disabled === true;
    const { before, result } = await changeAccount(
      context.actor,
      tenantId,
      id,
      { kind: 'update', role, disabled: change.disabled, password: password !== undefined, superadmin: change.superadmin },
      async (tx) => {
        const updated = await q.updateUserRow(tx, tenantId, id, { role, disabled: change.disabled, superadmin: change.superadmin, passwordHash, bumpTokenVersion: endSessions });
        if (updated && endSessions) await q.revokeUserRefreshTokens(tx, id);
        return updated;
      },
    );
    if (!result) throw new AppError('USER_NOT_FOUND');
    return { before, after: publicUser(result) };
  }

  /**
   * Check the current password of `actor` (a user changing their own password). Throttled with the
   * login counters, so it is no side door for guessing. CURRENT_PASSWORD_INVALID when wrong.
   */
  async function checkCurrentPassword(actor: Principal, currentPassword: unknown, ip: string): Promise<void> {
    if (actor.kind !== 'user') throw new AppError('FORBIDDEN', 'API keys have no password');
    if (typeof currentPassword !== 'string' || currentPassword === '') {
      throw invalidField('/currentPassword', 'is required to change your own password');
    }
    const candidate = currentPassword.length <= 1024 ? currentPassword : '';
    const ok = await guard.guard(actor.username, ip, async () => {
      const hash = await q.passwordHashOf(pool, actor.id);
      const matches = await verifyPassword(hash ?? (await dummyHash()), candidate);
      return matches && hash !== null ? 'ok' : 'wrong-current-password';
    });
    if (!ok) throw new AppError('CURRENT_PASSWORD_INVALID');
  }

  /**
   * Set the caller's own password after checking the current one; every session of theirs ends
   * (they log in again with the new password).
   */
  async function changeOwnPassword(context: ActorContext, currentPassword: unknown, newPassword: unknown): Promise<User> {
    const { actor } = context;
    if (actor.kind !== 'user') throw new AppError('FORBIDDEN', 'API keys have no password');
    const password = requirePassword(newPassword, '/newPassword');
    return (await updateUser(actor.tenantId, actor.id, { password, currentPassword: typeof currentPassword === 'string' ? currentPassword : '' }, context)).after;
  }

  /** Delete a user of `tenantId` as `actor` (its refresh tokens go too); USER_NOT_FOUND otherwise. */
  async function deleteUser(tenantId: string, id: string, context: ActorContext): Promise<User> {
    const { before, result } = await changeAccount(context.actor, tenantId, id, { kind: 'delete' }, (tx) => q.deleteUserRow(tx, tenantId, id));
    if (!result) throw new AppError('USER_NOT_FOUND');
    return before;
  }

  /**
   * The failed-login trail of the caller's tenant, newest first; a superadmin also sees attempts on
   * usernames that name nobody.
   */
  function listLoginFailures(principal: Principal, filter: { before?: Date | undefined; limit: number }): Promise<LoginFailureEntry[]> {
    return listLoginFailureRows(pool, {
      tenantId: principal.tenantId,
      withUnknown: principal.kind === 'user' && principal.superadmin,
      before: filter.before ?? null,
      limit: filter.limit,
    });
  }

  /**
   * Create the first user, `admin` (superadmin, role admin, default tenant), when there are no
   * users. Safe when several processes start at once: an advisory lock serialises the check and
   * insert. `generatedPassword` is set only when no password was configured; print it once.
   */
  async function bootstrap(
    input: { adminPassword?: string | undefined } = {},
  ): Promise<{ created: false } | { created: true; user: User; generatedPassword?: string }> {
    if (await q.anyUserExists(pool)) return { created: false };
    const generated = input.adminPassword === undefined ? randomBytes(18).toString('base64url') : undefined;
    const password = requirePassword(input.adminPassword ?? generated, '/adminPassword');
    // Hash before taking the lock: a transaction must not wait on 50 ms of argon2 holding it.
    const passwordHash = await hashPassword(password);
    const row = await withTransaction(pool, async (tx) => {
      await q.lockBootstrap(tx);
      if (await q.anyUserExists(tx)) return null;
      return q.insertUser(tx, { id: uuidv7(), tenantId: DEFAULT_TENANT_ID, username: 'admin', passwordHash, role: 'admin', superadmin: true });
    });
    if (!row) return { created: false };
    logger.info({ userId: row.id, username: row.username }, 'created the first admin user');
    return generated === undefined ? { created: true, user: publicUser(row) } : { created: true, user: publicUser(row), generatedPassword: generated };
  }

  return { createUser, listUsers, getUser, updateUser, deleteUser, changeOwnPassword, listLoginFailures, bootstrap };
}
