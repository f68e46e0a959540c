/**
 * Fault battery 7: the database turns read-only under a running `jobplane start` (a database-level
 * `default_transaction_read_only = on`, picked up by new connections once the old ones are
 * terminated — what a failover onto a standby or a disk-full guard looks like to the app).
 * POST /api/v1/jobs must answer 503 problem JSON with a stable code (not INTERNAL, never 500);
 * nothing answered 201 may be missing afterwards; and when writes are allowed again the server
 * recovers by itself — no restart, no forced reconnect — and runs every accepted job.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { testDatabase } from '../helpers/db.js';
import { ApiProbe, login } from '../helpers/faults/api-probe.js';
import { assertInvariants, waitForSettled } from '../helpers/faults/invariants.js';
import { startJobplaneChild, unexpectedExits } from '../helpers/faults/procs.js';

const PASSWORD = 'read only password';
/** The code the API should give a write refused by a read-only database. */
const EXPECTED_CODE = 'DATABASE_READ_ONLY';
const RECOVERY_MS = 15_000;

const db = await testDatabase();
const name = new URL(db.url).pathname.slice(1);

async function terminateOthers(admin: pg.Client): Promise<number> {
  const { rows } = await admin.query<{ n: number }>(
    `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
  );
  return rows[0]!.n;
}

async function firstSample(probe: ApiProbe, match: (s: ApiProbe['samples'][number]) => boolean, timeoutMs: number): Promise<ApiProbe['samples'][number] | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = probe.samples.find(match);
    if (found) return found;
    await delay(50);
  }
  return null;
}

test('a read-only database gets 503 with a stable code from POST /api/v1/jobs, loses no accepted job, and the server recovers when writes return', async (t) => {
  const jobplane = db.track(await startJobplaneChild('jobplane-start', {
    DATABASE_URL: db.url,
    JOBPLANE_ADMIN_PASSWORD: PASSWORD,
    JOBPLANE_LEASE: '2s',
    JOBPLANE_POLL_INTERVAL: '250ms',
    JOBPLANE_HEALTH_INTERVAL: '500ms',
    JOBPLANE_WORKER_TASKS: 'noop',
  }));
  const probe = new ApiProbe({ url: jobplane.url, token: await login(jobplane.url, 'admin', PASSWORD), intervalMs: 100, timeoutMs: 5000 });
  // A session opened before the switch stays read-write: it turns the setting off again.
  const admin = new pg.Client({ connectionString: db.url, application_name: 'fault-admin' });
  await admin.connect();
  const problems: string[] = [];
  try {
    probe.start();
    await delay(1500);
    await admin.query(`ALTER DATABASE ${name} SET default_transaction_read_only = on`);
    const switchedAt = Date.now();
    const terminated = await terminateOthers(admin);
    const refused = await firstSample(probe, (s) => s.route === 'submit' && s.at >= switchedAt && s.status === 503, 15_000);
    if (!refused) problems.push(`no 503 from POST /api/v1/jobs within 15 s of the switch to read-only; answers: ${JSON.stringify(probe.tally(switchedAt))}\n${jobplane.describe(8)}`);
    await delay(3000);

    await admin.query(`ALTER DATABASE ${name} RESET default_transaction_read_only`);
    const writableAt = Date.now();
    const readOnlySubmits = probe.samples.filter((s) => s.route === 'submit' && s.at >= (refused?.at ?? switchedAt) && s.at < writableAt);
    const codes = [...new Set(readOnlySubmits.map((s) => `${String(s.status)} ${s.contentType ?? ''} ${s.code ?? '(no code)'}`))];
    const wrong = new Map<string, number>();
    for (const s of readOnlySubmits.filter((x) => x.status !== 503 || !x.contentType?.startsWith('application/problem+json') || !x.code || x.code === 'INTERNAL')) {
      const key = `${String(s.status)} ${s.contentType ?? '(no content-type)'} code=${String(s.code)} ${s.detail ?? ''}`;
      wrong.set(key, (wrong.get(key) ?? 0) + 1);
    }
    for (const [key, n] of wrong) problems.push(`while read-only, POST /api/v1/jobs answered ${n}× ${key} (expected 503 problem+json, code ${EXPECTED_CODE})`);
    if (readOnlySubmits.some((s) => s.status === 503 && s.code !== EXPECTED_CODE)) {
      t.diagnostic(`expected problem code ${EXPECTED_CODE}; got ${codes.join('; ')}`);
    }

    // It recovers by itself: its pools must not keep serving from read-only sessions.
    const recovered = await firstSample(probe, (s) => s.route === 'submit' && s.at >= writableAt && s.status === 201, RECOVERY_MS);
    if (!recovered) {
      problems.push(`the server did not accept a job within ${RECOVERY_MS} ms after the database allowed writes again (without a forced reconnect); answers since: ${JSON.stringify(probe.tally(writableAt))}\n${jobplane.describe(8)}`);
      // Go on with fresh connections so the rest can be checked.
      await terminateOthers(admin);
      if (!(await firstSample(probe, (s) => s.route === 'submit' && s.at >= Date.now() - 100 && s.status === 201, RECOVERY_MS))) {
        problems.push('it did not recover even after its connections were terminated');
      }
    }
    await delay(500);
    await probe.stop();
    if (probe.violations().length > 0) problems.push(`${probe.violations().length} API answers outside 2xx/503 (or none), e.g.:\n${probe.describeViolations(5)}`);

    // Everything answered 201 exists and runs.
    await waitForSettled(db.pool, probe.accepted, 30_000);
    const report = await assertInvariants(db.pool, { title: 'read-only', ledgerJobs: [], otherJobs: probe.accepted, faults: [], processes: [jobplane] });
    t.diagnostic(JSON.stringify({
      backendsTerminated: terminated,
      readOnlyAnswers: probe.tally(refused?.at ?? switchedAt, writableAt),
      submitCodesWhileReadOnly: codes,
      recoveredAfterMs: recovered ? recovered.at - writableAt : null,
      accepted: report.submitted,
    }));
    assert.equal(unexpectedExits([jobplane]), '');
    assert.deepEqual(problems, []);
  } finally {
    await probe.stop();
    await admin.query(`ALTER DATABASE ${name} RESET default_transaction_read_only`).catch(() => undefined);
    await admin.end();
    await jobplane.stop();
  }
});
