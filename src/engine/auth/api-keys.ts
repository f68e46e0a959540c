/** API keys: create (the secret is shown once), list, revoke; never more privileged than their creator. */
import type { Principal, Scope } from '../../core/access.js';
import { keyChangeProblem } from '../../core/account-rules.js';
import { uuidv7 } from '../../db/ids.js';
import { isPgError } from '../../db/pool.js';
import * as q from '../../db/queries/identity.js';
import { AppError, invalidField } from '../../errors/app-error.js';
import { UUID, type ApiKey, type IdentityContext } from './identity-context.js';
import { requireKeyName, requireScopes } from './inputs.js';
import { hashApiKey, newApiKey } from './tokens.js';

/** API keys over the shared identity state. */
export function createApiKeys(ctx: IdentityContext) {
  const { pool, clock, loadSecrets } = ctx;

  /**
   * Create an API key. The returned `key` is the only time the secret exists outside the caller.
   * With `actor`, a key that would outrank the actor is refused (TARGET_MORE_PRIVILEGED).
   */
  async function createApiKey(
    tenantId: string,
    input: { name: string; scopes: readonly Scope[]; expiresAt?: Date | null | undefined },
    createdBy: string | null,
    actor?: Principal,
  ): Promise<ApiKey & { key: string }> {
    const name = requireKeyName(input.name);
    const scopes = requireScopes(input.scopes);
    const problem = actor ? keyChangeProblem(actor, scopes) : null;
    if (problem) throw problem;
    const expiresAt = input.expiresAt ?? null;
    if (expiresAt !== null && (!(expiresAt instanceof Date) || !(expiresAt.getTime() > clock.nowMs()))) {
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

  /**
   * Revoke a key of `tenantId`; it stops authenticating on the next request. API_KEY_NOT_FOUND
   * otherwise. With `actor`, a key that outranks the actor is refused (TARGET_MORE_PRIVILEGED).
   */
  async function revokeApiKey(tenantId: string, id: string, actor?: Principal): Promise<ApiKey> {
    const current = UUID.test(id) ? await q.findApiKey(pool, tenantId, id) : null;
    if (!current) throw new AppError('API_KEY_NOT_FOUND');
    const problem = actor ? keyChangeProblem(actor, current.scopes) : null;
    if (problem) throw problem;
    const row = await q.revokeApiKeyRow(pool, tenantId, id);
    if (!row) throw new AppError('API_KEY_NOT_FOUND');
    return row;
  }

  return { createApiKey, listApiKeys, revokeApiKey };
}
