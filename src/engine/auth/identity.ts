/**
 * The identity service (DESIGN §6, RELIABILITY-SECURITY §5b–§5d, §5i): logins with throttling,
 * access JWTs, rotating refresh tokens, API keys, users, and the first admin. No HTTP here; the
 * routes call these functions and map AppError codes to problem responses.
 */
import { randomBytes } from 'node:crypto';
import type { Principal, Role, Scope } from '../../core/access.js';
import { silentLogger, type Logger } from '../../core/deps.js';
import { DEFAULT_TENANT_ID } from '../../core/tenants.js';
import { uuidv7 } from '../../db/ids.js';
import { isPgError, withTransaction, type Queryable } from '../../db/pool.js';
import * as q from '../../db/queries/identity.js';
import { AppError, invalidField } from '../../errors/app-error.js';
import { RateLimitedError, normalizeUsername, requireKeyName, requirePassword, requireRole, requireScopes, requireUsername } from './inputs.js';
import { dummyHash, hashPassword, needsRehash, verifyPassword } from './passwords.js';
import {
  API_KEY_PREFIX,
  LOCK_AFTER_FAILURES,
  MAX_CREDENTIAL_LENGTH,
  MAX_LOCK_S,
  REFRESH_TOKEN_PREFIX,
  hashApiKey,
  isWellFormedApiKey,
  lockSeconds,
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

/** Counters idle this long start again, so no lock is permanent. */
const FAILURE_WINDOW_S = MAX_LOCK_S;

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
      { sub: user.id, tid: user.tenantId, role: user.role, sa: user.superadmin, tv: user.tokenVersion },
      accessTtlS,
    );
    return { accessToken, refreshToken, expiresIn: accessTtlS, user: publicUser(user) };
  }

  async function recordFailure(keys: string[]): Promise<void> {
    for (const key of keys) {
      const failures = await q.countFailure(pool, key, FAILURE_WINDOW_S);
      if (failures >= LOCK_AFTER_FAILURES) await q.lockKey(pool, key, lockSeconds(failures));
    }
  }

  /**
   * Check a username and password. Unknown users, wrong passwords and disabled users all cost one
   * argon2 verify and all answer INVALID_CREDENTIALS. Throttled per username and per IP.
   */
  async function login(username: string, password: string, meta: { ip: string }): Promise<Session> {
    const normalized = normalizeUsername(username);
    // Throttle keys exist whether or not the user does, so throttling reveals nothing either.
    // An invalid name is stored in the key as given, less the NUL PostgreSQL text cannot hold.
    const keys = [`user:${normalized ?? String(username).slice(0, 64).toLowerCase().replaceAll('\u0000', '\uFFFD')}`, `ip:${meta.ip}`];
    const retry = await q.activeLockSeconds(pool, keys);
    if (retry !== null) throw new RateLimitedError(Math.max(1, retry));
    const user = normalized === null ? null : await q.findUserForLogin(pool, normalized);
    const candidate = typeof password === 'string' && password.length <= 1024 ? password : '';
    const ok = await verifyPassword(user?.passwordHash ?? (await dummyHash()), candidate);
    if (!ok || user === null || user.disabled) {
      await recordFailure(keys);
      logger.info({ username: normalized, ip: meta.ip }, 'login failed');
      throw new AppError('INVALID_CREDENTIALS');
    }
    await q.clearFailures(pool, keys);
    // Parameters changed since this hash was made: upgrade it now, while we have the password.
    const rehashed = needsRehash(user.passwordHash) ? await hashPassword(candidate) : null;
    await q.recordLogin(pool, user.id, rehashed);
    return issueSession(user, uuidv7(), null, null, pool);
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
        await q.revokeRefreshFamily(tx, consumed.familyId);
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
      await q.revokeRefreshFamily(pool, state.familyId);
      logger.warn({ familyId: state.familyId }, 'refresh token reuse; family revoked');
      throw new AppError('REFRESH_TOKEN_REUSED');
    }
    throw new AppError('TOKEN_INVALID', 'The refresh token is invalid, expired or revoked');
  }

  /** Revoke the session (token family) a refresh token belongs to. Unknown tokens are ignored. */
  async function logout(refreshToken: string): Promise<void> {
    if (typeof refreshToken !== 'string' || !refreshToken.startsWith(REFRESH_TOKEN_PREFIX)) return;
    const state = await q.findRefreshToken(pool, sha256(refreshToken));
    if (state) await q.revokeRefreshFamily(pool, state.familyId);
  }

  async function authenticateJwt(token: string): Promise<Principal> {
    const { jwt } = await loadSecrets();
    const claims = await verifyAccessToken(jwt, token);
    // Signed by us, but ids still reach SQL only in their expected shape.
    if (!UUID.test(claims.sub) || !UUID.test(claims.tid)) throw new AppError('TOKEN_INVALID', 'The access token has malformed claims');
    const user = await q.findUser(pool, claims.sub, claims.tid);
    // token_version moves on password change, disable and forced logout: older tokens die at once.
    if (!user || user.disabled || user.tokenVersion !== claims.tv) throw new AppError('TOKEN_INVALID', 'The session has ended');
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
   * Change a user's role, disabled flag or password. A password change or disable ends every
   * session of the user: access tokens via token_version, refresh tokens by revocation.
   */
  async function updateUser(
    tenantId: string,
    id: string,
    change: { role?: Role | undefined; disabled?: boolean | undefined; password?: string | undefined },
  ): Promise<User> {
    const role = change.role === undefined ? undefined : requireRole(change.role);
    if (change.disabled !== undefined && typeof change.disabled !== 'boolean') throw invalidField('/disabled', 'must be a boolean');
    const passwordHash = change.password === undefined ? undefined : await hashPassword(requirePassword(change.password));
    const endSessions = passwordHash !== undefined || change.disabled === true;
    if (!UUID.test(id)) throw new AppError('USER_NOT_FOUND');
    const row = await withTransaction(pool, async (tx) => {
      const updated = await q.updateUserRow(tx, tenantId, id, { role, disabled: change.disabled, passwordHash, bumpTokenVersion: endSessions });
      if (updated && endSessions) await q.revokeUserRefreshTokens(tx, id);
      return updated;
    });
    if (!row) throw new AppError('USER_NOT_FOUND');
    return publicUser(row);
  }

  /** Delete a user of `tenantId` (its refresh tokens go too); USER_NOT_FOUND otherwise. */
  async function deleteUser(tenantId: string, id: string): Promise<void> {
    if (!UUID.test(id) || !(await q.deleteUserRow(pool, tenantId, id))) throw new AppError('USER_NOT_FOUND');
  }

  // ---- API keys --------------------------------------------------------------------------

  /** Create an API key. The returned `key` is the only time the secret exists outside the caller. */
  async function createApiKey(
    tenantId: string,
    input: { name: string; scopes: readonly Scope[]; expiresAt?: Date | null | undefined },
    createdBy: string | null,
  ): Promise<ApiKey & { key: string }> {
    const name = requireKeyName(input.name);
    const scopes = requireScopes(input.scopes);
    const expiresAt = input.expiresAt ?? null;
    if (expiresAt !== null && (!(expiresAt instanceof Date) || !(expiresAt.getTime() > Date.now()))) {
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

  /** Revoke a key of `tenantId`; it stops authenticating on the next request. API_KEY_NOT_FOUND otherwise. */
  async function revokeApiKey(tenantId: string, id: string): Promise<ApiKey> {
    const row = UUID.test(id) ? await q.revokeApiKeyRow(pool, tenantId, id) : null;
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
