import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jobTimeline, type TimelineJob } from '../../dashboard/src/job-timeline.js';

const base: TimelineJob = { status: 'queued', attempt: 0, createdAt: '2026-01-01T00:00:00.000Z', runAt: '2026-01-01T00:00:00.000Z', startedAt: null, finishedAt: null, errors: [] };
const labels = (job: TimelineJob): string[] => jobTimeline(job).map((e) => e.label);

test('a job that failed three times lists every attempt start before its end, then the final status', () => {
  const job: TimelineJob = {
    ...base,
    status: 'failed',
    attempt: 3,
    // The error of attempt 3 was stamped by the worker's clock a little before the database's startedAt.
    startedAt: '2026-01-01T00:00:10.005Z',
    finishedAt: '2026-01-01T00:00:10.010Z',
    errors: [
      { attempt: 1, kind: 'error', at: '2026-01-01T00:00:01.000Z' },
      { attempt: 2, kind: 'timeout', at: '2026-01-01T00:00:05.000Z' },
      { attempt: 3, kind: 'permanent', at: '2026-01-01T00:00:10.001Z' },
    ],
  };
  assert.deepEqual(labels(job), [
    'Submitted',
    'Attempt 1 started',
    'Attempt 1 failed',
    'Attempt 2 started',
    'Attempt 2 timed out',
    'Attempt 3 started',
    'Attempt 3 failed',
    'Failed',
  ]);
  const starts = jobTimeline(job).filter((e) => e.kind === 'started');
  assert.deepEqual(starts.map((e) => e.at), [null, null, job.startedAt], 'only the latest attempt’s start time is known');
});

test('a job waiting for its retry shows when it is due after the failure it follows', () => {
  const job: TimelineJob = { ...base, attempt: 1, runAt: '2026-01-01T00:10:00.000Z', startedAt: '2026-01-01T00:00:01.000Z', errors: [{ attempt: 1, kind: 'error', at: '2026-01-01T00:00:02.000Z' }] };
  assert.deepEqual(labels(job), ['Submitted', 'Attempt 1 started', 'Attempt 1 failed', 'Due']);
});

test('a job cancelled while it waited says so once, after the attempt it waited behind', () => {
  const waiting: TimelineJob = { ...base, status: 'cancelled', finishedAt: '2026-01-01T00:00:03.000Z', errors: [{ attempt: 0, kind: 'cancelled', at: '2026-01-01T00:00:03.000Z' }] };
  assert.deepEqual(labels(waiting), ['Submitted', 'Cancelled while waiting', 'Cancelled']);
  const afterRetry: TimelineJob = {
    ...base,
    status: 'cancelled',
    attempt: 1,
    startedAt: '2026-01-01T00:00:01.000Z',
    finishedAt: '2026-01-01T00:00:09.000Z',
    errors: [{ attempt: 1, kind: 'lease-expired', at: '2026-01-01T00:00:05.000Z' }, { attempt: 1, kind: 'cancelled', at: '2026-01-01T00:00:09.000Z' }],
  };
  assert.deepEqual(labels(afterRetry), ['Submitted', 'Attempt 1 started', 'Attempt 1 lost its worker (lease expired)', 'Cancelled while waiting', 'Cancelled']);
});

test('a running job ends its timeline with the running attempt’s start', () => {
  const job: TimelineJob = { ...base, status: 'running', attempt: 2, startedAt: '2026-01-01T00:00:04.000Z', errors: [{ attempt: 1, kind: 'error', at: '2026-01-01T00:00:02.000Z' }] };
  assert.deepEqual(labels(job), ['Submitted', 'Attempt 1 started', 'Attempt 1 failed', 'Attempt 2 started']);
  assert.equal(jobTimeline(job).at(-1)?.at, job.startedAt);
});
