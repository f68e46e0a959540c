/** The identity layer: users, logins, tokens and API keys (docs/decisions.md #15, #17). */
export { createIdentity, type ApiKey, type Identity, type IdentityOptions, type Session, type Tenant, type User } from './identity.js';
export { RateLimitedError, MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH, normalizeUsername } from './inputs.js';
export { hashPassword, verifyPassword, hashingStats, needsRehash, PASSWORD_PARAMS } from './passwords.js';
