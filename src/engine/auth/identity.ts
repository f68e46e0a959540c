/**
 * The identity service (DESIGN §6, RELIABILITY-SECURITY §5b–§5d, §5i): logins with throttling,
 * access JWTs, rotating refresh tokens, API keys, users, and the first admin. No HTTP here; the
 * routes call these functions and map AppError codes to problem responses.
 */
import { randomBytes } from 'node:crypto';
import type { Principal, Role, Scope } from '../../core/access.js';
import { accountChangeProblem, keyChangeProblem, needsCurrentPassword, type AccountChange } from '../../core/account-rules.js';
import { silentLogger, systemClock, type Clock, type Logger } from '../../core/deps.js';
import { DEFAULT_TENANT_ID } from '../../core/tenants.js';
import { uuidv7 } from '../../db/ids.js';
import { isPgError, withTransaction, type Queryable } from '../../db/pool.js';
import * as q from '../../db/queries/identity.js';
import { listLoginFailures as listLoginFailureRows, type LoginFailureEntry } from '../../db/queries/login-attempts.js';
import { isSessionRevoked, revokeSession } from '../../db/queries/sessions.js';
import { AppError, invalidField } from '../../errors/app-error.js';
import { normalizeUsername, requireKeyName, requirePassword, requireRole, requireScopes, requireUsername } from './inputs.js';
import { createLoginGuard } from './login-guard.js';
import { dummyHash, hashPassword, needsRehash, verifyPassword } from './passwords.js';
import type { RevokedSessions } from './revocations.js';
import {
  API_KEY_PREFIX,
  revokedSessionHoldS,
  MAX_CREDENTIAL_LENGTH,
  REFRESH_TOKEN_PREFIX,
  hashApiKey,
  isWellFormedApiKey,
  looksLikeJwt,
  newApiKey,
  newRefreshToken,
  sha256,
  signAccessToken,
  verifyAccessToken,
} from './tokens.js';

/** A user as returned to callers: never the password hash. */
export type User = Omit<q.UserRow, 'tokenVersion'>;
/** An API key as returned to callers: never the key or its hash. */
export type ApiKey = q.ApiKeyRow;
/** A tenant, with its user count. */
export type Tenant = q.TenantRow;

const TENANT_SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Options for {@link createIdentity}. */
export interface IdentityOptions {
  pool: Queryable;
  logger?: Logger;
  /** HS256 signing secret, ≥ 32 bytes. When absent one is generated once and kept in the database. */
  jwtSecret?: string | undefined;
  /** Pepper for API key HMACs, ≥ 32 bytes. When absent one is generated once and kept in the database. */
  apiKeyPepper?: string | undefined;
  /** Access token lifetime. @defaultValue 900 (15 min) */
  accessTtlS?: number;
  /** Absolute lifetime of a login's refresh-token family. @defaultValue 2592000 (30 days) */
  refreshTtlS?: number;
  /**
   * The process's in-memory list of revoked sessions (started by the caller). Without it every
   * access token's session is checked with a query.
   */
  revocations?: RevokedSessions;
  clock?: Clock;
}

/** Who asks for a change to an account or key, and from where (for throttling a current-password check). */
export interface ActorContext {
  actor: Principal;
  ip?: string;
}

/** What a successful login or refresh returns. */
export interface Session {
  accessToken: string;
  refreshToken: string;
  /** Seconds until the access token expires. */
  expiresIn: number;
  user: User;
}

/** The identity service. */
export type Identity = ReturnType<typeof createIdentity>;

function publicUser(row: q.UserRow): User {
  const { tokenVersion: _tokenVersion, ...user } = row;
  return user;
}

function secretBytes(value: string | undefined, what: string): Uint8Array | null {
  if (value === undefined) return null;
  const bytes = new TextEncoder().encode(value);
  if (bytes.length < 32) throw new AppError('CONFIG_INVALID', `${what} must be at least 32 bytes (256 bits)`);
  return bytes;
}

/** Build the identity service. Secrets missing from the options are loaded (or created) on first use. */
/**
 * A refresh token used again within this long after its first use (parallel refreshes from two
 * tabs, a retried request) yields another session of the same family instead of revoking it.
 */
export const REFRESH_REUSE_GRACE_MS = 10_000;

export function createIdentity(options: IdentityOptions) {
  const { pool } = options;
  const logger = options.logger ?? silentLogger;
  const accessTtlS = options.accessTtlS ?? 900;
  const refreshTtlS = options.refreshTtlS ?? 30 * 24 * 3600;
  const clock = options.clock ?? systemClock;
  const guard = createLoginGuard({ pool, logger, clock });
  const revokedHoldS = revokedSessionHoldS(accessTtlS);

  /** End a session (refresh-token family): no refresh, and its access tokens fail from now on. */
  async function endSession(db: Queryable, sessionId: string): Promise<void> {
    await revokeSession(db, sessionId, revokedHoldS);
    options.revocations?.add(sessionId, clock.nowMs() + revokedHoldS * 1000);
  }
  const configuredJwt = secretBytes(options.jwtSecret, 'jwtSecret');
  const configuredPepper = secretBytes(options.apiKeyPepper, 'apiKeyPepper');

  let secrets: Promise<{ jwt: Uint8Array; pepper: Uint8Array }> | null = null;
  function loadSecrets(): Promise<{ jwt: Uint8Array; pepper: Uint8Array }> {
    secrets ??= (async () => ({
      jwt: configuredJwt ?? (await q.ensureSecret(pool, 'jwt_hs256', randomBytes(32))),
      pepper: configuredPepper ?? (await q.ensureSecret(pool, 'api_key_pepper', randomBytes(32))),
    }))();
    // A failed load (database down) must not be cached forever.
    secrets.catch(() => {
      secrets = null;
    });
    return secrets;
  }

  async function issueSession(user: q.UserRow, familyId: string, parentId: string | null, familyExpiresAt: Date | null, db: Queryable): Promise<Session> {
    const { jwt } = await loadSecrets();
    const refreshToken = newRefreshToken();
    await q.insertRefreshToken(db, {
      id: uuidv7(),
      familyId,
      userId: user.id,
      hash: sha256(refreshToken),
      parentId,
      ttlS: refreshTtlS,
      // Children inherit the family's expiry: the family has an absolute lifetime (RFC 9700).
      expiresAt: familyExpiresAt,
    });
    const accessToken = await signAccessToken(
      jwt,
      { sub: user.id, tid: user.tenantId, role: user.role, sa: user.superadmin, tv: user.tokenVersion, sid: familyId },
      accessTtlS,
      clock.nowMs(),
    );
    return { accessToken, refreshToken, expiresIn: accessTtlS, user: publicUser(user) };
  }

  /**
   * Check a username and password. Unknown users, wrong passwords and disabled users all cost one
   * argon2 verify and all answer INVALID_CREDENTIALS. Every attempt is counted before the verify
   * (per account at this address, per account, per address; src/core/login-throttle.ts), so
   * concurrent guesses cannot outrun the throttle.
   */
  async function login(username: string, password: string, meta: { ip: string }): Promise<Session> {
    const normalized = normalizeUsername(username);
    // Throttle keys exist whether or not the user does, so throttling reveals nothing either.
    // An invalid name is kept as given, less the NUL PostgreSQL text cannot hold.
    const account = normalized ?? String(username).slice(0, 64).toLowerCase().replaceAll('\u0000', '\uFFFD');
    const candidate = typeof password === 'string' && password.length <= 1024 ? password : '';
    let user: q.UserWithHash | null = null;
    const ok = await guard.guard(account, meta.ip, async () => {
      user = normalized === null ? null : await q.findUserForLogin(pool, normalized);
      const matches = await verifyPassword(user?.passwordHash ?? (await dummyHash()), candidate);
      if (!matches || user === null) return 'invalid-credentials';
      return user.disabled ? 'disabled' : 'ok';
    });
    const found = user as q.UserWithHash | null;
    if (!ok || found === null) throw new AppError('INVALID_CREDENTIALS');
    // Parameters changed since this hash was made: upgrade it now, while we have the password.
    const rehashed = needsRehash(found.passwordHash) ? await hashPassword(candidate) : null;
    await q.recordLogin(pool, found.id, rehashed);
    return issueSession(found, uuidv7(), null, null, pool);
  }

  /**
   * Exchange a refresh token for a new session, invalidating it. A token that was already used
   * more than {@link REFRESH_REUSE_GRACE_MS} ago revokes its whole family (it was stolen or
   * replayed) and fails with REFRESH_TOKEN_REUSED.
   */
  async function refresh(refreshToken: string): Promise<Session> {
    if (typeof refreshToken !== 'string' || !refreshToken.startsWith(REFRESH_TOKEN_PREFIX) || refreshToken.length > 128) {
      throw new AppError('TOKEN_INVALID', 'Not a refresh token');
    }
    const hash = sha256(refreshToken);
    const outcome = await withTransaction(pool, async (tx) => {
      const consumed = await q.consumeRefreshToken(tx, hash);
      if (!consumed) return null;
      const user = await q.findUser(tx, consumed.userId, null);
      if (!user || user.disabled) {
        await endSession(tx, consumed.familyId);
        return 'disabled' as const;
      }
      return issueSession(user, consumed.familyId, consumed.id, consumed.expiresAt, tx);
    });
    if (outcome === 'disabled') throw new AppError('TOKEN_INVALID', 'The user is disabled');
    if (outcome !== null) return outcome;
    const state = await q.findRefreshToken(pool, hash);
    if (state?.used && !state.revoked && !state.expired && state.usedMsAgo !== null && state.usedMsAgo < REFRESH_REUSE_GRACE_MS) {
      // Two tabs (or a retried request) refreshing with the same token at once: the loser gets a
      // session of its own in the same family instead of logging everyone out. Beyond the grace,
      // reuse means theft or replay.
      const user = await q.findUser(pool, state.userId, null);
      if (user && !user.disabled) return issueSession(user, state.familyId, state.id, state.expiresAt, pool);
    }
    if (state?.used) {
      await endSession(pool, state.familyId);
      logger.warn({ familyId: state.familyId }, 'refresh token reuse; family revoked');
      throw new AppError('REFRESH_TOKEN_REUSED');
    }
    throw new AppError('TOKEN_INVALID', 'The refresh token is invalid, expired or revoked');
  }

  /**
   * End the session (token family) a refresh token belongs to: the refresh token and every access
   * token of that login stop working at once, on every API process. Unknown tokens are ignored.
   */
  async function logout(refreshToken: string): Promise<void> {
    if (typeof refreshToken !== 'string' || !refreshToken.startsWith(REFRESH_TOKEN_PREFIX)) return;
    const state = await q.findRefreshToken(pool, sha256(refreshToken));
    if (state) await endSession(pool, state.familyId);
  }

  async function sessionRevoked(sessionId: string): Promise<boolean> {
    return options.revocations ? options.revocations.isRevoked(sessionId) : isSessionRevoked(pool, sessionId);
  }

  async function authenticateJwt(token: string): Promise<Principal> {
    const { jwt } = await loadSecrets();
    const claims = await verifyAccessToken(jwt, token, clock.nowMs());
    // Signed by us, but ids still reach SQL only in their expected shape.
    if (!UUID.test(claims.sub) || !UUID.test(claims.tid)) throw new AppError('TOKEN_INVALID', 'The access token has malformed claims');
    const user = await q.findUser(pool, claims.sub, claims.tid);
    // token_version moves on password change, disable and forced logout: older tokens die at once.
    if (!user || user.disabled || user.tokenVersion !== claims.tv) throw new AppError('TOKEN_INVALID', 'The session has ended');
    // Logout and refresh-token reuse end one session; its access tokens die with it.
    if (claims.sid !== undefined && (!UUID.test(claims.sid) || (await sessionRevoked(claims.sid)))) throw new AppError('TOKEN_INVALID', 'The session has ended');
    return { kind: 'user', id: user.id, tenantId: user.tenantId, username: user.username, role: user.role, superadmin: user.superadmin };
  }

  async function authenticateKey(key: string): Promise<Principal> {
    if (!isWellFormedApiKey(key)) throw new AppError('TOKEN_INVALID', 'The API key is not valid');
    const { pepper } = await loadSecrets();
    // Looked up by its HMAC, so no secret is ever compared byte by byte in JavaScript.
    const row = await q.findApiKeyByHash(pool, hashApiKey(pepper, key));
    if (!row?.active) throw new AppError('TOKEN_INVALID', 'The API key is not valid, expired or revoked');
    if (row.stale) await q.touchApiKey(pool, row.id);
    return { kind: 'key', id: row.id, tenantId: row.tenantId, prefix: row.prefix, scopes: row.scopes };
  }

  /**
   * Who presents `credential` (the bearer token or x-api-key value): an access JWT → a user, a
   * `jp_` key → an API key. Malformed or unknown forms → UNAUTHENTICATED; bad tokens → TOKEN_INVALID.
   */
  async function authenticate(credential: string): Promise<Principal> {
    if (typeof credential !== 'string' || credential.length === 0) throw new AppError('UNAUTHENTICATED');
    if (credential.length > MAX_CREDENTIAL_LENGTH) throw new AppError('TOKEN_INVALID', 'The credential is too long');
    if (credential.startsWith(REFRESH_TOKEN_PREFIX)) {
      throw new AppError('TOKEN_INVALID', 'A refresh token cannot be used as an access token');
    }
    if (credential.startsWith(API_KEY_PREFIX)) return authenticateKey(credential);
    if (looksLikeJwt(credential)) return authenticateJwt(credential);
    throw new AppError('UNAUTHENTICATED', 'The credential is neither an access token nor an API key');
  }

  // ---- users -----------------------------------------------------------------------------

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

  // ---- tenants ---------------------------------------------------------------------------

  /**
   * Create a tenant and its first admin in one transaction: either both exist afterwards or
   * neither. TENANT_SLUG_TAKEN / USERNAME_TAKEN name the clash.
   */
  async function createTenant(input: { slug: string; name: string; admin: { username: string; password: string } }): Promise<{ tenant: Tenant; admin: User }> {
    const slug = typeof input.slug === 'string' ? input.slug.trim() : '';
    if (!TENANT_SLUG.test(slug)) throw invalidField('/slug', 'must be 1 to 63 characters of a-z, 0-9 and "-", starting with a letter or digit');
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    if (name.length < 1 || name.length > 200) throw invalidField('/name', 'must be 1 to 200 characters');
    const username = requireUsername(input.admin.username, '/admin/username');
    const password = requirePassword(input.admin.password, '/admin/password');
    const passwordHash = await hashPassword(password);
    try {
      return await withTransaction(pool, async (tx) => {
        const tenant = await q.insertTenant(tx, { id: uuidv7(), slug, name });
        const admin = await q.insertUser(tx, { id: uuidv7(), tenantId: tenant.id, username, passwordHash, role: 'admin', superadmin: false });
        return { tenant: { ...tenant, users: 1 }, admin: publicUser(admin) };
      });
    } catch (error) {
      if (isPgError(error, '23505')) {
        const constraint = (error as { constraint?: string }).constraint ?? '';
        throw constraint.startsWith('tenants') ? new AppError('TENANT_SLUG_TAKEN', `a tenant with slug "${slug}" already exists`) : new AppError('USERNAME_TAKEN', `the username "${username}" is taken (usernames are unique across tenants)`);
      }
      throw error;
    }
  }

  /** Every tenant, oldest first. */
  function listTenants(): Promise<Tenant[]> {
    return q.listTenants(pool);
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

  // ---- API keys --------------------------------------------------------------------------

  /**
   * Create an API key. The returned `key` is the only time the secret exists outside the caller.
   * With `actor`, a key that would outrank the actor is refused (TARGET_MORE_PRIVILEGED).
   */
  async function createApiKey(
    tenantId: string,
    input: { name: string; scopes: readonly Scope[]; expiresAt?: Date | null | undefined },
    createdBy: string | null,
    actor?: Principal,
  ): Promise<ApiKey & { key: string }> {
    const name = requireKeyName(input.name);
    const scopes = requireScopes(input.scopes);
    const problem = actor ? keyChangeProblem(actor, scopes) : null;
    if (problem) throw problem;
    const expiresAt = input.expiresAt ?? null;
    if (expiresAt !== null && (!(expiresAt instanceof Date) || !(expiresAt.getTime() > clock.nowMs()))) {
      throw invalidField('/expiresAt', 'must be a time in the future');
    }
    const { pepper } = await loadSecrets();
    // The 8-character id has 62^8 values; a collision is astronomically rare but retried anyway.
    for (let attempt = 0; ; attempt += 1) {
      const { key, prefix, last4 } = newApiKey();
      try {
        const row = await q.insertApiKey(pool, { id: uuidv7(), tenantId, name, prefix, hash: hashApiKey(pepper, key), last4, scopes, expiresAt, createdBy });
        return { ...row, key };
      } catch (error) {
        if (isPgError(error, '23503')) throw new AppError('TENANT_NOT_FOUND');
        if (!isPgError(error, '23505') || attempt >= 3) throw error;
      }
    }
  }

  /** A tenant's API keys (without secrets). */
  function listApiKeys(tenantId: string): Promise<ApiKey[]> {
    return q.listApiKeys(pool, tenantId);
  }

  /**
   * Revoke a key of `tenantId`; it stops authenticating on the next request. API_KEY_NOT_FOUND
   * otherwise. With `actor`, a key that outranks the actor is refused (TARGET_MORE_PRIVILEGED).
   */
  async function revokeApiKey(tenantId: string, id: string, actor?: Principal): Promise<ApiKey> {
    const current = UUID.test(id) ? await q.findApiKey(pool, tenantId, id) : null;
    if (!current) throw new AppError('API_KEY_NOT_FOUND');
    const problem = actor ? keyChangeProblem(actor, current.scopes) : null;
    if (problem) throw problem;
    const row = await q.revokeApiKeyRow(pool, tenantId, id);
    if (!row) throw new AppError('API_KEY_NOT_FOUND');
    return row;
  }

  // ---- bootstrap -------------------------------------------------------------------------

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

  return {
    login,
    refresh,
    logout,
    authenticate,
    changeOwnPassword,
    listLoginFailures,
    /** Write pending failed-login lines now (tests; shutdown). */
    flush: () => guard.flush(),
    createUser,
    createTenant,
    listTenants,
    listUsers,
    getUser,
    updateUser,
    deleteUser,
    createApiKey,
    listApiKeys,
    revokeApiKey,
    bootstrap,
    hashPassword,
    verifyPassword,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
