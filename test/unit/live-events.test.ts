import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeEvents, encodeEvents, MAX_PAYLOAD_BYTES } from '../../src/core/event-wire.js';
import { EventRing, matchesFilter, type EventFilter, type PlaneEvent, type StreamEvent } from '../../src/core/live-events.js';

const T1 = '00000000-0000-7000-8000-000000000001';
const T2 = '00000000-0000-7000-8000-000000000002';

function job(n: number, over: Partial<Extract<PlaneEvent, { type: 'job' }>> = {}): PlaneEvent {
  return { type: 'job', tenantId: T1, jobId: `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`, status: 'queued', queue: 'default', task: 't'.repeat(100), attempt: 0, scheduleId: null, at: '2026-11-22T00:00:00.000Z', ...over };
}

const filter = (over: Partial<EventFilter> = {}): EventFilter => ({ tenantId: T1, types: null, statuses: null, queues: null, tasks: null, jobId: null, scheduleId: null, ...over });

test('events are packed into NOTIFY payloads under the size limit and unpacked with consecutive ids', () => {
  const events = Array.from({ length: 500 }, (_, i) => job(i, i % 3 === 0 ? { tenantId: T2, scheduleId: 'sched-1' } : {}));
  const payloads = encodeEvents('pub', 41, events, '2026-11-22T00:00:00.000Z');
  assert.ok(payloads.length > 1, 'a burst needs several payloads');
  for (const p of payloads) assert.ok(Buffer.byteLength(p) <= MAX_PAYLOAD_BYTES, `payload of ${Buffer.byteLength(p)} bytes`);
  const decoded = payloads.map((p) => decodeEvents(p)!);
  const all = decoded.flatMap((d) => d.events);
  assert.equal(all.length, 500);
  assert.deepEqual(all.map((e) => e.id), events.map((_, i) => `pub.${41 + i}`));
  // Each payload continues where the previous one stopped: the hub detects gaps by this.
  for (let i = 1; i < decoded.length; i++) assert.equal(decoded[i]!.first, decoded[i - 1]!.first + decoded[i - 1]!.count);
  assert.deepEqual(all.map(({ id: _id, ...event }) => event), events, 'every field (tenant included) survives the round trip');
});

test('malformed payloads decode to nothing instead of throwing', () => {
  for (const bad of ['', 'not json', '[]', 'null', '{"p":1,"s":0,"t":"x","T":[],"e":[]}', '{"p":"x","s":"0","t":"x","T":[],"e":[]}', '{"p":"x","s":0,"t":"x","T":[],"e":{}}', '{"p":"x","s":0,"e":[]}']) {
    assert.equal(decodeEvents(bad), null, bad);
  }
  const mixed = decodeEvents('{"p":"x","s":3,"t":"now","T":["t1"],"e":[["?",0],["q",0,"emails","paused"],["j",5,"id","queued","q","t",0,null],["j",0,"id",7]]}');
  assert.deepEqual(mixed?.events, [{ type: 'queue', tenantId: 't1', queue: 'emails', action: 'paused', at: 'now', id: 'x.4' }]);
  assert.equal(mixed?.count, 4);
});

test('a stream never shows another tenant, and job filters narrow job events only', () => {
  assert.equal(matchesFilter(job(1, { tenantId: T2 }), filter()), false);
  assert.equal(matchesFilter(job(1), filter()), true);
  assert.equal(matchesFilter(job(1, { status: 'running' }), filter({ statuses: new Set(['queued']) })), false);
  assert.equal(matchesFilter(job(1, { queue: 'emails' }), filter({ queues: new Set(['emails']) })), true);
  assert.equal(matchesFilter(job(1), filter({ types: new Set(['schedule']) })), false);
  const schedule: PlaneEvent = { type: 'schedule', tenantId: T1, scheduleId: 's1', action: 'paused', at: 'x' };
  assert.equal(matchesFilter(schedule, filter({ statuses: new Set(['queued']) })), true);
  assert.equal(matchesFilter(schedule, filter({ scheduleId: 's2' })), false);
  // A per-job stream sees that job's changes and output, nothing else.
  const one = filter({ jobId: (job(1) as { jobId: string }).jobId });
  assert.equal(matchesFilter(job(1), one), true);
  assert.equal(matchesFilter(job(2), one), false);
  assert.equal(matchesFilter(schedule, one), false);
  assert.equal(matchesFilter({ type: 'job-output', tenantId: T1, jobId: (job(1) as { jobId: string }).jobId, attempt: 1, at: 'x' }, one), true);
});

test('the resume buffer returns the events after an id, and nothing it has forgotten', () => {
  const ring = new EventRing(3);
  const ev = (n: number): StreamEvent => ({ ...job(n), id: `p.${n}` });
  for (let n = 1; n <= 5; n++) ring.push(ev(n));
  assert.deepEqual(ring.after('p.3')?.map((e) => e.id), ['p.4', 'p.5']);
  assert.deepEqual(ring.after('p.5'), []);
  assert.equal(ring.after('p.2'), null, 'overwritten');
  assert.equal(ring.after('p.99'), null, 'never seen');
  ring.clear();
  assert.equal(ring.after('p.4'), null, 'cleared after a gap');
  assert.throws(() => new EventRing(0), RangeError);
});
