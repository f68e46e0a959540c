import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideFires, type FireInput } from '../../src/core/schedule-fire.js';
import type { FirePlan } from '../../src/core/schedule-plan.js';

const at = (s: string): Date => new Date(`2026-05-01T12:00:${s}Z`);
const noSkips: FirePlan['skipped'] = { count: 0, countIsLowerBound: false, first: null, last: null, sample: [] };
const plan = (fires: string[], next: string): FirePlan => ({ fires: fires.map(at), skipped: noSkips, nextFireAt: at(next) });
const base: FireInput = { overlapPolicy: 'allow', misfirePolicy: 'run-once', misfireGraceMs: 60_000, nextFireAt: at('01'), pendingFireAt: null, active: 0, plan: plan(['01', '02', '03'], '04'), now: at('03') };

test('with overlap allowed, every planned fire is enqueued on time and the last one is remembered', () => {
  const d = decideFires(base)!;
  assert.deepEqual(d.runs.map((r) => [r.at.toISOString().slice(17, 19), r.outcome, r.reason]), [['01', 'enqueued', 'on-time'], ['02', 'enqueued', 'on-time'], ['03', 'enqueued', 'on-time']]);
  assert.deepEqual(d.state, { nextFireAt: at('04'), pendingFireAt: null, lastFireAt: at('03') });
});

test('overlap skip records every fire after the first as skipped while a run is active', () => {
  const d = decideFires({ ...base, overlapPolicy: 'skip', active: 1 })!;
  assert.deepEqual(d.runs.map((r) => r.outcome), ['skipped', 'skipped', 'skipped']);
  assert.equal(d.state.lastFireAt, null, 'the stored last fire is kept');
});

test('overlap queue-one buffers the newest fire and records the ones it replaced', () => {
  const d = decideFires({ ...base, overlapPolicy: 'queue-one', active: 1 })!;
  assert.deepEqual(d.runs.map((r) => [r.at.getTime(), r.reason]), [[at('01').getTime(), 'overlap: replaced by a newer buffered fire'], [at('02').getTime(), 'overlap: replaced by a newer buffered fire']]);
  assert.equal(d.state.pendingFireAt?.getTime(), at('03').getTime());
});

test('a buffered fire is enqueued first once nothing is active', () => {
  const d = decideFires({ ...base, overlapPolicy: 'queue-one', pendingFireAt: at('00'), plan: null, nextFireAt: at('04') })!;
  assert.deepEqual(d.runs, [{ at: at('00'), outcome: 'enqueued', reason: 'overlap-buffered' }]);
  assert.deepEqual(d.state, { nextFireAt: at('04'), pendingFireAt: null, lastFireAt: at('00') });
});

test('cancel-previous with a run to cancel is handed back to the caller', () => {
  assert.equal(decideFires({ ...base, overlapPolicy: 'cancel-previous', active: 1 }), null);
  assert.equal(decideFires({ ...base, overlapPolicy: 'cancel-previous' }), null, 'the second fire would cancel the first');
  assert.ok(decideFires({ ...base, overlapPolicy: 'cancel-previous', plan: plan(['01'], '02') }));
});

test('fires older than the grace are catch-up or misfire runs, and misfire skips name the policy and total', () => {
  const skipped = { count: 12, countIsLowerBound: false, first: at('00'), last: at('00'), sample: [at('00')] };
  const d = decideFires({ ...base, misfirePolicy: 'catch-up', misfireGraceMs: 500, plan: { fires: [at('01'), at('03')], skipped, nextFireAt: at('04') } })!;
  assert.deepEqual(d.runs.map((r) => r.reason), ['misfire: the scheduler was not running at this time; policy catch-up (12 missed in all)', 'catch-up', 'on-time']);
});
