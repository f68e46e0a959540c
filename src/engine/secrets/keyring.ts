/**
 * The keys that encrypt tenant secrets at rest. Configured keys come from JOBPLANE_SECRETS_KEYS
 * (`id:base64` of 32 bytes each); the active one (JOBPLANE_SECRETS_ACTIVE_KEY, default the first)
 * encrypts, every one decrypts. With none configured, one key is generated once and kept in
 * `jobplane.auth_secrets` (key id `db`), which is convenient and honest about its cost: whoever
 * reads the database can decrypt. That stored key is also read (never created) when keys are
 * configured, so secrets set before the operator configured keys can still be read and rewrapped.
 */
import { randomBytes } from 'node:crypto';
import { silentLogger, type Logger } from '../../core/deps.js';
import type { Queryable } from '../../db/pool.js';
import { ensureSecret } from '../../db/queries/identity.js';
import { findStoredKey } from '../../db/queries/secrets.js';
import { AppError } from '../../errors/index.js';

/** Key id of the generated key kept in the database. */
export const DB_KEY_ID = 'db';
/** Name of that key's row in `jobplane.auth_secrets`. */
export const DB_KEY_SECRET_NAME = 'secrets_kek_default';

const ENTRY = /^([A-Za-z0-9_-]{1,32}):([A-Za-z0-9+/_-]+={0,2})$/;

/** Options for {@link createKeyring}. */
export interface KeyringOptions {
  /** Where the generated default key lives. */
  pool: Queryable;
  /** `id:base64` entries (the config's `secretsKeys`). @defaultValue [] (the database-kept key) */
  keys?: readonly string[];
  /** Id of the entry that encrypts. @defaultValue the first entry's id */
  activeKey?: string | null;
  logger?: Logger;
}

/** The keys of one process. */
export interface Keyring {
  /** Id of the key that encrypts new and rewrapped values. */
  readonly activeId: string;
  /** Whether the keys come from configuration (false: the database-kept key). */
  readonly configured: boolean;
  /** The active key; the database-kept one is generated on first use when none is configured. */
  active(): Promise<{ id: string; key: Buffer }>;
  /** The key named `id`, or null when this process does not hold it. */
  get(id: string): Promise<Buffer | null>;
  /** Ids of every key this process can decrypt with right now. */
  readableIds(): Promise<string[]>;
}

/** Parse `id:base64` entries; a bad entry is a CONFIG_INVALID that never echoes key material. */
export function parseKeyEntries(entries: readonly string[]): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  entries.forEach((entry, index) => {
    const m = ENTRY.exec(entry);
    const key = m ? Buffer.from(m[2]!, 'base64') : null;
    if (!m || key?.length !== 32) throw new AppError('CONFIG_INVALID', `secrets key entry ${index + 1} must be id:base64 of 32 bytes`);
    if (keys.has(m[1]!)) throw new AppError('CONFIG_INVALID', `secrets key id "${m[1]!}" is given twice`);
    keys.set(m[1]!, key);
  });
  return keys;
}

/** Build a process's keyring. Parsing is eager (a bad key fails at start); database reads are lazy. */
export function createKeyring(options: KeyringOptions): Keyring {
  const configuredKeys = parseKeyEntries(options.keys ?? []);
  const configured = configuredKeys.size > 0;
  const activeId = options.activeKey ?? [...configuredKeys.keys()][0] ?? DB_KEY_ID;
  if (configured && !configuredKeys.has(activeId)) throw new AppError('CONFIG_INVALID', `the active secrets key "${activeId}" is not among the configured keys`);
  if (!configured && activeId !== DB_KEY_ID) throw new AppError('CONFIG_INVALID', `the active secrets key "${activeId}" is set but no secrets keys are configured`);
  const logger = options.logger ?? silentLogger;

  // Kept once found. A missing key is not remembered: another process may create it any moment.
  let stored: Buffer | null = null;
  const loadStored = async (create: boolean): Promise<Buffer | null> => {
    if (stored) return stored;
    const key = create ? await ensureSecret(options.pool, DB_KEY_SECRET_NAME, randomBytes(32)) : await findStoredKey(options.pool, DB_KEY_SECRET_NAME);
    if (key !== null && stored === null) {
      stored = key;
      if (!configured) {
        logger.warn(
          { keyId: DB_KEY_ID },
          'tenant secrets are encrypted with a key kept in the database: a dump of the database alone reveals them. Set JOBPLANE_SECRETS_KEYS in production (docs/secrets.md)',
        );
      }
    }
    return key;
  };

  return {
    activeId,
    configured,
    async active() {
      const key = configured ? configuredKeys.get(activeId)! : await loadStored(true);
      return { id: activeId, key: key! };
    },
    async get(id) {
      const own = configuredKeys.get(id);
      if (own) return own;
      return id === DB_KEY_ID ? loadStored(false) : null;
    },
    async readableIds() {
      const ids = [...configuredKeys.keys()];
      if (!configuredKeys.has(DB_KEY_ID) && (await loadStored(false)) !== null) ids.push(DB_KEY_ID);
      return ids;
    },
  };
}
