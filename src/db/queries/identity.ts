import type { Role, Scope } from '../../core/access.js';
import type { Queryable } from '../pool.js';

/** A user row as services see it; the password hash is fetched only by {@link findUserForLogin}. */
export interface UserRow {
  id: string;
  tenantId: string;
  username: string;
  role: Role;
  superadmin: boolean;
  tokenVersion: number;
  disabled: boolean;
  createdAt: Date;
  updatedAt: Date;
  lastLoginAt: Date | null;
}

/** A user row with its password hash, for login only. */
export interface UserWithHash extends UserRow {
  passwordHash: string;
}

/** An API key row, without its hash. */
export interface ApiKeyRow {
  id: string;
  tenantId: string;
  name: string;
  prefix: string;
  last4: string;
  scopes: Scope[];
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  createdBy: string | null;
  createdAt: Date;
}

const USER_COLUMNS = `id, tenant_id AS "tenantId", username, role, superadmin, token_version AS "tokenVersion",
  disabled, created_at AS "createdAt", updated_at AS "updatedAt", last_login_at AS "lastLoginAt"`;

const KEY_COLUMNS = `id, tenant_id AS "tenantId", name, prefix, last4, scopes, expires_at AS "expiresAt",
  last_used_at AS "lastUsedAt", revoked_at AS "revokedAt", created_by AS "createdBy", created_at AS "createdAt"`;

// ---- secrets -------------------------------------------------------------------------------

/**
 * The secret called `name`, inserting `candidate` first if none exists. Two processes racing both
 * read back the same winner, because the insert does nothing on conflict and the read follows it.
 */
export async function ensureSecret(db: Queryable, name: string, candidate: Buffer): Promise<Buffer> {
  await db.query(`INSERT INTO jobplane.auth_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, [
    name,
    candidate,
  ]);
  const { rows } = await db.query<{ value: Buffer }>(`SELECT value FROM jobplane.auth_secrets WHERE name = $1`, [name]);
  return rows[0]!.value;
}

// ---- users ---------------------------------------------------------------------------------

/** Insert a user. Throws the pg unique violation (23505) when the username is taken. */
export async function insertUser(
  db: Queryable,
  user: { id: string; tenantId: string; username: string; passwordHash: string; role: Role; superadmin: boolean },
): Promise<UserRow> {
  const { rows } = await db.query<UserRow>(
    `INSERT INTO jobplane.users (id, tenant_id, username, password_hash, role, superadmin)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${USER_COLUMNS}`,
    [user.id, user.tenantId, user.username, user.passwordHash, user.role, user.superadmin],
  );
  return rows[0]!;
}

/** A user by username, with the password hash, whatever the tenant. */
export async function findUserForLogin(db: Queryable, username: string): Promise<UserWithHash | null> {
  const { rows } = await db.query<UserWithHash>(
    `SELECT ${USER_COLUMNS}, password_hash AS "passwordHash" FROM jobplane.users WHERE username = $1`,
    [username],
  );
  return rows[0] ?? null;
}

/** A user by id; when `tenantId` is given, only within that tenant. */
export async function findUser(db: Queryable, id: string, tenantId: string | null): Promise<UserRow | null> {
  const { rows } = await db.query<UserRow>(
    `SELECT ${USER_COLUMNS} FROM jobplane.users WHERE id = $1 AND ($2::uuid IS NULL OR tenant_id = $2::uuid)`,
    [id, tenantId],
  );
  return rows[0] ?? null;
}

/** Every user of a tenant, by username. */
export async function listUsers(db: Queryable, tenantId: string): Promise<UserRow[]> {
  const { rows } = await db.query<UserRow>(
    `SELECT ${USER_COLUMNS} FROM jobplane.users WHERE tenant_id = $1 ORDER BY username`,
    [tenantId],
  );
  return rows;
}

/** Whether any user exists (the bootstrap check). */
export async function anyUserExists(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ exists: boolean }>(`SELECT EXISTS (SELECT 1 FROM jobplane.users) AS "exists"`);
  return rows[0]?.exists === true;
}

/**
 * Change a user within a tenant; undefined fields keep their value. `bumpTokenVersion` forces every
 * outstanding access token of the user to fail verification.
 */
export async function updateUserRow(
  db: Queryable,
  tenantId: string,
  id: string,
  change: { role?: Role | undefined; disabled?: boolean | undefined; superadmin?: boolean | undefined; passwordHash?: string | undefined; bumpTokenVersion: boolean },
): Promise<UserRow | null> {
  const { rows } = await db.query<UserRow>(
    `UPDATE jobplane.users SET
       role = coalesce($3, role),
       disabled = coalesce($4, disabled),
       password_hash = coalesce($5, password_hash),
       token_version = token_version + CASE WHEN $6 THEN 1 ELSE 0 END,
       superadmin = coalesce($7, superadmin),
       updated_at = now()
     WHERE id = $1 AND tenant_id = $2
     RETURNING ${USER_COLUMNS}`,
    [id, tenantId, change.role ?? null, change.disabled ?? null, change.passwordHash ?? null, change.bumpTokenVersion, change.superadmin ?? null],
  );
  return rows[0] ?? null;
}

/**
 * Take the installation-wide lock that serialises account changes for the rest of the transaction,
 * so the last-superadmin and last-admin checks count what is really there.
 */
export async function lockAccounts(tx: Queryable): Promise<void> {
  // An arbitrary fixed key, distinct from the bootstrap and migrator locks.
  await tx.query(`SELECT pg_advisory_xact_lock(7461726422)`);
}

/** Enabled superadmins of the installation and enabled admins of `tenantId`. */
export async function powerCounts(db: Queryable, tenantId: string): Promise<{ activeSuperadmins: number; activeTenantAdmins: number }> {
  const { rows } = await db.query<{ activeSuperadmins: number; activeTenantAdmins: number }>(
    `SELECT count(*) FILTER (WHERE superadmin AND role = 'admin')::int AS "activeSuperadmins",
            count(*) FILTER (WHERE tenant_id = $1 AND role = 'admin')::int AS "activeTenantAdmins"
     FROM jobplane.users WHERE NOT disabled AND (superadmin OR tenant_id = $1)`,
    [tenantId],
  );
  return rows[0]!;
}

/** A user's password hash (for checking a current password), or null when there is no such user. */
export async function passwordHashOf(db: Queryable, id: string): Promise<string | null> {
  const { rows } = await db.query<{ hash: string }>(`SELECT password_hash AS hash FROM jobplane.users WHERE id = $1 AND NOT disabled`, [id]);
  return rows[0]?.hash ?? null;
}

/** Record a successful login, optionally replacing the hash (rehash after a parameter change). */
export async function recordLogin(db: Queryable, id: string, newHash: string | null): Promise<void> {
  await db.query(
    `UPDATE jobplane.users SET last_login_at = now(), password_hash = coalesce($2, password_hash) WHERE id = $1`,
    [id, newHash],
  );
}

/** Delete a user within a tenant; whether a row went. Refresh tokens go with it (cascade). */
export async function deleteUserRow(db: Queryable, tenantId: string, id: string): Promise<boolean> {
  const { rowCount } = await db.query(`DELETE FROM jobplane.users WHERE id = $1 AND tenant_id = $2`, [id, tenantId]);
  return (rowCount ?? 0) > 0;
}

/** Take the transaction-scoped lock that serialises bootstrap across processes. */
export async function lockBootstrap(db: Queryable): Promise<void> {
  // An arbitrary fixed key, distinct from the migrator's.
  await db.query(`SELECT pg_advisory_xact_lock(7461726421)`);
}

// ---- refresh tokens ------------------------------------------------------------------------

/** Store a refresh token (its hash). `expiresAt` null means now() + `ttlS`. */
export async function insertRefreshToken(
  db: Queryable,
  token: { id: string; familyId: string; userId: string; hash: Buffer; parentId: string | null; ttlS: number; expiresAt: Date | null },
): Promise<void> {
  await db.query(
    `INSERT INTO jobplane.refresh_tokens (id, family_id, user_id, token_hash, parent_id, expires_at)
     VALUES ($1, $2, $3, $4, $5, coalesce($6, now() + make_interval(secs => $7)))`,
    [token.id, token.familyId, token.userId, token.hash, token.parentId, token.expiresAt, token.ttlS],
  );
}

/**
 * Mark a live refresh token used, atomically: of concurrent callers with the same token exactly one
 * gets the row back (the others re-check `used_at IS NULL` after the winner commits and miss).
 */
export async function consumeRefreshToken(
  db: Queryable,
  hash: Buffer,
): Promise<{ id: string; familyId: string; userId: string; expiresAt: Date } | null> {
  const { rows } = await db.query<{ id: string; familyId: string; userId: string; expiresAt: Date }>(
    `UPDATE jobplane.refresh_tokens SET used_at = now()
     WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
     RETURNING id, family_id AS "familyId", user_id AS "userId", expires_at AS "expiresAt"`,
    [hash],
  );
  return rows[0] ?? null;
}

/** A refresh token's state, to explain why consuming it failed. */
export async function findRefreshToken(
  db: Queryable,
  hash: Buffer,
): Promise<{ id: string; familyId: string; userId: string; expiresAt: Date; used: boolean; revoked: boolean; expired: boolean; usedMsAgo: number | null } | null> {
  const { rows } = await db.query<{ id: string; familyId: string; userId: string; expiresAt: Date; used: boolean; revoked: boolean; expired: boolean; usedMsAgo: number | null }>(
    `SELECT id, family_id AS "familyId", user_id AS "userId", expires_at AS "expiresAt",
            used_at IS NOT NULL AS used, revoked_at IS NOT NULL AS revoked, expires_at <= now() AS expired,
            (extract(epoch FROM now() - used_at) * 1000)::float8 AS "usedMsAgo"
     FROM jobplane.refresh_tokens WHERE token_hash = $1`,
    [hash],
  );
  return rows[0] ?? null;
}

/** Revoke every refresh token of a user (password change, disable). */
export async function revokeUserRefreshTokens(db: Queryable, userId: string): Promise<void> {
  await db.query(`UPDATE jobplane.refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, [
    userId,
  ]);
}

// ---- API keys ------------------------------------------------------------------------------

/** Insert an API key. Throws the pg unique violation (23505) on a prefix collision. */
export async function insertApiKey(
  db: Queryable,
  key: {
    id: string;
    tenantId: string;
    name: string;
    prefix: string;
    hash: Buffer;
    last4: string;
    scopes: readonly Scope[];
    expiresAt: Date | null;
    createdBy: string | null;
  },
): Promise<ApiKeyRow> {
  const { rows } = await db.query<ApiKeyRow>(
    `INSERT INTO jobplane.api_keys (id, tenant_id, name, prefix, key_hash, last4, scopes, expires_at, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${KEY_COLUMNS}`,
    [key.id, key.tenantId, key.name, key.prefix, key.hash, key.last4, key.scopes, key.expiresAt, key.createdBy],
  );
  return rows[0]!;
}

/** A tenant's API keys, newest first. */
export async function listApiKeys(db: Queryable, tenantId: string): Promise<ApiKeyRow[]> {
  const { rows } = await db.query<ApiKeyRow>(
    `SELECT ${KEY_COLUMNS} FROM jobplane.api_keys WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC`,
    [tenantId],
  );
  return rows;
}

/** A key of a tenant, or null. */
export async function findApiKey(db: Queryable, tenantId: string, id: string): Promise<ApiKeyRow | null> {
  const { rows } = await db.query<ApiKeyRow>(`SELECT ${KEY_COLUMNS} FROM jobplane.api_keys WHERE id = $1 AND tenant_id = $2`, [id, tenantId]);
  return rows[0] ?? null;
}

/** Revoke a key within a tenant (keeping the first revocation time); null when there is no such key. */
export async function revokeApiKeyRow(db: Queryable, tenantId: string, id: string): Promise<ApiKeyRow | null> {
  const { rows } = await db.query<ApiKeyRow>(
    `UPDATE jobplane.api_keys SET revoked_at = coalesce(revoked_at, now())
     WHERE id = $1 AND tenant_id = $2 RETURNING ${KEY_COLUMNS}`,
    [id, tenantId],
  );
  return rows[0] ?? null;
}

/**
 * The key with this HMAC, with whether it is usable now and whether `last_used_at` is over a minute
 * old (so callers write it at most once a minute per key).
 */
export async function findApiKeyByHash(
  db: Queryable,
  hash: Buffer,
): Promise<(ApiKeyRow & { active: boolean; stale: boolean }) | null> {
  const { rows } = await db.query<ApiKeyRow & { active: boolean; stale: boolean }>(
    `SELECT ${KEY_COLUMNS},
       (revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())) AS active,
       (last_used_at IS NULL OR last_used_at < now() - interval '1 minute') AS stale
     FROM jobplane.api_keys WHERE key_hash = $1`,
    [hash],
  );
  return rows[0] ?? null;
}

/** Stamp `last_used_at`, unless another request did within the last minute. */
export async function touchApiKey(db: Queryable, id: string): Promise<void> {
  await db.query(
    `UPDATE jobplane.api_keys SET last_used_at = now()
     WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
    [id],
  );
}

/** A tenant, with how many users it has. */
export interface TenantRow {
  id: string;
  slug: string;
  name: string;
  createdAt: Date;
  users: number;
}

/** Insert a tenant. Throws the pg unique violation (23505) when the slug is taken. */
export async function insertTenant(db: Queryable, tenant: { id: string; slug: string; name: string }): Promise<TenantRow> {
  const { rows } = await db.query<TenantRow>(
    `INSERT INTO jobplane.tenants (id, slug, name) VALUES ($1, $2, $3)
     RETURNING id, slug, name, created_at AS "createdAt", 0 AS users`,
    [tenant.id, tenant.slug, tenant.name],
  );
  return rows[0]!;
}

/** Every tenant, oldest first, with its user count. */
export async function listTenants(db: Queryable): Promise<TenantRow[]> {
  const { rows } = await db.query<TenantRow>(
    `SELECT t.id, t.slug, t.name, t.created_at AS "createdAt",
            (SELECT count(*)::int FROM jobplane.users u WHERE u.tenant_id = t.id) AS users
     FROM jobplane.tenants t ORDER BY t.created_at, t.id`,
  );
  return rows;
}
