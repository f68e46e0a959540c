/** The tenant secrets store: encryption at rest, keyring, service and submit-time reference checks (docs/secrets.md). */
export { SecretDecryptionError, secretAad, sealSecret, openSecret, type SealedValue } from './cipher.js';
export { createKeyring, parseKeyEntries, DB_KEY_ID, DB_KEY_SECRET_NAME, type Keyring, type KeyringOptions } from './keyring.js';
export {
  createSecretService,
  requireSecretName,
  DEFAULT_REWRAP_BATCH,
  MAX_SECRET_DESCRIPTION,
  MAX_SECRET_VALUE_BYTES,
  type SecretMetadata,
  type SecretResolver,
  type SecretService,
  type SecretServiceOptions,
  type SetSecretResult,
} from './secret-service.js';
export { assertSecretRefsExist, type SecretRefItem } from './references.js';
