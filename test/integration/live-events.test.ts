import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../src/core/deps.js';
import type { EventFilter, PlaneEvent } from '../../src/core/live-events.js';
import { DEFAULT_TENANT_ID } from '../../src/core/tenants.js';
import { renewEventInterest } from '../../src/db/queries/event-channel.js';
import { EventHub, type HubMessage } from '../../src/engine/event-hub.js';
import { EventPublisher } from '../../src/engine/event-publisher.js';
import { testDatabase } from '../helpers/db.js';

const db = await testDatabase();
const queueEvent = (queue: string): PlaneEvent => ({ type: 'queue', tenantId: DEFAULT_TENANT_ID, queue, action: 'paused', at: new Date().toISOString() });
const everything: EventFilter = { tenantId: DEFAULT_TENANT_ID, types: null, statuses: null, queues: null, tasks: null, jobId: null, scheduleId: null };

test('with nobody subscribed anywhere, publishers drop events without sending them', async () => {
  const publisher = new EventPublisher(db.pool, { interestPollMs: 0 });
  publisher.publish([queueEvent('a'), queueEvent('b')]);
  await publisher.flushed();
  assert.deepEqual(publisher.stats, { sent: 0, dropped: 2 });

  // Interest declared by a hub in another process (a row): the next publish is sent.
  await renewEventInterest(db.pool, 'elsewhere', 60_000);
  publisher.publish([queueEvent('c')]);
  await publisher.flushed();
  assert.deepEqual(publisher.stats, { sent: 1, dropped: 2 });
  await db.pool.query(`DELETE FROM jobplane.event_interest`);
  await publisher.close();
});

test('a hub that gains its first subscriber declares interest, and tells subscribers to re-read once remote publishers caught up', async () => {
  const hub = db.track(new EventHub({ pool: db.pool, logger: silentLogger, warmUpMs: 50 }));
  await hub.start();
  const received: HubMessage[] = [];
  let wake: () => void = () => undefined;
  const reset = new Promise<void>((resolve) => (wake = resolve));
  const { unsubscribe } = hub.subscribe(everything, null, (m) => {
    received.push(m);
    if (m.kind === 'reset') wake();
  });
  await reset;
  assert.deepEqual(received.map((m) => m.kind === 'reset' && m.reason), ['warming']);
  const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobplane.event_interest WHERE until > now()`);
  assert.equal(rows[0]?.n, 1);
  unsubscribe();
  await hub.stop();
  const after = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobplane.event_interest`);
  assert.equal(after.rows[0]?.n, 0, 'a stopped hub withdraws its interest');
});
