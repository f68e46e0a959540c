/**
 * Submitting jobs: transactional enqueue and idempotent submit (docs/decisions.md #9), the
 * group-committing producer, and bad input that must become a clear AppError before it reaches
 * PostgreSQL (#22).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as nextTick } from 'node:timers/promises';
import { DEFAULT_TENANT_ID } from '../../src/core/tenants.js';
import { JobProducer } from '../../src/engine/producer.js';
import { addJob, addJobs } from '../../src/engine/submit.js';
import { AppError, type ErrorCode } from '../../src/errors/index.js';
import { uuidv7 } from '../../src/db/ids.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { createWorker } from '../../src/worker/worker.js';
import { testDatabase } from '../helpers/db.js';
import { eventually } from '../helpers/wait.js';

const db = await testDatabase();

async function countJobs(queue: string): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobplane.jobs WHERE queue = $1`, [queue]);
  return rows[0]!.n;
}

async function existingIds(ids: readonly string[]): Promise<Set<string>> {
  const { rows } = await db.pool.query<{ id: string }>(`SELECT id FROM jobplane.jobs WHERE id = ANY($1::uuid[])`, [ids]);
  return new Set(rows.map((r) => r.id));
}

/** Committed transactions of this test database, as the statistics collector knows them. */
async function xactCommits(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    `SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()`,
  );
  return Number(rows[0]!.n);
}

/** Assert that `promise` rejects with an AppError of `code` whose first field error is at `pointer`. */
async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, pointer: string | RegExp): Promise<AppError> {
  let caught: unknown = null;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof AppError, `expected AppError ${code}, got ${caught === null ? 'success' : caught instanceof Error ? `${caught.name}: ${caught.message}` : typeof caught}`);
  assert.equal(caught.code, code, caught.message);
  assert.ok(caught.errors.length > 0, 'no field errors');
  const first = caught.errors[0]!.pointer;
  if (typeof pointer === 'string') assert.equal(first, pointer);
  else assert.match(first, pointer);
  return caught;
}

// First in the file on purpose: the commit counter below must not pick up statistics that other
// tests' connections have not flushed yet.
test('500 concurrent producer.add() calls resolve with distinct committed ids in far fewer commits', async () => {
  const stats = createPool({ connectionString: db.url, max: 1 });
  const own = createPool({ connectionString: db.url, max: 4 });
  try {
    const before = await xactCommits(stats);
    const producer = new JobProducer(own);
    const calls: Array<Promise<{ id: string; created: boolean }>> = [];
    for (let i = 0; i < 500; i++) {
      // Callers arrive over many event-loop turns, so batches form while commits are in flight.
      if (i % 25 === 0) await nextTick();
      calls.push(producer.add({ task: 'bulk', queue: 'q-producer', payload: { i } }));
    }
    const jobs = await Promise.all(calls);
    await producer.close();
    await own.end();

    const ids = jobs.map((j) => j.id);
    assert.equal(new Set(ids).size, 500);
    assert.ok(jobs.every((j) => j.created));
    assert.equal((await existingIds(ids)).size, 500);

    // Exact: how many transactions inserted the rows.
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(DISTINCT xmin::text)::int AS n FROM jobplane.jobs WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    const insertingTransactions = rows[0]!.n;
    assert.ok(insertingTransactions < 100, `${insertingTransactions} transactions inserted 500 jobs`);

    // The statistics counter, once the producer's (now closed) backends have flushed it.
    const delta = await eventually(async () => {
      const d = (await xactCommits(stats)) - before;
      return d >= insertingTransactions ? d : null;
    });
    assert.ok(delta < 250, `${delta} commits for 500 add() calls`);
  } finally {
    await own.end().catch(() => undefined);
    await stats.end();
  }
});

test('transactional enqueue: a rolled-back job never exists or runs, a committed one always does (200 + 200 trials)', async () => {
  await db.pool.query(`CREATE TABLE orders (id serial PRIMARY KEY, trial integer NOT NULL UNIQUE, job_id uuid NOT NULL)`);
  const executions = new Map<number, number>();
  const w = db.track(
    createWorker({
      pool: db.pool,
      pollIntervalMs: 50,
      concurrency: 10,
      queues: ['q-tx'],
      tasks: {
        'place-order': (p: { trial: number }) => {
          executions.set(p.trial, (executions.get(p.trial) ?? 0) + 1);
        },
      },
    }),
  );
  await w.start();
  const trials = 400; // even: rolled back, odd: committed
  const lanes = 4;
  const jobIds = new Map<number, string>();
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      const client = await db.pool.connect();
      try {
        for (let trial = lane; trial < trials; trial += lanes) {
          await client.query('BEGIN');
          try {
            const job = await addJob(client, { task: 'place-order', queue: 'q-tx', payload: { trial } });
            jobIds.set(trial, job.id);
            await client.query(`INSERT INTO orders (trial, job_id) VALUES ($1, $2)`, [trial, job.id]);
            if (trial % 2 === 0) throw new Error('injected failure after the enqueue');
            await client.query('COMMIT');
          } catch (error) {
            await client.query('ROLLBACK');
            if (!(error instanceof Error && error.message.startsWith('injected'))) throw error;
          }
        }
      } finally {
        client.release();
      }
    }),
  );
  const committed = trials / 2;
  await eventually(async () => {
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM jobplane.jobs WHERE queue = 'q-tx' AND status = 'completed'`,
    );
    return rows[0]!.n === committed;
  }, 30_000);
  await w.stop();

  const { rows: orders } = await db.pool.query<{ trial: number; job_id: string }>(`SELECT trial, job_id FROM orders ORDER BY trial`);
  assert.deepEqual(
    orders.map((o) => o.trial),
    Array.from({ length: committed }, (_, i) => 2 * i + 1),
  );
  assert.ok(orders.every((o) => o.job_id === jobIds.get(o.trial)));
  assert.equal(await countJobs('q-tx'), committed);
  const rolledBack = [...jobIds].filter(([trial]) => trial % 2 === 0).map(([, id]) => id);
  assert.equal(rolledBack.length, committed);
  assert.equal((await existingIds(rolledBack)).size, 0);
  const phantom = [...executions.keys()].filter((trial) => trial % 2 === 0);
  assert.deepEqual(phantom, [], 'rolled-back jobs were executed');
  const duplicated = [...executions].filter(([, n]) => n !== 1);
  assert.deepEqual(duplicated, []);
  assert.equal(executions.size, committed);
});

test('a job added inside a transaction is invisible to other sessions until the commit', async () => {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    const job = await addJob(client, { task: 'noop', queue: 'q-tx-visibility' });
    assert.equal((await existingIds([job.id])).size, 0);
    await client.query('COMMIT');
    assert.equal((await existingIds([job.id])).size, 1);
  } finally {
    client.release();
  }
});

test('the same idempotency key twice returns the same job, created only the first time', async () => {
  const first = await addJob(db.pool, { task: 'noop', queue: 'q-idem', idempotencyKey: 'order-1', payload: { n: 1 } });
  const second = await addJob(db.pool, { task: 'noop', queue: 'q-idem', idempotencyKey: 'order-1', payload: { n: 2 } });
  assert.equal(first.created, true);
  assert.equal(second.created, false);
  assert.equal(second.id, first.id);
  assert.equal(await countJobs('q-idem'), 1);
  const { rows } = await db.pool.query<{ payload: unknown }>(`SELECT payload FROM jobplane.jobs WHERE id = $1`, [first.id]);
  assert.deepEqual(rows[0]!.payload, { n: 1 });
});

test('the same idempotency key twice in one batch yields one job and the same id for both', async () => {
  const [a, b] = await addJobs(db.pool, [
    { task: 'noop', queue: 'q-idem-batch', idempotencyKey: 'k' },
    { task: 'noop', queue: 'q-idem-batch', idempotencyKey: 'k' },
  ]);
  assert.equal(a!.id, b!.id);
  assert.deepEqual([a!.created, b!.created], [true, false]);
  assert.equal(await countJobs('q-idem-batch'), 1);
});

test('20 concurrent addJob calls with one idempotency key create exactly one job', async () => {
  const results = await Promise.all(
    Array.from({ length: 20 }, () => addJob(db.pool, { task: 'noop', queue: 'q-idem-race', idempotencyKey: 'race' })),
  );
  assert.equal(await countJobs('q-idem-race'), 1);
  assert.equal(new Set(results.map((r) => r.id)).size, 1);
  assert.equal(results.filter((r) => r.created).length, 1);
});

test('20 concurrent transactions enqueuing one idempotency key on their own connections create exactly one job', async () => {
  const results = await Promise.all(
    Array.from({ length: 20 }, async () => {
      const client = await db.pool.connect();
      try {
        await client.query('BEGIN');
        const job = await addJob(client, { task: 'noop', queue: 'q-idem-tx', idempotencyKey: 'tx-race' });
        await client.query('COMMIT');
        return job;
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        client.release();
      }
    }),
  );
  assert.equal(await countJobs('q-idem-tx'), 1);
  assert.equal(new Set(results.map((r) => r.id)).size, 1);
  assert.equal(results.filter((r) => r.created).length, 1);
});

test('the same idempotency key in two tenants gives two jobs', async () => {
  const other = uuidv7();
  await db.pool.query(`INSERT INTO jobplane.tenants (id, slug, name) VALUES ($1, 'acme', 'Acme')`, [other]);
  const mine = await addJob(db.pool, { task: 'noop', queue: 'q-idem-tenants', idempotencyKey: 'shared' });
  const theirs = await addJob(db.pool, { task: 'noop', queue: 'q-idem-tenants', idempotencyKey: 'shared' }, { tenantId: other });
  assert.notEqual(mine.id, theirs.id);
  assert.ok(mine.created && theirs.created);
  const { rows } = await db.pool.query<{ tenant_id: string }>(
    `SELECT tenant_id FROM jobplane.jobs WHERE queue = 'q-idem-tenants' ORDER BY tenant_id`,
  );
  assert.deepEqual(rows.map((r) => r.tenant_id).sort(), [DEFAULT_TENANT_ID, other].sort());
});

test('a bad spec rejects only its own producer promise while the others in the same tick succeed', async () => {
  const producer = new JobProducer(db.pool);
  const settled = await Promise.allSettled([
    producer.add({ task: 'noop', queue: 'q-producer-bad', payload: { n: 1 } }),
    producer.add({ task: 'noop', queue: 'q-producer-bad', priority: 1.5 }),
    producer.add({ task: 'noop', queue: 'q-producer-bad', payload: { n: 3 } }),
    producer.add({ task: 'noop', queue: 'q-producer-bad', payload: { n: 4 } }),
  ]);
  await producer.close();
  assert.deepEqual(settled.map((s) => s.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
  const reason = (settled[1] as PromiseRejectedResult).reason as unknown;
  assert.ok(reason instanceof AppError);
  assert.equal(reason.code, 'VALIDATION_FAILED');
  assert.equal(reason.errors[0]!.pointer, '/priority');
  assert.equal(await countJobs('q-producer-bad'), 3);
});

test('a row the database refuses fails only its own producer promise', async () => {
  const producer = new JobProducer(db.pool);
  const settled = await Promise.allSettled([
    producer.add({ task: 'noop', queue: 'q-producer-isolate' }),
    producer.add({ task: 'noop', queue: 'q-producer-isolate' }, { tenantId: 'not-a-tenant-uuid' }),
    producer.add({ task: 'noop', queue: 'q-producer-isolate' }),
  ]);
  await producer.close();
  assert.deepEqual(settled.map((s) => s.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.equal(await countJobs('q-producer-isolate'), 2);
});

test('addMany inserts 5,000 jobs with distinct ids', async () => {
  const producer = new JobProducer(db.pool);
  const specs = Array.from({ length: 5000 }, (_, i) => ({ task: 'noop', queue: 'q-bulk', payload: { i } }));
  const jobs = await producer.addMany(specs);
  await producer.close();
  assert.equal(jobs.length, 5000);
  assert.equal(new Set(jobs.map((j) => j.id)).size, 5000);
  assert.equal(await countJobs('q-bulk'), 5000);
  const { rows } = await db.pool.query<{ n: number }>(
    `SELECT count(DISTINCT (payload->>'i'))::int AS n FROM jobplane.jobs WHERE queue = 'q-bulk'`,
  );
  assert.equal(rows[0]!.n, 5000);
});

test('addMany with one bad spec names it by index and stores nothing', async () => {
  const producer = new JobProducer(db.pool);
  const specs: Array<Record<string, unknown>> = Array.from({ length: 10 }, () => ({ task: 'noop', queue: 'q-bulk-bad' }));
  specs[7] = { task: 'noop', queue: 'q-bulk-bad', maxAttempts: 0 };
  await rejectsWith(producer.addMany(specs as never), 'VALIDATION_FAILED', '/7/maxAttempts');
  await producer.close();
  assert.equal(await countJobs('q-bulk-bad'), 0);
});

test('producer.close() waits for an addMany that is still inserting', async () => {
  const producer = new JobProducer(db.pool);
  let settled = false;
  const bulk = producer.addMany(Array.from({ length: 3000 }, () => ({ task: 'noop', queue: 'q-bulk-close' })));
  bulk.then(
    () => (settled = true),
    () => (settled = true),
  );
  await producer.close();
  const settledAtClose = settled;
  assert.equal((await bulk).length, 3000);
  assert.equal(settledAtClose, true, 'close() resolved while addMany was still writing');
});

function deep(levels: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

const badInputs: Array<{ name: string; spec: Record<string, unknown>; code: ErrorCode; pointer: string | RegExp }> = [
  { name: 'a NUL character in a payload string', spec: { payload: { note: 'a\u0000b' } }, code: 'VALIDATION_FAILED', pointer: '/payload/note' },
  { name: 'a NUL character in a payload key', spec: { payload: { 'k\u0000': 1 } }, code: 'VALIDATION_FAILED', pointer: /^\/payload\// },
  { name: 'a lone surrogate in the payload', spec: { payload: { text: 'x\ud800y' } }, code: 'VALIDATION_FAILED', pointer: '/payload/text' },
  { name: 'a payload nested 100 levels deep', spec: { payload: deep(100) }, code: 'VALIDATION_FAILED', pointer: /^\/payload(\/a)+$/ },
  { name: 'a 2 MB payload', spec: { payload: { blob: 'x'.repeat(2 * 1024 * 1024) } }, code: 'PAYLOAD_TOO_LARGE', pointer: '/payload' },
  { name: 'runAt on February 30th', spec: { runAt: '2026-02-30T00:00:00Z' }, code: 'VALIDATION_FAILED', pointer: '/runAt' },
  { name: 'runAt without an offset', spec: { runAt: '2026-05-01T12:00:00' }, code: 'VALIDATION_FAILED', pointer: '/runAt' },
  { name: 'a fractional priority', spec: { priority: 1.5 }, code: 'VALIDATION_FAILED', pointer: '/priority' },
  { name: 'an unknown option key', spec: { retries: 3 }, code: 'VALIDATION_FAILED', pointer: '/retries' },
  { name: 'an invalid queue name', spec: { queue: 'has space' }, code: 'VALIDATION_FAILED', pointer: '/queue' },
  { name: 'a NUL in the idempotency key', spec: { idempotencyKey: 'a\u0000' }, code: 'VALIDATION_FAILED', pointer: '/idempotencyKey' },
];

for (const bad of badInputs) {
  test(`addJob rejects ${bad.name} with ${bad.code} and a JSON pointer, storing nothing`, async () => {
    const spec = { task: 'noop', queue: 'q-bad', ...bad.spec };
    await rejectsWith(addJob(db.pool, spec), bad.code, bad.pointer);
    const producer = new JobProducer(db.pool);
    await rejectsWith(producer.add(spec), bad.code, bad.pointer);
    await producer.close();
    assert.equal(await countJobs('q-bad'), 0);
  });
}

test('a bad spec inside a caller transaction throws before any SQL, so the transaction stays usable', async () => {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    await rejectsWith(addJob(client, { task: 'noop', queue: 'q-bad-tx', priority: 1.5 }), 'VALIDATION_FAILED', '/priority');
    const job = await addJob(client, { task: 'noop', queue: 'q-bad-tx' });
    await client.query('COMMIT');
    assert.equal((await existingIds([job.id])).size, 1);
  } finally {
    client.release();
  }
});

test('addJobs names the offending spec by its index', async () => {
  await rejectsWith(
    addJobs(db.pool, [{ task: 'noop', queue: 'q-bad-many' }, { task: 'noop', queue: 'q-bad-many', payload: { s: '\u0000' } }]),
    'VALIDATION_FAILED',
    '/1/payload/s',
  );
  assert.equal(await countJobs('q-bad-many'), 0);
});

test('runAt with an impossible UTC offset (+24:00) is a VALIDATION_FAILED, not a RangeError', async () => {
  await rejectsWith(addJob(db.pool, { task: 'noop', queue: 'q-bad-offset', runAt: '2026-05-01T12:00:00+24:00' }), 'VALIDATION_FAILED', '/runAt');
  await rejectsWith(
    addJob(db.pool, { task: 'noop', queue: 'q-bad-offset', placement: { zone: 'eu', deadline: '2026-05-01T12:00:00+12:60' } }),
    'VALIDATION_FAILED',
    '/placement/deadline',
  );
  assert.equal(await countJobs('q-bad-offset'), 0);
});

test('a Date runAt beyond year 9999 is a VALIDATION_FAILED, not a PostgreSQL error', async () => {
  await rejectsWith(addJob(db.pool, { task: 'noop', queue: 'q-bad-year', runAt: new Date(Date.UTC(10000, 0, 1)) }), 'VALIDATION_FAILED', '/runAt');
  assert.equal(await countJobs('q-bad-year'), 0);
});
