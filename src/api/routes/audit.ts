import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Pool } from '../../db/pool.js';
import { listAudit } from '../../engine/audit.js';
import { principalOf } from '../plugins/auth.js';
import { problemResponses, Timestamp } from '../schemas/common.js';

/** Largest page of audit entries. */
const MAX_LIMIT = 500;

const AuditEntryView = Type.Object({
  seq: Type.String({ pattern: '^[0-9]+$', description: 'Position in the log; chain order within the tenant' }),
  at: Type.String({ format: 'date-time', description: 'Database time, UTC, microseconds' }),
  actor: Type.String({ description: "'user:<id>', 'key:<id>', 'anonymous' or 'system'" }),
  action: Type.String(),
  targetType: Type.Union([Type.String(), Type.Null()]),
  targetId: Type.Union([Type.String(), Type.Null()]),
  before: Type.Unknown(),
  after: Type.Unknown(),
  requestId: Type.Union([Type.String(), Type.Null()]),
  clientIp: Type.Union([Type.String(), Type.Null()]),
  prevHash: Type.Union([Type.String(), Type.Null()], { description: 'Hex SHA-256 of the previous entry' }),
  hash: Type.String({ description: 'Hex SHA-256 over prevHash and the canonical JSON of the entry' }),
});

const AuditQuery = Type.Object(
  {
    action: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    actor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    targetId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    since: Type.Optional(Timestamp),
    until: Type.Optional(Timestamp),
    cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,19}$', description: 'nextCursor of the previous page' })),
    limit: Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: 100 }),
  },
  { additionalProperties: false },
);

/** Dependencies of the audit routes. */
export interface AuditRouteDeps {
  pool: Pool;
}

/** GET /api/v1/audit: the caller's tenant audit log, newest first (admins and admin keys). */
export async function auditRoutes(app: FastifyInstance, { pool }: AuditRouteDeps): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get('/api/v1/audit', {
    config: { permission: 'audit:read' },
    schema: {
      tags: ['audit'],
      summary: 'Audit log entries of the tenant, newest first; page with nextCursor',
      querystring: AuditQuery,
      response: { 200: Type.Object({ entries: Type.Array(AuditEntryView), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...problemResponses },
    },
  }, async (request) => {
    const { tenantId } = principalOf(request);
    const q = request.query;
    const page = await listAudit(pool, tenantId, {
      action: q.action,
      actor: q.actor,
      targetId: q.targetId,
      since: q.since,
      until: q.until,
      beforeSeq: q.cursor,
      limit: q.limit,
    });
    return {
      entries: page.entries.map((e) => ({
        seq: e.seq, at: e.at, actor: e.actor, action: e.action, targetType: e.targetType, targetId: e.targetId,
        before: e.before, after: e.after, requestId: e.requestId, clientIp: e.clientIp,
        prevHash: e.prevHash ? e.prevHash.toString('hex') : null, hash: e.hash.toString('hex'),
      })),
      nextCursor: page.nextCursor,
    };
  });
}
