/**
 * AES-256-GCM for one secret value. A fresh random 12-byte nonce per encryption (a nonce reused
 * under one key breaks GCM, and values are encrypted at human rates, far below the 2^32 random
 * nonces NIST allows per key), and additional authenticated data that binds the ciphertext to its
 * tenant and name: a row copied onto another tenant's or another name's row fails to decrypt.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** The encrypted form of a value: what a `tenant_secrets` row stores. */
export interface SealedValue {
  nonce: Buffer;
  /** Ciphertext with the GCM tag appended. */
  ciphertext: Buffer;
}

/** A value could not be decrypted: wrong key, tampered row, or a row moved to another tenant or name. */
export class SecretDecryptionError extends Error {
  /** The secret's name (never its value). */
  readonly secretName: string;
  /** The key id the row named. */
  readonly keyId: string;
  constructor(secretName: string, keyId: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SecretDecryptionError';
    this.secretName = secretName;
    this.keyId = keyId;
  }
}

/** `jobplane/secret/v1 NUL tenantId NUL name`: versioned so a future format cannot be confused with this one. */
export function secretAad(tenantId: string, name: string): Buffer {
  return Buffer.from(`jobplane/secret/v1\0${tenantId}\0${name}`, 'utf8');
}

/** Encrypt `value` (UTF-8) for the secret `name` of `tenantId` under `key` (32 bytes). */
export function sealSecret(key: Buffer, tenantId: string, name: string, value: string): SealedValue {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(secretAad(tenantId, name));
  const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return { nonce, ciphertext: Buffer.concat([body, cipher.getAuthTag()]) };
}

/** Decrypt a row's value; throws {@link SecretDecryptionError} when it does not authenticate. */
export function openSecret(key: Buffer, keyId: string, tenantId: string, name: string, sealed: SealedValue): string {
  const fail = (cause?: unknown): never => {
    throw new SecretDecryptionError(
      name,
      keyId,
      `secret "${name}" could not be decrypted with key "${keyId}": the stored ciphertext does not authenticate (a different key under the same id, a changed row, or a row copied from another tenant or name)`,
      cause === undefined ? undefined : { cause },
    );
  };
  if (sealed.nonce.length !== NONCE_BYTES || sealed.ciphertext.length < TAG_BYTES) return fail();
  try {
    const decipher = createDecipheriv(ALGORITHM, key, sealed.nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(secretAad(tenantId, name));
    decipher.setAuthTag(sealed.ciphertext.subarray(sealed.ciphertext.length - TAG_BYTES));
    const plain = Buffer.concat([decipher.update(sealed.ciphertext.subarray(0, sealed.ciphertext.length - TAG_BYTES)), decipher.final()]);
    return plain.toString('utf8');
  } catch (error) {
    return fail(error);
  }
}
