/**
 * The tenant secrets store (docs/secrets.md): set, list, delete, resolve for workers, and rewrap
 * onto the active key. Values go in through `set` and out only through `resolve` (called by
 * workers, never by a route); everything else sees metadata. No HTTP here: the routes map the
 * AppError codes to problem responses.
 */
import { silentLogger, type Logger } from '../../core/deps.js';
import { SECRET_NAME_PATTERN } from '../../core/secret-refs.js';
import { checkString } from '../../core/validate.js';
import { withTransaction, type Queryable } from '../../db/pool.js';
import * as q from '../../db/queries/secrets.js';
import { AppError, type FieldError } from '../../errors/index.js';
import { openSecret, sealSecret, SecretDecryptionError } from './cipher.js';
import { createKeyring, type Keyring } from './keyring.js';

/** What anyone allowed to read secrets sees of one: never its value or ciphertext. */
export type SecretMetadata = q.SecretMetaRow;

/** Largest value, in UTF-8 bytes. */
export const MAX_SECRET_VALUE_BYTES = 65_536;
/** Longest description, in characters (mirrors the SQL CHECK). */
export const MAX_SECRET_DESCRIPTION = 500;
/** Rows a rewrap pass re-encrypts in one transaction by default. */
export const DEFAULT_REWRAP_BATCH = 100;

/** Options for {@link createSecretService}. */
export interface SecretServiceOptions {
  pool: Queryable;
  /** `id:base64` keys (JOBPLANE_SECRETS_KEYS). Ignored when `keyring` is given. @defaultValue [] */
  keys?: readonly string[];
  /** Id of the key that encrypts (JOBPLANE_SECRETS_ACTIVE_KEY). @defaultValue the first key */
  activeKey?: string | null;
  /** A keyring shared with other services of the process (one warning, one key load). */
  keyring?: Keyring;
  logger?: Logger;
}

/** What {@link SecretService.set} did. */
export interface SetSecretResult {
  /** Metadata before, null when the secret is new. */
  before: SecretMetadata | null;
  after: SecretMetadata;
  /** Whether the secret was created (else its value was replaced). */
  created: boolean;
}

/** Resolves secret values for the worker; the one way values leave the store. */
export interface SecretResolver {
  /**
   * The values of `names` in `tenantId`. Throws SECRET_NOT_FOUND naming what is missing, and
   * {@link SecretDecryptionError} (naming the secret and key id) when a value cannot be decrypted.
   */
  resolve(tenantId: string, names: readonly string[]): Promise<Map<string, string>>;
}

/** The secrets service. */
export type SecretService = ReturnType<typeof createSecretService>;

function fail(errors: FieldError[]): never {
  throw new AppError('VALIDATION_FAILED', `${errors[0]!.pointer}: ${errors[0]!.message}`, { errors });
}

/** Check a secret name (from a path or a payload); VALIDATION_FAILED at `pointer`. */
export function requireSecretName(name: unknown, pointer = '/name'): string {
  const errors = checkString(name, pointer, { max: 128, pattern: SECRET_NAME_PATTERN, patternHint: 'must be a secret name: letters, digits, _ . - (starting with a letter or digit), at most 128 characters' });
  if (errors.length > 0) fail(errors);
  return name as string;
}

/** Check a value: a string of 1 … 65,536 UTF-8 bytes. The message never quotes the value. */
function requireValue(value: unknown): string {
  if (typeof value !== 'string') fail([{ pointer: '/value', message: 'must be a string' }]);
  if (value.length === 0) fail([{ pointer: '/value', message: 'must not be empty' }]);
  // A lone surrogate would come back as U+FFFD: the stored value would silently differ from the one given.
  if (!value.isWellFormed()) fail([{ pointer: '/value', message: 'must be valid Unicode (it contains a lone surrogate)' }]);
  if (Buffer.byteLength(value, 'utf8') > MAX_SECRET_VALUE_BYTES) fail([{ pointer: '/value', message: `must be at most ${MAX_SECRET_VALUE_BYTES} bytes (UTF-8)` }]);
  return value;
}

/** undefined keeps the stored description, "" clears it. */
function requireDescription(description: unknown): string | null | undefined {
  if (description === undefined) return undefined;
  if (description === null || description === '') return null;
  const errors = checkString(description, '/description', { min: 0, max: MAX_SECRET_DESCRIPTION });
  if (errors.length > 0) fail(errors);
  return description as string;
}

/** Build the secrets service. Key material is parsed now; the database is touched on first use. */
export function createSecretService(options: SecretServiceOptions) {
  const { pool } = options;
  const logger = options.logger ?? silentLogger;
  const keyring = options.keyring ?? createKeyring({ pool, keys: options.keys ?? [], activeKey: options.activeKey ?? null, logger });

  async function decrypt(row: q.SecretCipherRow): Promise<string> {
    const key = await keyring.get(row.keyId);
    if (!key) {
      throw new SecretDecryptionError(
        row.name,
        row.keyId,
        `secret "${row.name}" is encrypted with key "${row.keyId}", which this process does not have: add it to JOBPLANE_SECRETS_KEYS (docs/secrets.md)`,
      );
    }
    return openSecret(key, row.keyId, row.tenantId, row.name, row);
  }

  /** Create a secret or replace its value (and description, when given). */
  async function set(tenantId: string, name: string, input: { value: unknown; description?: unknown }, actor: string | null): Promise<SetSecretResult> {
    requireSecretName(name);
    const value = requireValue(input.value);
    const description = requireDescription(input.description);
    const active = await keyring.active();
    const sealed = sealSecret(active.key, tenantId, name, value);
    return withTransaction(pool, async (tx) => {
      const before = await q.findSecretMeta(tx, tenantId, name, { forUpdate: true });
      const { meta, created } = await q.upsertSecret(tx, { tenantId, name, keyId: active.id, ...sealed, description, actor });
      return { before, after: meta, created };
    });
  }

  /** Metadata of one secret; SECRET_NOT_FOUND when the tenant has none by that name. */
  async function get(tenantId: string, name: string): Promise<SecretMetadata> {
    requireSecretName(name);
    const meta = await q.findSecretMeta(pool, tenantId, name);
    if (!meta) throw new AppError('SECRET_NOT_FOUND', `no secret "${name}"`);
    return meta;
  }

  /** Delete a secret; returns what it was. SECRET_NOT_FOUND when there is none. */
  async function remove(tenantId: string, name: string): Promise<SecretMetadata> {
    requireSecretName(name);
    const deleted = await q.deleteSecretRow(pool, tenantId, name);
    if (!deleted) throw new AppError('SECRET_NOT_FOUND', `no secret "${name}"`);
    return deleted;
  }

  async function resolve(tenantId: string, names: readonly string[]): Promise<Map<string, string>> {
    const wanted = [...new Set(names)];
    const rows = await q.findSecretCiphers(pool, tenantId, wanted);
    const missing = wanted.filter((name) => !rows.some((r) => r.name === name));
    if (missing.length > 0) throw new AppError('SECRET_NOT_FOUND', `no secret ${missing.map((m) => `"${m}"`).join(', ')} in this tenant`);
    const values = new Map<string, string>();
    for (const row of rows) values.set(row.name, await decrypt(row));
    return values;
  }

  /**
   * Re-encrypt up to `batch` rows whose key is not the active one (and that this process can
   * read) under the active key, in one transaction. Returns how many moved. Safe to run in
   * several processes at once: each locks its own rows (SKIP LOCKED).
   */
  async function rewrap(opts: { batch?: number } = {}): Promise<number> {
    // With only the database-kept key there is nothing to move to, and no reason to create it.
    if (!keyring.configured) return 0;
    const readable = (await keyring.readableIds()).filter((id) => id !== keyring.activeId);
    if (readable.length === 0) return 0;
    const active = await keyring.active();
    const batch = Math.max(1, Math.min(10_000, Math.floor(opts.batch ?? DEFAULT_REWRAP_BATCH)));
    return withTransaction(pool, async (tx) => {
      const rows = await q.lockSecretsToRewrap(tx, active.id, readable, batch);
      const moved: Array<q.SecretCipherRow> = [];
      for (const row of rows) {
        let value: string;
        try {
          value = await decrypt(row);
        } catch (error) {
          // One bad row must not stop the others; it stays under its key and is counted as left.
          logger.error({ tenantId: row.tenantId, secret: row.name, keyId: row.keyId, err: (error as Error).message }, 'could not rewrap a secret');
          continue;
        }
        moved.push({ tenantId: row.tenantId, name: row.name, keyId: active.id, ...sealSecret(active.key, row.tenantId, row.name, value) });
      }
      return q.storeRewrapped(tx, moved);
    });
  }

  /** How many secrets (all tenants) are still under keys other than the active one, by key id. */
  async function pendingRewrap(): Promise<{ total: number; byKey: Record<string, number> }> {
    const byKey = await q.countSecretsNotUnder(pool, keyring.activeId);
    return { total: [...byKey.values()].reduce((a, b) => a + b, 0), byKey: Object.fromEntries(byKey) };
  }

  return {
    keyring,
    set,
    get,
    list: (tenantId: string): Promise<SecretMetadata[]> => q.listSecretMeta(pool, tenantId),
    delete: remove,
    resolve,
    rewrap,
    pendingRewrap,
  };
}
