/**
 * The claim statement's plan (src/db/queries/jobs.ts, claimJobs): walks the claim index in order,
 * reaches rows through the primary key, never sorts or scans the table, and, because its LIMIT
 * is a constant, is planned once and then served from the plan cache (a generic plan) instead of
 * being planned again on every claim.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { claimJobs, claimSizeFor, recordReports, type ClaimFilter } from '../../src/db/queries/jobs.js';
import { JobProducer } from '../../src/engine/producer.js';
import { testDatabase } from '../helpers/db.js';

const db = await testDatabase();

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

test('the claim is served from a cached generic plan that walks the claim index and the primary key, with no sort and no table scan', async () => {
  const producer = new JobProducer(db.pool, { maxBatch: 1000 });
  await producer.addMany(Array.from({ length: 3000 }, () => ({ task: 'plan-task', queue: 'plan-q', payload: {} })));
  await producer.close();
  await db.pool.query('ANALYZE jobplane.jobs');
  const filter: ClaimFilter = { workerId: 'plan-worker', tasks: ['plan-task'], queues: null, tenantId: null, zone: null };
  const client = await db.pool.connect();
  try {
    const size = claimSizeFor(40);
    for (let i = 0; i < 8; i++) {
      const jobs = await claimJobs(client, filter, 40, 30_000);
      assert.equal(jobs.length, size);
      await recordReports(client, jobs.map((j) => ({ kind: 'completed' as const, id: j.id, leaseToken: j.leaseToken, resultJson: 'null' })));
    }
    const { rows: [prepared] } = await client.query<{ generic: string; custom: string }>(
      `SELECT generic_plans::text AS generic, custom_plans::text AS custom FROM pg_prepared_statements WHERE name = $1`,
      [`jobplane_claim_jobs_${size}`],
    );
    assert.ok(prepared, 'the claim ran as a named prepared statement');
    assert.ok(Number(prepared.generic) >= 2, `generic plans used: ${prepared.generic}, custom: ${prepared.custom}`);

    const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
      `EXPLAIN (FORMAT JSON) EXECUTE jobplane_claim_jobs_${size}('plan-worker', '{plan-task}', NULL, NULL, NULL, 30000)`,
    );
    const all = nodes(rows[0]!['QUERY PLAN'][0]!.Plan);
    const types = all.map((n) => n['Node Type']);
    const indexes = all.map((n) => n['Index Name']).filter(Boolean);
    assert.ok(!types.includes('Sort'), `no sort: ${types.join(', ')}`);
    assert.ok(!types.includes('Seq Scan'), `no table scan: ${types.join(', ')}`);
    assert.ok(indexes.includes('jobs_claim_idx') && indexes.includes('jobs_pkey'), `indexes: ${indexes.join(', ')}`);
  } finally {
    client.release();
  }
});
