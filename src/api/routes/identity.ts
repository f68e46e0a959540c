import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf, SCOPES } from '../../core/access.js';
import { parseTimestamp } from '../../core/validate.js';
import type { ApiKey, Identity, Tenant, User } from '../../engine/auth/index.js';
import { AppError } from '../../errors/index.js';
import type { Auditor } from '../plugins/audit.js';
import { principalOf } from '../plugins/auth.js';
import { IdParams, problemResponses } from '../schemas/common.js';

const RoleSchema = Type.Union([Type.Literal('viewer'), Type.Literal('manager'), Type.Literal('admin')]);
const UserView = Type.Object({
  id: Type.String(), tenantId: Type.String(), username: Type.String(), role: Type.String(), superadmin: Type.Boolean(),
  disabled: Type.Boolean(), createdAt: Type.String(), updatedAt: Type.String(), lastLoginAt: Type.Union([Type.String(), Type.Null()]),
});
const KeyView = Type.Object({
  id: Type.String(), name: Type.String(), prefix: Type.String(), last4: Type.String(), scopes: Type.Array(Type.String()),
  expiresAt: Type.Union([Type.String(), Type.Null()]), lastUsedAt: Type.Union([Type.String(), Type.Null()]),
  revokedAt: Type.Union([Type.String(), Type.Null()]), createdBy: Type.Union([Type.String(), Type.Null()]), createdAt: Type.String(),
});
const LoginFailureView = Type.Object({
  at: Type.String({ description: 'the last attempt of this line' }), firstAt: Type.String(), minute: Type.String(),
  clientIp: Type.String(), username: Type.String(), reason: Type.String(), userId: Type.Union([Type.String(), Type.Null()]), attempts: Type.Integer(),
});
const TenantView = Type.Object({ id: Type.String(), slug: Type.String(), name: Type.String(), users: Type.Integer(), createdAt: Type.String() });
const SessionView = Type.Object({ accessToken: Type.String(), refreshToken: Type.String(), expiresIn: Type.Integer(), tokenType: Type.Literal('Bearer'), user: UserView });
const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

function userView(u: User) {
  return { ...u, role: u.role as string, createdAt: u.createdAt.toISOString(), updatedAt: u.updatedAt.toISOString(), lastLoginAt: iso(u.lastLoginAt) };
}
function tenantView(t: Tenant) {
  return { id: t.id, slug: t.slug, name: t.name, users: t.users, createdAt: t.createdAt.toISOString() };
}
function keyView(k: ApiKey) {
  return { id: k.id, name: k.name, prefix: k.prefix, last4: k.last4, scopes: [...k.scopes] as string[], expiresAt: iso(k.expiresAt), lastUsedAt: iso(k.lastUsedAt), revokedAt: iso(k.revokedAt), createdBy: k.createdBy, createdAt: k.createdAt.toISOString() };
}

/** Dependencies of the identity routes. */
export interface IdentityRouteDeps {
  identity: Identity;
  audit: Auditor;
}

/**
 * /api/v1/auth (login, refresh, logout), /api/v1/me, /api/v1/users and /api/v1/keys (admins),
 * /api/v1/tenants (superadmins).
 */
export async function identityRoutes(app: FastifyInstance, { identity, audit }: IdentityRouteDeps): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const session = (s: Awaited<ReturnType<Identity['login']>>) => ({ ...s, tokenType: 'Bearer' as const, user: userView(s.user) });

  r.post('/api/v1/auth/login', {
    schema: {
      tags: ['auth'],
      summary: 'Log in: a short-lived access token and a refresh token (rotated on every use)',
      security: [],
      body: Type.Object({ username: Type.String({ maxLength: 256 }), password: Type.String({ maxLength: 1024 }) }, { additionalProperties: false }),
      response: { 200: SessionView, 400: Type.Ref('Problem'), 401: Type.Ref('Problem'), 429: Type.Ref('Problem') },
    },
  }, async (request) => {
    // Failed and throttled logins go to the failed-login trail (GET /api/v1/security/login-failures),
    // not to the tenant's audit chain: anonymous requests must not grow a chain without bound.
    const result = await identity.login(request.body.username, request.body.password, { ip: request.ip });
    await audit(request, { action: 'auth.login', tenantId: result.user.tenantId, actor: `user:${result.user.id}`, targetType: 'user', targetId: result.user.id });
    return session(result);
  });

  r.post('/api/v1/auth/refresh', {
    schema: {
      tags: ['auth'],
      summary: 'Exchange a refresh token for a new pair; a reused refresh token revokes the whole session',
      security: [],
      body: Type.Object({ refreshToken: Type.String({ maxLength: 512 }) }, { additionalProperties: false }),
      response: { 200: SessionView, 400: Type.Ref('Problem'), 401: Type.Ref('Problem') },
    },
  }, async (request) => session(await identity.refresh(request.body.refreshToken)));

  r.post('/api/v1/auth/logout', {
    schema: {
      tags: ['auth'],
      summary: 'End the session of a refresh token',
      security: [],
      body: Type.Object({ refreshToken: Type.String({ maxLength: 512 }) }, { additionalProperties: false }),
      response: { 204: Type.Null(), 400: Type.Ref('Problem'), 401: Type.Ref('Problem') },
    },
  }, async (request, reply) => {
    await identity.logout(request.body.refreshToken);
    return reply.code(204).send(null);
  });

  r.get('/api/v1/me', {
    config: { permission: 'jobs:read' },
    schema: {
      tags: ['auth'],
      summary: 'Who am I: the user or key behind the credential, with its role or scopes',
      response: { 200: Type.Object({ kind: Type.String(), id: Type.String(), tenantId: Type.String(), username: Type.Optional(Type.String()), role: Type.Optional(Type.String()), superadmin: Type.Optional(Type.Boolean()), prefix: Type.Optional(Type.String()), scopes: Type.Optional(Type.Array(Type.String())) }), ...problemResponses },
    },
  }, (request) => ({ ...principalOf(request) }));

  r.post('/api/v1/me/password', {
    config: { permission: 'jobs:read' },
    schema: {
      tags: ['auth'],
      summary: 'Change your own password (the current one is required); every session of yours ends',
      description: 'Wrong current passwords are throttled like logins and answer 403 `CURRENT_PASSWORD_INVALID`. Afterwards log in again with the new password. API keys have no password (403).',
      body: Type.Object({ currentPassword: Type.String({ maxLength: 1024 }), newPassword: Type.String({ maxLength: 256 }) }, { additionalProperties: false }),
      response: { 204: Type.Null(), ...problemResponses, 429: Type.Ref('Problem') },
    },
  }, async (request, reply) => {
    const principal = principalOf(request);
    const user = await identity.changeOwnPassword({ actor: principal, ip: request.ip }, request.body.currentPassword, request.body.newPassword);
    await audit(request, { action: 'user.password_change', targetType: 'user', targetId: user.id, after: { passwordChanged: true } });
    return reply.code(204).send(null);
  });

  r.get('/api/v1/security/login-failures', {
    config: { permission: 'audit:read' },
    schema: {
      tags: ['audit'],
      summary: 'Failed and throttled logins on your tenant\'s users, newest first (one line per minute, address, username and reason)',
      description: 'Kept apart from the audit chain, bounded in age and size (docs/security.md). Superadmins also see attempts on usernames that name nobody.',
      querystring: Type.Object({ before: Type.Optional(Type.String({ format: 'date-time' })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })) }, { additionalProperties: false }),
      response: { 200: Type.Object({ failures: Type.Array(LoginFailureView), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...problemResponses },
    },
  }, async (request) => {
    const limit = request.query.limit ?? 100;
    const rows = await identity.listLoginFailures(principalOf(request), { before: request.query.before ? new Date(request.query.before) : undefined, limit });
    const failures = rows.map((f) => ({ at: f.lastAt.toISOString(), firstAt: f.firstAt.toISOString(), minute: f.bucket.toISOString(), clientIp: f.clientIp, username: f.username, reason: f.reason, userId: f.userId, attempts: f.attempts }));
    return { failures, nextCursor: rows.length === limit ? failures[failures.length - 1]!.at : null };
  });

  r.get('/api/v1/users', {
    config: { permission: 'admin' },
    schema: { tags: ['users'], summary: 'List the users of your tenant', response: { 200: Type.Object({ users: Type.Array(UserView) }), ...problemResponses } },
  }, async (request) => ({ users: (await identity.listUsers(principalOf(request).tenantId)).map(userView) }));

  r.post('/api/v1/users', {
    config: { permission: 'admin' },
    schema: {
      tags: ['users'],
      summary: 'Create a user (password ≥ 12 characters, hashed with argon2id)',
      body: Type.Object({ username: Type.String({ maxLength: 64 }), password: Type.String({ maxLength: 256 }), role: RoleSchema }, { additionalProperties: false }),
      response: { 201: UserView, ...problemResponses, 409: Type.Ref('Problem') },
    },
  }, async (request, reply) => {
    const view = userView(await identity.createUser(principalOf(request).tenantId, { ...request.body, role: request.body.role }));
    await audit(request, { action: 'user.create', targetType: 'user', targetId: view.id, after: view });
    return reply.code(201).send(view);
  });

  r.get('/api/v1/tenants', {
    config: { permission: 'tenants' },
    schema: { tags: ['tenants'], summary: 'List every tenant (superadmins only)', response: { 200: Type.Object({ tenants: Type.Array(TenantView) }), ...problemResponses } },
  }, async () => ({ tenants: (await identity.listTenants()).map(tenantView) }));

  r.post('/api/v1/tenants', {
    config: { permission: 'tenants' },
    schema: {
      tags: ['tenants'],
      summary: 'Create a tenant with its first admin, in one transaction (superadmins only)',
      description: 'The new admin logs in with this username and password and sees only the new tenant. Usernames are unique across tenants.',
      body: Type.Object({
        slug: Type.String({ maxLength: 63 }),
        name: Type.String({ maxLength: 200 }),
        admin: Type.Object({ username: Type.String({ maxLength: 64 }), password: Type.String({ maxLength: 256 }) }, { additionalProperties: false }),
      }, { additionalProperties: false }),
      response: { 201: Type.Object({ tenant: TenantView, admin: UserView }), ...problemResponses, 409: Type.Ref('Problem') },
    },
  }, async (request, reply) => {
    const created = await identity.createTenant(request.body);
    const answer = { tenant: tenantView(created.tenant), admin: userView(created.admin) };
    const after = { tenant: answer.tenant, admin: { id: answer.admin.id, username: answer.admin.username } };
    // In the creator's chain, and as the first entry of the new tenant's own chain.
    await Promise.all([
      audit(request, { action: 'tenant.create', targetType: 'tenant', targetId: answer.tenant.id, after }),
      audit(request, { action: 'tenant.create', targetType: 'tenant', targetId: answer.tenant.id, after, tenantId: answer.tenant.id }),
    ]);
    return reply.code(201).send(answer);
  });

  r.get('/api/v1/users/:id', {
    config: { permission: 'admin' },
    schema: { tags: ['users'], summary: 'Get a user', params: IdParams, response: { 200: UserView, ...problemResponses } },
  }, async (request) => userView(await identity.getUser(principalOf(request).tenantId, request.params.id)));

  r.patch('/api/v1/users/:id', {
    config: { permission: 'admin' },
    schema: {
      tags: ['users'],
      summary: 'Change role, disable, superadmin, or set a new password (the last two end the user’s sessions)',
      description: [
        'Nobody may change an account that holds more power than their own (403 `TARGET_MORE_PRIVILEGED`: a tenant admin and a superadmin), grant a role above their own, or disable themselves.',
        'Only superadmins grant or remove `superadmin`. The last superadmin and the last admin of a tenant cannot be disabled or demoted (409 `LAST_SUPERADMIN`, `LAST_ADMIN`).',
        'Setting your own password needs `currentPassword` (or use POST /api/v1/me/password).',
      ].join(' '),
      params: IdParams,
      body: Type.Object({
        role: Type.Optional(RoleSchema),
        disabled: Type.Optional(Type.Boolean()),
        superadmin: Type.Optional(Type.Boolean()),
        password: Type.Optional(Type.String({ maxLength: 256 })),
        currentPassword: Type.Optional(Type.String({ maxLength: 1024 })),
      }, { additionalProperties: false }),
      response: { 200: UserView, ...problemResponses, 409: Type.Ref('Problem'), 429: Type.Ref('Problem') },
    },
  }, async (request) => {
    const principal = principalOf(request);
    const change = await identity.updateUser(principal.tenantId, request.params.id, request.body, { actor: principal, ip: request.ip });
    const after = userView(change.after);
    await audit(request, { action: 'user.update', targetType: 'user', targetId: after.id, before: userView(change.before), after: { ...after, passwordChanged: request.body.password !== undefined } });
    return after;
  });

  r.delete('/api/v1/users/:id', {
    config: { permission: 'admin' },
    schema: {
      tags: ['users'],
      summary: 'Delete a user',
      description: 'Not yourself, not an account with more power than yours (403 `TARGET_MORE_PRIVILEGED`), not the last superadmin or the last admin of a tenant (409).',
      params: IdParams,
      response: { 204: Type.Null(), ...problemResponses, 409: Type.Ref('Problem') },
    },
  }, async (request, reply) => {
    const principal = principalOf(request);
    const before = userView(await identity.deleteUser(principal.tenantId, request.params.id, { actor: principal, ip: request.ip }));
    await audit(request, { action: 'user.delete', targetType: 'user', targetId: before.id, before });
    return reply.code(204).send(null);
  });

  r.get('/api/v1/keys', {
    config: { permission: 'admin' },
    schema: { tags: ['keys'], summary: 'List API keys (never the secrets)', response: { 200: Type.Object({ keys: Type.Array(KeyView) }), ...problemResponses } },
  }, async (request) => ({ keys: (await identity.listApiKeys(principalOf(request).tenantId)).map(keyView) }));

  r.post('/api/v1/keys', {
    config: { permission: 'admin' },
    schema: {
      tags: ['keys'],
      summary: 'Create an API key; the key is in this answer only',
      body: Type.Object({
        name: Type.String({ minLength: 1, maxLength: 128 }),
        scopes: Type.Array(Type.Union(SCOPES.map((s) => Type.Literal(s))), { minItems: 1, uniqueItems: true }),
        expiresAt: Type.Optional(Type.String()),
      }, { additionalProperties: false }),
      response: { 201: Type.Intersect([KeyView, Type.Object({ key: Type.String() })]), ...problemResponses },
    },
  }, async (request, reply) => {
    const principal = principalOf(request);
    const expires = request.body.expiresAt === undefined ? null : parseTimestamp(request.body.expiresAt, '/expiresAt');
    if (expires?.errors.length) throw new AppError('VALIDATION_FAILED', expires.errors[0]!.message, { errors: expires.errors });
    const created = await identity.createApiKey(principal.tenantId, { name: request.body.name, scopes: request.body.scopes, expiresAt: expires?.value ?? null }, actorOf(principal), principal);
    await audit(request, { action: 'key.create', targetType: 'api_key', targetId: created.id, after: keyView(created) });
    return reply.code(201).send({ ...keyView(created), key: created.key });
  });

  r.post('/api/v1/keys/:id/revoke', {
    config: { permission: 'admin' },
    schema: { tags: ['keys'], summary: 'Revoke an API key (effective at once)', params: IdParams, response: { 200: KeyView, ...problemResponses } },
  }, async (request) => {
    const principal = principalOf(request);
    const view = keyView(await identity.revokeApiKey(principal.tenantId, request.params.id, principal));
    await audit(request, { action: 'key.revoke', targetType: 'api_key', targetId: view.id, after: view });
    return view;
  });
}
