/**
 * Input rules for identity (usernames, passwords, roles, scopes, key names) and the one error type
 * identity adds: RATE_LIMITED with the seconds to wait.
 */
import { ROLES, SCOPES, type Role, type Scope } from '../../core/access.js';
import { checkString } from '../../core/validate.js';
import { AppError, invalidField } from '../../errors/app-error.js';

/** Allowed username characters after normalisation. */
export const USERNAME_PATTERN = /^[a-z0-9._-]{3,64}$/;
/** Shortest password accepted (NIST 800-63B allows 8; we ask for more since there is no MFA). */
export const MIN_PASSWORD_LENGTH = 12;
/** Longest password accepted: bounds argon2 input and rejects junk, far above any passphrase. */
export const MAX_PASSWORD_LENGTH = 256;

/** RATE_LIMITED with how long to wait, for a `Retry-After` header. */
export class RateLimitedError extends AppError {
  /** Seconds until another attempt may succeed. */
  readonly retryAfterS: number;

  constructor(retryAfterS: number, detail = 'Too many failed logins; try again later') {
    super('RATE_LIMITED', detail);
    this.retryAfterS = retryAfterS;
  }
}

/**
 * A username in its stored form (NFC, lower-case), or null when it cannot be one. NFC first so
 * that visually identical names typed on different systems are the same account.
 */
export function normalizeUsername(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 256) return null;
  const normalized = value.normalize('NFC').toLowerCase();
  return USERNAME_PATTERN.test(normalized) ? normalized : null;
}

/** A valid username, or VALIDATION_FAILED. */
export function requireUsername(value: unknown, pointer = '/username'): string {
  const username = normalizeUsername(value);
  if (username === null) {
    throw invalidField(pointer, 'must be 3 to 64 characters of a-z, 0-9, ".", "_" or "-"');
  }
  return username;
}

/** A valid new password, or VALIDATION_FAILED. */
export function requirePassword(value: unknown, pointer = '/password'): string {
  const errors = checkString(value, pointer, { min: MIN_PASSWORD_LENGTH, max: MAX_PASSWORD_LENGTH });
  if (errors.length > 0) throw new AppError('VALIDATION_FAILED', `${pointer}: ${errors[0]!.message}`, { errors });
  return value as string;
}

/** A valid role, or VALIDATION_FAILED. */
export function requireRole(value: unknown, pointer = '/role'): Role {
  if (typeof value !== 'string' || !(ROLES as readonly string[]).includes(value)) {
    throw invalidField(pointer, `must be one of ${ROLES.join(', ')}`);
  }
  return value as Role;
}

/** A non-empty list of known scopes without duplicates, or VALIDATION_FAILED. */
export function requireScopes(value: unknown, pointer = '/scopes'): Scope[] {
  if (!Array.isArray(value) || value.length === 0) throw invalidField(pointer, 'must be a non-empty array of scopes');
  const scopes: Scope[] = [];
  value.forEach((item: unknown, index) => {
    if (typeof item !== 'string' || !(SCOPES as readonly string[]).includes(item)) {
      throw invalidField(`${pointer}/${index}`, `must be one of ${SCOPES.join(', ')}`);
    }
    if (!scopes.includes(item as Scope)) scopes.push(item as Scope);
  });
  return scopes;
}

/** A valid API key name, or VALIDATION_FAILED. */
export function requireKeyName(value: unknown, pointer = '/name'): string {
  const errors = checkString(value, pointer, { min: 1, max: 200 });
  if (errors.length > 0) throw new AppError('VALIDATION_FAILED', `${pointer}: ${errors[0]!.message}`, { errors });
  return value as string;
}
