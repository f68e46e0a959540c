import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../src/core/deps.js';
import { LOGIN_TRAIL_RETENTION } from '../../src/db/queries/maintenance.js';
import { RetentionCleaner } from '../../src/scheduler/retention-cleaner.js';
import { testDatabase } from '../helpers/db.js';

const db = await testDatabase();

test('the cleaner keeps the failed-login trail, revoked sessions and idle throttle counters bounded', async () => {
  await db.pool.query(`
    INSERT INTO jobplane.login_failures (bucket, client_ip, username, reason, first_at, last_at)
    VALUES (now() - interval '40 days', '192.0.2.1', 'old', 'invalid-credentials', now() - interval '40 days', now() - interval '40 days'),
           (date_trunc('minute', now()), '192.0.2.1', 'recent', 'invalid-credentials', now(), now())`);
  await db.pool.query(`
    INSERT INTO jobplane.revoked_sessions (session_id, expires_at)
    VALUES ('00000000-0000-7000-8000-000000000001', now() - interval '1 second'), ('00000000-0000-7000-8000-000000000002', now() + interval '10 minutes')`);
  await db.pool.query(`
    INSERT INTO jobplane.login_attempts (key, failures, locked_until, updated_at)
    VALUES ('ip:idle', 3, NULL, now() - interval '1 hour'), ('ip:locked', 40, now() + interval '10 minutes', now() - interval '1 hour'), ('ip:fresh', 1, NULL, now())`);
  await new RetentionCleaner(db.pool, silentLogger, { completedMs: 86_400_000, failedMs: 86_400_000 }).runOnce();
  const left = async (sql: string) => (await db.pool.query<{ k: string }>(sql)).rows.map((r) => r.k).sort();
  assert.deepEqual(await left(`SELECT username AS k FROM jobplane.login_failures`), ['recent']);
  assert.deepEqual(await left(`SELECT session_id::text AS k FROM jobplane.revoked_sessions`), ['00000000-0000-7000-8000-000000000002']);
  assert.deepEqual(await left(`SELECT key AS k FROM jobplane.login_attempts`), ['ip:fresh', 'ip:locked']);
  assert.ok(LOGIN_TRAIL_RETENTION.maxRows >= 10_000);
});

test('a flood of distinct names is cut back to the trail’s row cap, newest kept', async () => {
  await db.pool.query(`
    INSERT INTO jobplane.login_failures (bucket, client_ip, username, reason, first_at, last_at)
    SELECT date_trunc('minute', now()), '198.51.100.' || (i % 250), 'n' || i, 'invalid-credentials', now() - i * interval '1 ms', now() - i * interval '1 ms'
    FROM generate_series(1, $1) AS i`, [LOGIN_TRAIL_RETENTION.maxRows + 500]);
  await new RetentionCleaner(db.pool, silentLogger, { completedMs: 86_400_000, failedMs: 86_400_000 }).runOnce();
  const { rows } = await db.pool.query<{ n: number; newest: boolean }>(
    `SELECT count(*)::int AS n, bool_or(username = 'n1') AS newest FROM jobplane.login_failures`);
  assert.ok(rows[0]!.n <= LOGIN_TRAIL_RETENTION.maxRows + 1, `${rows[0]!.n} rows kept`);
  assert.equal(rows[0]!.newest, true);
});
