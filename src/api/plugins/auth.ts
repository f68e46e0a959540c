import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { can, type Permission, type Principal } from '../../core/access.js';
import { AppError } from '../../errors/index.js';

/** Turns a bearer token or API key into a principal (or throws UNAUTHENTICATED / TOKEN_INVALID). */
export type Authenticator = (credential: string) => Promise<Principal>;

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller (set by the auth hook on protected routes). */
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** The permission a route needs; routes without one are public. */
    permission?: Permission;
  }
}

const MAX_CREDENTIAL = 4096;

/** Whether the request carries header `name` more than once (Node keeps only the first Authorization). */
function repeated(request: FastifyRequest, name: string): boolean {
  const raw = request.raw.rawHeaders;
  let seen = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]?.toLowerCase() === name) seen += 1;
  return seen > 1;
}

/** The credential of a request: `Authorization: Bearer …` or `x-api-key: …`. */
export function credentialOf(request: FastifyRequest): string | null {
  // Two credentials are refused rather than guessing which one a proxy or the caller meant.
  if (repeated(request, 'authorization') || repeated(request, 'x-api-key')) throw new AppError('UNAUTHENTICATED', 'send one credential, not several');
  const header = request.headers.authorization;
  const key = request.headers['x-api-key'];
  if (typeof header === 'string' && header.length > 0) {
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) throw new AppError('UNAUTHENTICATED', 'use "Authorization: Bearer <token or API key>"');
    return m[1]!;
  }
  if (typeof key === 'string' && key.length > 0) return key.trim();
  return null;
}

/** Options of {@link authPlugin}. */
export interface AuthPluginOptions {
  authenticate: Authenticator;
}

/**
 * Protect routes that declare `config.permission`: authenticate, then check the role or key
 * scopes. The tenant always comes from the principal, never from the request. Not encapsulated:
 * it guards every route of the app it is registered on.
 */
export const authPlugin = fp<AuthPluginOptions>(async (app, { authenticate }) => {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    const permission = request.routeOptions.config.permission;
    if (!permission) return;
    const credential = credentialOf(request);
    if (!credential) throw new AppError('UNAUTHENTICATED', 'send "Authorization: Bearer <token or API key>" or "x-api-key"');
    if (credential.length > MAX_CREDENTIAL) throw new AppError('TOKEN_INVALID', 'the credential is too long');
    const principal = await authenticate(credential);
    if (!can(principal, permission)) throw new AppError('FORBIDDEN', `this ${principal.kind === 'user' ? 'role' : 'key'} may not ${permission.replace(':', ' ')}`);
    request.principal = principal;
  });
}, { name: 'jobplane-auth' });

/** The principal of a protected route (the hook guarantees it). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('UNAUTHENTICATED');
  return request.principal;
}
