/** Routes and the engine's job actions read the time from the injected clock, not from Date. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Clock } from '../../src/core/deps.js';
import { as, testApp } from '../helpers/api.js';
import { testDatabase } from '../helpers/db.js';

const db = await testDatabase();
const TEN_MINUTES_AHEAD = 10 * 60_000;
const clock: Clock = { nowMs: () => Date.now() + TEN_MINUTES_AHEAD };
const app = await testApp(db, { clock });

test('a job cancelled through the API records the time of the injected clock', async () => {
  const job = (await app.inject({ method: 'POST', url: '/api/v1/jobs', headers: as('manager'), payload: { task: 'clocked', delayMs: 3_600_000 } })).json<{ id: string }>();
  const res = await app.inject({ method: 'POST', url: `/api/v1/jobs/${job.id}/cancel`, headers: as('manager') });
  assert.equal(res.statusCode, 200, res.body);
  const at = Date.parse(res.json<{ errors: Array<{ at: string }> }>().errors.at(-1)!.at);
  assert.ok(at - Date.now() > TEN_MINUTES_AHEAD - 60_000, `cancelled at ${new Date(at).toISOString()}`);
});

test("the workers list measures a heartbeat's age by the injected clock", async () => {
  const key = (await app.inject({ method: 'POST', url: '/api/v1/keys', headers: as('admin'), payload: { name: 'w', scopes: ['worker'] } })).json<{ key: string }>().key;
  const reg = await app.inject({ method: 'POST', url: '/api/v1/worker/register', headers: { 'x-api-key': key }, payload: { name: 'clocked', tasks: ['clocked'], capacity: 1 } });
  assert.equal(reg.statusCode, 201, reg.body);
  const workers = (await app.inject({ url: '/api/v1/workers', headers: as('viewer') })).json<{ workers: Array<{ name: string; heartbeatAgeMs: number }> }>().workers;
  const age = workers.find((w) => w.name === 'clocked')?.heartbeatAgeMs ?? 0;
  assert.ok(age > TEN_MINUTES_AHEAD - 60_000, `heartbeat age ${age} ms`);
});
