import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LogFields, Logger } from '../../src/core/deps.js';
import { as, testApp, TOKENS } from '../helpers/api.js';
import { testDatabase } from '../helpers/db.js';

const db = await testDatabase();
const lines: Array<{ level: string; fields: LogFields; message: string | undefined }> = [];
const capture = (level: string) => (fields: LogFields, message?: string): void => void lines.push({ level, fields, message });
const logger: Logger = { debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error'), child: () => logger };
const app = await testApp(db, { logger });

test('every request is logged once with its request id, route, status, tenant and actor; probes only at debug', async () => {
  const res = await app.inject({ method: 'POST', url: '/api/v1/jobs', headers: as('manager'), payload: { task: 'logged' } });
  assert.equal(res.statusCode, 201);
  const line = lines.find((l) => l.message === 'request' && l.fields.requestId === res.headers['x-request-id']);
  assert.ok(line, 'a line for the request');
  assert.equal(line.level, 'info');
  assert.deepEqual(
    { method: line.fields.method, route: line.fields.route, status: line.fields.status, tenantId: line.fields.tenantId, actor: line.fields.actor },
    { method: 'POST', route: '/api/v1/jobs', status: 201, tenantId: TOKENS.manager!.tenantId, actor: `user:${TOKENS.manager!.id}` },
  );
  assert.equal(typeof line.fields.ms, 'number');

  const anonymous = await app.inject({ url: '/api/v1/jobs/not-a-uuid', headers: as('viewer') });
  const bad = lines.find((l) => l.fields.requestId === anonymous.headers['x-request-id']);
  assert.equal(bad?.fields.status, 400);
  assert.equal(bad?.fields.route, '/api/v1/jobs/:id', 'the route pattern, not the raw path');

  const probe = await app.inject({ url: '/healthz' });
  assert.equal(lines.find((l) => l.fields.requestId === probe.headers['x-request-id'])?.level, 'debug');
});
