/**
 * What the identity service's parts share (src/engine/auth/sessions.ts, users.ts, tenants.ts,
 * api-keys.ts): the options, the secrets loaded once, the login guard, ending a session, and the
 * public shapes of users, keys and tenants.
 */
import { randomBytes } from 'node:crypto';
import type { Principal } from '../../core/access.js';
import { silentLogger, type Clock, type Logger } from '../../core/deps.js';
import { systemClock } from '../clock.js';
import type { Queryable } from '../../db/pool.js';
import * as q from '../../db/queries/identity.js';
import { revokeSession } from '../../db/queries/sessions.js';
import { AppError } from '../../errors/app-error.js';
import { createLoginGuard, type LoginGuard } from './login-guard.js';
import type { RevokedSessions } from './revocations.js';
import { revokedSessionHoldS } from './tokens.js';

/** A user as returned to callers: never the password hash. */
export type User = Omit<q.UserRow, 'tokenVersion'>;
/** An API key as returned to callers: never the key or its hash. */
export type ApiKey = q.ApiKeyRow;
/** A tenant, with its user count. */
export type Tenant = q.TenantRow;

/** Options for {@link createIdentity}. */
export interface IdentityOptions {
  pool: Queryable;
  logger?: Logger;
  /** HS256 signing secret, ≥ 32 bytes. When absent one is generated once and kept in the database. */
  jwtSecret?: string | undefined;
  /** Pepper for API key HMACs, ≥ 32 bytes. When absent one is generated once and kept in the database. */
  apiKeyPepper?: string | undefined;
  /** Access token lifetime. @defaultValue 900 (15 min) */
  accessTtlS?: number;
  /** Absolute lifetime of a login's refresh-token family. @defaultValue 2592000 (30 days) */
  refreshTtlS?: number;
  /**
   * The process's in-memory list of revoked sessions (started by the caller). Without it every
   * access token's session is checked with a query.
   */
  revocations?: RevokedSessions;
  clock?: Clock;
}

/** Who asks for a change to an account or key, and from where (for throttling a current-password check). */
export interface ActorContext {
  actor: Principal;
  ip?: string;
}

/** The secrets every process of an installation signs and hashes with. */
export interface IdentitySecrets {
  jwt: Uint8Array;
  pepper: Uint8Array;
}

/** The shared state of one identity service, built once by {@link createIdentityContext}. */
export interface IdentityContext {
  pool: Queryable;
  logger: Logger;
  clock: Clock;
  accessTtlS: number;
  refreshTtlS: number;
  revocations: RevokedSessions | undefined;
  guard: LoginGuard;
  /** The signing secret and key pepper: configured, or loaded (created) from the database on first use. */
  loadSecrets: () => Promise<IdentitySecrets>;
  /** End a session (refresh-token family): no refresh, and its access tokens fail from now on. */
  endSession: (db: Queryable, sessionId: string) => Promise<void>;
}

/** The shape ids must have before they reach SQL. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A user row as callers see it: without its token version. */
export function publicUser(row: q.UserRow): User {
  const { tokenVersion: _tokenVersion, ...user } = row;
  return user;
}

function secretBytes(value: string | undefined, what: string): Uint8Array | null {
  if (value === undefined) return null;
  const bytes = new TextEncoder().encode(value);
  if (bytes.length < 32) throw new AppError('CONFIG_INVALID', `${what} must be at least 32 bytes (256 bits)`);
  return bytes;
}

/** Build the shared state. Secrets missing from the options are loaded (or created) on first use. */
export function createIdentityContext(options: IdentityOptions): IdentityContext {
  const { pool } = options;
  const logger = options.logger ?? silentLogger;
  const accessTtlS = options.accessTtlS ?? 900;
  const refreshTtlS = options.refreshTtlS ?? 30 * 24 * 3600;
  const clock = options.clock ?? systemClock;
  const guard = createLoginGuard({ pool, logger, clock });
  const revokedHoldS = revokedSessionHoldS(accessTtlS);
  const configuredJwt = secretBytes(options.jwtSecret, 'jwtSecret');
  const configuredPepper = secretBytes(options.apiKeyPepper, 'apiKeyPepper');

  let secrets: Promise<IdentitySecrets> | null = null;
  function loadSecrets(): Promise<IdentitySecrets> {
    secrets ??= (async () => ({
      jwt: configuredJwt ?? (await q.ensureSecret(pool, 'jwt_hs256', randomBytes(32))),
      pepper: configuredPepper ?? (await q.ensureSecret(pool, 'api_key_pepper', randomBytes(32))),
    }))();
    // A failed load (database down) must not be cached forever.
    secrets.catch(() => {
      secrets = null;
    });
    return secrets;
  }

  async function endSession(db: Queryable, sessionId: string): Promise<void> {
    await revokeSession(db, sessionId, revokedHoldS);
    options.revocations?.add(sessionId, clock.nowMs() + revokedHoldS * 1000);
  }

  return { pool, logger, clock, accessTtlS, refreshTtlS, revocations: options.revocations, guard, loadSecrets, endSession };
}
