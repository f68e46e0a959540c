import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf } from '../../core/access.js';
import { SECRET_NAME_PATTERN } from '../../core/secret-refs.js';
import { MAX_SECRET_DESCRIPTION, MAX_SECRET_VALUE_BYTES, type SecretMetadata, type SecretService } from '../../engine/secrets/index.js';
import type { Auditor } from '../plugins/audit.js';
import { principalOf } from '../plugins/auth.js';
import { problemResponses } from '../schemas/common.js';

/**
 * A secret as every answer shows it: metadata, and `set: true` in place of the value. Shared
 * schema `Secret`, added by build-app.ts (one added inside a route plugin would replace the app's
 * validator compiler there).
 */
export const SecretView = Type.Object({
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  keyId: Type.String({ description: 'Id of the key the value is encrypted under (rotation progress)' }),
  set: Type.Literal(true, { description: 'A value is stored; it is never returned' }),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  updatedBy: Type.Union([Type.String(), Type.Null()]),
}, { $id: 'Secret' });

const NameParams = Type.Object({ name: Type.String({ pattern: SECRET_NAME_PATTERN.source, description: 'Secret name: letters, digits, _ . - (≤ 128)' }) }, { additionalProperties: false });

const SecretSet = Type.Object({
  // Characters ≤ bytes, so this bound never refuses a value the byte check would accept.
  value: Type.String({ minLength: 1, maxLength: MAX_SECRET_VALUE_BYTES, description: `The value, 1 … ${MAX_SECRET_VALUE_BYTES} bytes of UTF-8; stored encrypted, never returned` }),
  description: Type.Optional(Type.String({ maxLength: MAX_SECRET_DESCRIPTION, description: 'Omitted: kept as it was; "": cleared' })),
}, { additionalProperties: false });

/** The answer for a secret: metadata only. */
export function secretView(meta: SecretMetadata) {
  return {
    name: meta.name,
    description: meta.description,
    keyId: meta.keyId,
    set: true as const,
    createdAt: meta.createdAt.toISOString(),
    updatedAt: meta.updatedAt.toISOString(),
    createdBy: meta.createdBy,
    updatedBy: meta.updatedBy,
  };
}

/** Dependencies of the secret routes. */
export interface SecretRouteDeps {
  secrets: SecretService;
  audit: Auditor;
}

/**
 * /api/v1/secrets: list (managers and admins), set and delete (admins). No route ever answers
 * with a value; the audit log records metadata only.
 */
export async function secretRoutes(app: FastifyInstance, { secrets, audit }: SecretRouteDeps): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get('/api/v1/secrets', {
    config: { permission: 'secrets:read' },
    schema: {
      tags: ['secrets'],
      summary: "The tenant's secrets: names and metadata, never values",
      response: { 200: Type.Object({ secrets: Type.Array(Type.Ref('Secret')) }), ...problemResponses },
    },
  }, async (request) => ({ secrets: (await secrets.list(principalOf(request).tenantId)).map(secretView) }));

  r.put('/api/v1/secrets/:name', {
    config: { permission: 'secrets:write' },
    schema: {
      tags: ['secrets'],
      summary: 'Create a secret or replace its value (201 created, 200 replaced); the answer is metadata only',
      description: 'Payloads reference it as `{"$secret": "NAME"}`; in-process workers and built-in tasks resolve the reference right before the handler runs (docs/secrets.md).',
      params: NameParams,
      body: SecretSet,
      response: { 200: Type.Ref('Secret'), 201: Type.Ref('Secret'), ...problemResponses },
    },
  }, async (request, reply) => {
    const principal = principalOf(request);
    const result = await secrets.set(principal.tenantId, request.params.name, request.body, actorOf(principal));
    const view = secretView(result.after);
    await audit(request, { action: 'secret.set', targetType: 'secret', targetId: view.name, before: result.before ? secretView(result.before) : null, after: view });
    return reply.code(result.created ? 201 : 200).send(view);
  });

  r.delete('/api/v1/secrets/:name', {
    config: { permission: 'secrets:write' },
    schema: {
      tags: ['secrets'],
      summary: 'Delete a secret; jobs that still reference it fail when they run',
      params: NameParams,
      response: { 204: Type.Null(), ...problemResponses },
    },
  }, async (request, reply) => {
    const deleted = await secrets.delete(principalOf(request).tenantId, request.params.name);
    await audit(request, { action: 'secret.delete', targetType: 'secret', targetId: deleted.name, before: secretView(deleted) });
    return reply.code(204).send(null);
  });
}
