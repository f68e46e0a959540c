/**
 * The transition table in src/core/job-states.ts and the trigger + CHECK constraints in migration
 * 0001 must agree: every ordered pair of statuses is tried against real PostgreSQL. Rows are built
 * with direct SQL inside one transaction that is rolled back, each attempt under its own savepoint.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canTransition, JOB_STATUSES, type JobStatus, TERMINAL_STATUSES } from '../../src/core/job-states.js';
import { DEFAULT_TENANT_ID } from '../../src/core/tenants.js';
import { uuidv7 } from '../../src/db/ids.js';
import type { PoolClient } from '../../src/db/pool.js';
import { testDatabase } from '../helpers/db.js';

const db = await testDatabase();

interface PgError {
  code?: string;
  constraint?: string;
  message: string;
}

/** The columns the CHECK constraints require for a row in `status`, as SQL expressions. */
function columnsFor(status: JobStatus): { leaseExpiresAt: string; finishedAt: string } {
  return {
    leaseExpiresAt: status === 'running' ? `now() + interval '1 hour'` : 'NULL',
    finishedAt: TERMINAL_STATUSES.includes(status) ? 'now()' : 'NULL',
  };
}

/** Insert a job directly in `status` (an INSERT does not fire the transition trigger). */
async function insertJob(client: PoolClient, status: JobStatus): Promise<string> {
  const id = uuidv7();
  const c = columnsFor(status);
  await client.query(
    `INSERT INTO jobplane.jobs (id, tenant_id, queue, task, status, attempt, attempt_base, worker_id,
       assigned_zone, lease_expires_at, finished_at)
     VALUES ($1, $2, 'q-states', 'noop', $3, 1, 0, 'worker-1', 'zone-a', ${c.leaseExpiresAt}, ${c.finishedAt})`,
    [id, DEFAULT_TENANT_ID, status],
  );
  return id;
}

/** Run `fn` under a savepoint; return the error PostgreSQL raised, or null. */
async function attempt(client: PoolClient, fn: () => Promise<unknown>): Promise<PgError | null> {
  await client.query('SAVEPOINT attempt');
  try {
    await fn();
    await client.query('RELEASE SAVEPOINT attempt');
    return null;
  } catch (error) {
    await client.query('ROLLBACK TO SAVEPOINT attempt');
    return error as PgError;
  }
}

/** Run `fn` in a transaction that is always rolled back. */
async function inRolledBackTransaction(fn: (client: PoolClient) => Promise<void>): Promise<void> {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    await fn(client);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

test('PostgreSQL accepts a status change exactly when canTransition allows it, for all 36 ordered pairs', async () => {
  const mismatches: string[] = [];
  let accepted = 0;
  await inRolledBackTransaction(async (client) => {
    for (const from of JOB_STATUSES) {
      for (const to of JOB_STATUSES) {
        const error = await attempt(client, async () => {
          const id = await insertJob(client, from);
          const c = columnsFor(to);
          const { rowCount } = await client.query(
            `UPDATE jobplane.jobs SET status = $2, lease_expires_at = ${c.leaseExpiresAt}, finished_at = ${c.finishedAt}
             WHERE id = $1`,
            [id, to],
          );
          assert.equal(rowCount, 1);
        });
        const allowed = canTransition(from, to);
        if (error === null) accepted += 1;
        if (allowed && error !== null) mismatches.push(`${from} -> ${to}: allowed in code, rejected by SQL (${error.message})`);
        if (!allowed && error === null) mismatches.push(`${from} -> ${to}: forbidden in code, accepted by SQL`);
        if (!allowed && error !== null && (error.code !== '23514' || error.constraint !== 'jobs_status_transition')) {
          mismatches.push(`${from} -> ${to}: rejected for the wrong reason (${error.code ?? '?'} ${error.constraint ?? ''}: ${error.message})`);
        }
      }
    }
  });
  assert.deepEqual(mismatches, []);
  // 6 same-status updates + 12 allowed transitions.
  assert.equal(accepted, 18);
});

test('the transition trigger also rejects a forbidden change made together with other columns in one statement', async () => {
  await inRolledBackTransaction(async (client) => {
    const id = await insertJob(client, 'completed');
    const error = await attempt(client, () =>
      client.query(`UPDATE jobplane.jobs SET status = 'queued', finished_at = NULL, attempt_base = 1 WHERE id = $1`, [id]),
    );
    assert.equal(error?.constraint, 'jobs_status_transition');
    const { rows } = await client.query<{ status: string }>(`SELECT status FROM jobplane.jobs WHERE id = $1`, [id]);
    assert.equal(rows[0]?.status, 'completed');
  });
});

test('a running job without a lease is rejected, on insert and on update', async () => {
  await inRolledBackTransaction(async (client) => {
    const inserted = await attempt(client, () =>
      client.query(
        `INSERT INTO jobplane.jobs (id, tenant_id, queue, task, status, attempt, worker_id)
         VALUES ($1, $2, 'q-states', 'noop', 'running', 1, 'worker-1')`,
        [uuidv7(), DEFAULT_TENANT_ID],
      ),
    );
    assert.equal(inserted?.code, '23514');
    assert.equal(inserted?.constraint, 'jobs_running_has_lease');

    const id = await insertJob(client, 'queued');
    const updated = await attempt(client, () =>
      client.query(`UPDATE jobplane.jobs SET status = 'running' WHERE id = $1`, [id]),
    );
    assert.equal(updated?.constraint, 'jobs_running_has_lease');

    const running = await insertJob(client, 'running');
    const dropped = await attempt(client, () =>
      client.query(`UPDATE jobplane.jobs SET lease_expires_at = NULL WHERE id = $1`, [running]),
    );
    assert.equal(dropped?.constraint, 'jobs_running_has_lease');
  });
});

test('a job that is not running cannot hold a lease, and a running job needs a worker and a started attempt', async () => {
  await inRolledBackTransaction(async (client) => {
    const queued = await insertJob(client, 'queued');
    const leased = await attempt(client, () =>
      client.query(`UPDATE jobplane.jobs SET lease_expires_at = now() WHERE id = $1`, [queued]),
    );
    assert.equal(leased?.constraint, 'jobs_running_has_lease');

    const noWorker = await attempt(client, () =>
      client.query(
        `INSERT INTO jobplane.jobs (id, tenant_id, queue, task, status, attempt, lease_expires_at)
         VALUES ($1, $2, 'q-states', 'noop', 'running', 1, now())`,
        [uuidv7(), DEFAULT_TENANT_ID],
      ),
    );
    assert.equal(noWorker?.constraint, 'jobs_running_has_worker');

    const noAttempt = await attempt(client, () =>
      client.query(
        `INSERT INTO jobplane.jobs (id, tenant_id, queue, task, status, attempt, worker_id, lease_expires_at)
         VALUES ($1, $2, 'q-states', 'noop', 'running', 0, 'worker-1', now())`,
        [uuidv7(), DEFAULT_TENANT_ID],
      ),
    );
    assert.equal(noAttempt?.constraint, 'jobs_running_has_worker');
  });
});

test('a terminal job without finished_at is rejected, and a waiting job cannot have one', async () => {
  await inRolledBackTransaction(async (client) => {
    for (const status of TERMINAL_STATUSES) {
      const error = await attempt(client, () =>
        client.query(
          `INSERT INTO jobplane.jobs (id, tenant_id, queue, task, status, attempt) VALUES ($1, $2, 'q-states', 'noop', $3, 1)`,
          [uuidv7(), DEFAULT_TENANT_ID, status],
        ),
      );
      assert.equal(error?.code, '23514', `${status} without finished_at was accepted`);
      assert.equal(error?.constraint, 'jobs_terminal_has_finished_at');
    }
    const running = await insertJob(client, 'running');
    const error = await attempt(client, () =>
      client.query(`UPDATE jobplane.jobs SET status = 'completed', lease_expires_at = NULL WHERE id = $1`, [running]),
    );
    assert.equal(error?.constraint, 'jobs_terminal_has_finished_at');

    const queued = await insertJob(client, 'queued');
    const early = await attempt(client, () => client.query(`UPDATE jobplane.jobs SET finished_at = now() WHERE id = $1`, [queued]));
    assert.equal(early?.constraint, 'jobs_terminal_has_finished_at');
  });
});

test('a scheduled job without an assigned zone or worker is rejected', async () => {
  await inRolledBackTransaction(async (client) => {
    const inserted = await attempt(client, () =>
      client.query(
        `INSERT INTO jobplane.jobs (id, tenant_id, queue, task, status) VALUES ($1, $2, 'q-states', 'noop', 'scheduled')`,
        [uuidv7(), DEFAULT_TENANT_ID],
      ),
    );
    assert.equal(inserted?.code, '23514');
    assert.equal(inserted?.constraint, 'jobs_scheduled_is_assigned');

    const id = uuidv7();
    await client.query(
      `INSERT INTO jobplane.jobs (id, tenant_id, queue, task, status) VALUES ($1, $2, 'q-states', 'noop', 'queued')`,
      [id, DEFAULT_TENANT_ID],
    );
    const updated = await attempt(client, () => client.query(`UPDATE jobplane.jobs SET status = 'scheduled' WHERE id = $1`, [id]));
    assert.equal(updated?.constraint, 'jobs_scheduled_is_assigned');
    const byWorker = await attempt(client, () =>
      client.query(`UPDATE jobplane.jobs SET status = 'scheduled', assigned_worker = 'worker-1' WHERE id = $1`, [id]),
    );
    assert.equal(byWorker, null);
  });
});
