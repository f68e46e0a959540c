import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JobStatus } from '../../src/core/job-states.js';
import { applyJobEvent, matchesStatus, mergeRead, replaceRow } from '../../dashboard/src/job-list-live.js';

const row = (id: string, status: JobStatus, attempt: number, extra: Record<string, unknown> = {}): { id: string; status: JobStatus; attempt: number } & Record<string, unknown> => ({ id, status, attempt, ...extra });
const running = new Set(['running']);

test('a row of a running-only list that completes shows its new status and no longer matches the filter', () => {
  const effect = applyJobEvent([row('a', 'running', 1)], { jobId: 'a', status: 'completed', attempt: 1 }, running);
  assert.equal(effect.rows[0]?.status, 'completed');
  assert.equal(matchesStatus(running, effect.rows[0].status), false);
  assert.equal(effect.refetch, true, 'a finished attempt may have a result or an error to show');
});

test('a job entering the status filter is counted as new, a change of some other job is not', () => {
  assert.equal(applyJobEvent([], { jobId: 'b', status: 'running', attempt: 1 }, running).fresh, true);
  assert.equal(applyJobEvent([], { jobId: 'b', status: 'failed', attempt: 1 }, running).fresh, false);
  assert.equal(applyJobEvent([], { jobId: 'b', status: 'queued', attempt: 0 }, new Set()).fresh, true, 'unfiltered: a submission');
  assert.equal(applyJobEvent([], { jobId: 'b', status: 'running', attempt: 1 }, new Set()).fresh, false, 'unfiltered: an older job moving on');
});

test('a late event older than the row changes nothing; a new start needs no read', () => {
  const rows = [row('a', 'completed', 1)];
  const late = applyJobEvent(rows, { jobId: 'a', status: 'running', attempt: 1 }, new Set());
  assert.equal(late.rows, rows);
  assert.equal(late.refetch, false);
  assert.equal(applyJobEvent([row('a', 'queued', 1)], { jobId: 'a', status: 'running', attempt: 2 }, new Set()).refetch, false);
});

test('a row read again replaces its older sighting, never a newer one', () => {
  const rows = [row('a', 'queued', 1, { errors: [] })];
  assert.deepEqual(replaceRow(rows, row('a', 'queued', 1, { errors: ['boom'] }))[0]?.errors, ['boom']);
  const newer = [row('a', 'completed', 2)];
  assert.equal(replaceRow(newer, row('a', 'queued', 1)), newer);
  assert.equal(replaceRow(rows, row('z', 'queued', 1)), rows);
});

test('a read made while a shown row left the filter keeps that row where it was, with the status the stream said', () => {
  const shown = [row('a', 'running', 1), row('b', 'cancelled', 1), row('c', 'running', 1)];
  const answer = [row('a', 'running', 1), row('c', 'running', 1), row('d', 'running', 1)];
  const merged = mergeRead(answer, new Map([['c', { status: 'completed', attempt: 1 }]]), shown, running);
  assert.deepEqual(merged.map((r) => `${r.id}:${r.status}`), ['a:running', 'b:cancelled', 'c:completed', 'd:running']);
});

test('a read the user asked for shows only what the server answered, with later stream changes laid over it', () => {
  const merged = mergeRead([row('a', 'running', 1)], new Map([['a', { status: 'running', attempt: 2 }]]), [], running);
  assert.deepEqual(merged, [row('a', 'running', 2)]);
  const older = mergeRead([row('a', 'completed', 2)], new Map([['a', { status: 'running', attempt: 1 }]]), [], new Set());
  assert.equal(older[0]?.status, 'completed', 'an event older than the read changes nothing');
});
