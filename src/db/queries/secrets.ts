/**
 * Statements of the tenant secrets store (`jobplane.tenant_secrets`, migration 0005). Rows hold
 * AES-256-GCM ciphertext only; encryption and decryption happen in `src/engine/secrets/`, so no
 * plaintext ever travels to or from PostgreSQL. Every statement is scoped to one tenant except the
 * rewrap pair, which works across tenants by key id.
 */
import type { Queryable } from '../pool.js';

/** What callers may see of a secret: never its ciphertext, let alone its value. */
export interface SecretMetaRow {
  name: string;
  description: string | null;
  /** Id of the key the value is encrypted under. */
  keyId: string;
  createdAt: Date;
  updatedAt: Date;
  /** Actor (`user:<id>` / `key:<id>`) who created it, if known. */
  createdBy: string | null;
  /** Actor who last set its value or description, if known. */
  updatedBy: string | null;
}

/** The encrypted parts of a secret, for decryption. */
export interface SecretCipherRow {
  tenantId: string;
  name: string;
  keyId: string;
  /** 12-byte GCM nonce. */
  nonce: Buffer;
  /** Ciphertext with the 16-byte GCM tag appended. */
  ciphertext: Buffer;
}

const META_COLUMNS = `name, description, key_id AS "keyId", created_at AS "createdAt", updated_at AS "updatedAt",
  created_by AS "createdBy", updated_by AS "updatedBy"`;
const CIPHER_COLUMNS = `tenant_id AS "tenantId", name, key_id AS "keyId", nonce, ciphertext`;

/**
 * The metadata of one secret, or null. With `forUpdate` the row is locked until the caller's
 * transaction ends (set takes it so its before/after pair is exact).
 */
export async function findSecretMeta(db: Queryable, tenantId: string, name: string, options: { forUpdate?: boolean } = {}): Promise<SecretMetaRow | null> {
  const { rows } = await db.query<SecretMetaRow>(
    `SELECT ${META_COLUMNS} FROM jobplane.tenant_secrets WHERE tenant_id = $1 AND name = $2${options.forUpdate ? ' FOR UPDATE' : ''}`,
    [tenantId, name],
  );
  return rows[0] ?? null;
}

/** Metadata of every secret of a tenant, by name. */
export async function listSecretMeta(db: Queryable, tenantId: string): Promise<SecretMetaRow[]> {
  const { rows } = await db.query<SecretMetaRow>(`SELECT ${META_COLUMNS} FROM jobplane.tenant_secrets WHERE tenant_id = $1 ORDER BY name`, [tenantId]);
  return rows;
}

/**
 * Create a secret or replace its value. `description` undefined keeps the stored one on replace
 * (NULL on create); null clears it. `created` is true when the row was inserted (xmax = 0 holds
 * only for a row version this statement inserted, not one it updated).
 */
export async function upsertSecret(
  db: Queryable,
  row: { tenantId: string; name: string; keyId: string; nonce: Buffer; ciphertext: Buffer; description: string | null | undefined; actor: string | null },
): Promise<{ meta: SecretMetaRow; created: boolean }> {
  const { rows } = await db.query<SecretMetaRow & { created: boolean }>(
    `INSERT INTO jobplane.tenant_secrets AS s (tenant_id, name, key_id, nonce, ciphertext, description, created_by, updated_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
     ON CONFLICT (tenant_id, name) DO UPDATE SET
       key_id = EXCLUDED.key_id, nonce = EXCLUDED.nonce, ciphertext = EXCLUDED.ciphertext,
       description = CASE WHEN $8 THEN EXCLUDED.description ELSE s.description END,
       updated_by = EXCLUDED.updated_by, updated_at = now()
     RETURNING ${META_COLUMNS}, (xmax = 0) AS created`,
    [row.tenantId, row.name, row.keyId, row.nonce, row.ciphertext, row.description ?? null, row.actor, row.description !== undefined],
  );
  const { created, ...meta } = rows[0]!;
  return { meta, created };
}

/** Delete a secret; the metadata of the deleted row, or null when there was none. */
export async function deleteSecretRow(db: Queryable, tenantId: string, name: string): Promise<SecretMetaRow | null> {
  const { rows } = await db.query<SecretMetaRow>(`DELETE FROM jobplane.tenant_secrets WHERE tenant_id = $1 AND name = $2 RETURNING ${META_COLUMNS}`, [tenantId, name]);
  return rows[0] ?? null;
}

/** The encrypted rows for `names` within a tenant (names that do not exist are simply absent). */
export async function findSecretCiphers(db: Queryable, tenantId: string, names: readonly string[]): Promise<SecretCipherRow[]> {
  if (names.length === 0) return [];
  const { rows } = await db.query<SecretCipherRow>({
    name: 'jobplane_find_secret_ciphers',
    text: `SELECT ${CIPHER_COLUMNS} FROM jobplane.tenant_secrets WHERE tenant_id = $1 AND name = ANY($2::text[])`,
    values: [tenantId, names],
  });
  return rows;
}

/** Which of `names` exist in the tenant: one statement however many names are checked. */
export async function existingSecretNames(db: Queryable, tenantId: string, names: readonly string[]): Promise<Set<string>> {
  if (names.length === 0) return new Set();
  const { rows } = await db.query<{ name: string }>(`SELECT name FROM jobplane.tenant_secrets WHERE tenant_id = $1 AND name = ANY($2::text[])`, [tenantId, names]);
  return new Set(rows.map((r) => r.name));
}

/**
 * Lock up to `limit` rows (of any tenant) encrypted under a key other than `activeKeyId` but one
 * of `readableKeyIds`, for re-encryption in the caller's transaction. SKIP LOCKED lets several
 * rewrappers split the work instead of queueing behind each other, and a concurrent `set` simply
 * waits for the row. Rows under keys this process cannot read are left for one that can.
 */
export async function lockSecretsToRewrap(db: Queryable, activeKeyId: string, readableKeyIds: readonly string[], limit: number): Promise<SecretCipherRow[]> {
  const { rows } = await db.query<SecretCipherRow>(
    `SELECT ${CIPHER_COLUMNS} FROM jobplane.tenant_secrets
     WHERE key_id <> $1 AND key_id = ANY($2::text[])
     ORDER BY tenant_id, name
     LIMIT $3
     FOR UPDATE SKIP LOCKED`,
    [activeKeyId, readableKeyIds, limit],
  );
  return rows;
}

/**
 * Store re-encrypted values of rows locked by {@link lockSecretsToRewrap}, in one statement.
 * `updated_at`/`updated_by` are left alone: they say who last set the value, and a rewrap does
 * not change it.
 */
export async function storeRewrapped(db: Queryable, rows: ReadonlyArray<{ tenantId: string; name: string; keyId: string; nonce: Buffer; ciphertext: Buffer }>): Promise<number> {
  if (rows.length === 0) return 0;
  const { rowCount } = await db.query(
    `UPDATE jobplane.tenant_secrets s SET key_id = u.key_id, nonce = decode(u.nonce, 'hex'), ciphertext = decode(u.ciphertext, 'hex')
     FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(tenant_id, name, key_id, nonce, ciphertext)
     WHERE s.tenant_id = u.tenant_id AND s.name = u.name`,
    [rows.map((r) => r.tenantId), rows.map((r) => r.name), rows.map((r) => r.keyId), rows.map((r) => r.nonce.toString('hex')), rows.map((r) => r.ciphertext.toString('hex'))],
  );
  return rowCount ?? 0;
}

/** How many secrets (of every tenant) are encrypted under each key other than `activeKeyId`. */
export async function countSecretsNotUnder(db: Queryable, activeKeyId: string): Promise<Map<string, number>> {
  const { rows } = await db.query<{ keyId: string; count: string }>(
    `SELECT key_id AS "keyId", count(*) AS count FROM jobplane.tenant_secrets WHERE key_id <> $1 GROUP BY key_id ORDER BY key_id`,
    [activeKeyId],
  );
  return new Map(rows.map((r) => [r.keyId, Number(r.count)]));
}

/** A key-encryption key stored in `jobplane.auth_secrets`, or null; never creates one. */
export async function findStoredKey(db: Queryable, name: string): Promise<Buffer | null> {
  const { rows } = await db.query<{ value: Buffer }>(`SELECT value FROM jobplane.auth_secrets WHERE name = $1`, [name]);
  return rows[0]?.value ?? null;
}
