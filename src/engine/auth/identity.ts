/**
 * The identity service, one object over its parts: sessions (logins, tokens, authentication),
 * users, tenants and API keys, which share the state built in ./identity-context.ts. No HTTP here;
 * the routes call these functions and map AppError codes to problem responses.
 */
import { createApiKeys } from './api-keys.js';
import { createIdentityContext, type IdentityOptions } from './identity-context.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { createSessions } from './sessions.js';
import { createTenants } from './tenants.js';
import { createUsers } from './users.js';

export type { ActorContext, ApiKey, IdentityOptions, Tenant, User } from './identity-context.js';
export { REFRESH_REUSE_GRACE_MS, type Session } from './sessions.js';

/** The identity service. */
export type Identity = ReturnType<typeof createIdentity>;

/** Build the identity service. Secrets missing from the options are loaded (or created) on first use. */
export function createIdentity(options: IdentityOptions) {
  const ctx = createIdentityContext(options);
  return {
    ...createSessions(ctx),
    ...createUsers(ctx),
    ...createTenants(ctx),
    ...createApiKeys(ctx),
    /** Write pending failed-login lines now (tests; shutdown). */
    flush: () => ctx.guard.flush(),
    hashPassword,
    verifyPassword,
  };
}
