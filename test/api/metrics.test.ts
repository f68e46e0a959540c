import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildApp } from '../../src/api/build-app.js';
import { silentLogger } from '../../src/core/deps.js';
import { createIdentity } from '../../src/engine/auth/index.js';
import { JobProducer } from '../../src/engine/producer.js';
import { addJob } from '../../src/engine/submit.js';
import { createMetrics, observeWorker } from '../../src/server/metrics.js';
import { createWorker } from '../../src/worker/worker.js';
import { testDatabase } from '../helpers/db.js';
import { waitForEvent } from '../helpers/wait.js';

const db = await testDatabase();

test('/metrics exposes job counts by queue and status, API latency, and the in-process worker’s timings', async () => {
  const metrics = createMetrics(db.pool);
  const producer = new JobProducer(db.pool);
  const app = await buildApp({ pool: db.pool, producer, identity: createIdentity({ pool: db.pool }), logger: silentLogger, metrics });
  db.track({ stop: async () => { await app.close(); await producer.close(); } });
  await addJob(db.pool, { task: 'waiting', queue: 'metrics-q' });
  const worker = db.track(createWorker({ pool: db.pool, tasks: { quick: () => 'ok' }, queues: ['fast-q'] }));
  observeWorker(metrics, worker);
  await worker.start();
  const job = await addJob(db.pool, { task: 'quick', queue: 'fast-q' });
  await waitForEvent(worker.events, 'job:end', (e: { job: { id: string } }) => e.job.id === job.id);
  await app.inject({ url: '/healthz' });
  const text = (await app.inject({ url: '/metrics' })).body;
  assert.match(text, /jobplane_jobs\{queue="metrics-q",status="queued"\} 1/);
  assert.match(text, /jobplane_job_enqueue_to_start_seconds_count\{queue="fast-q",task="quick"\} 1/);
  assert.match(text, /jobplane_job_run_seconds_count\{queue="fast-q",task="quick",outcome="completed"\} 1/);
  assert.match(text, /jobplane_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} 1/);
  assert.match(text, /jobplane_claimed_jobs_total [1-9]/);
  assert.doesNotMatch(text, /tenant/);
});
