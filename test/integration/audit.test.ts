import assert from 'node:assert/strict';
import { test } from 'node:test';
import { uuidv7 } from '../../src/db/ids.js';
import { isPgError, withTransaction } from '../../src/db/pool.js';
import { canonicalJson, listAudit, recordAudit, redactSecrets, verifyAudit } from '../../src/engine/audit.js';
import { testDatabase } from '../helpers/db.js';

const db = await testDatabase();

/** A fresh tenant with `n` entries; returns the tenant id and the seqs in order. */
async function chain(n: number): Promise<{ tenantId: string; seqs: string[] }> {
  const tenantId = uuidv7();
  const seqs: string[] = [];
  for (let i = 0; i < n; i++) {
    const { seq } = await recordAudit(db.pool, {
      tenantId, actor: 'user:u1', action: 'job.submit', targetType: 'job', targetId: `job-${i}`,
      after: { n: i, nested: { b: 1, a: [1.5, 'x', null] } }, requestId: `req-${i}`, clientIp: '10.0.0.1',
    });
    seqs.push(seq);
  }
  return { tenantId, seqs };
}

/** Run `sql` with the append-only triggers disabled, as a superuser / table owner could. */
async function tamper(sql: string, values: unknown[] = []): Promise<void> {
  await withTransaction(db.pool, async (tx) => {
    await tx.query('ALTER TABLE jobplane.audit_log DISABLE TRIGGER ALL');
    await tx.query(sql, values);
    await tx.query('ALTER TABLE jobplane.audit_log ENABLE TRIGGER ALL');
  });
}

test('canonical JSON sorts keys at every depth', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } }), '{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}');
});

test('appended entries link into a chain that verifies, with microsecond database time', async () => {
  const { tenantId, seqs } = await chain(5);
  assert.deepEqual(await verifyAudit(db.pool, tenantId), { ok: true, checked: 5 });
  const { rows } = await db.pool.query<{ seq: string; prev: Buffer | null; hash: Buffer }>(
    'SELECT seq::text, prev_hash AS prev, hash FROM jobplane.audit_log WHERE tenant_id = $1 ORDER BY seq', [tenantId]);
  assert.deepEqual(rows.map((r) => r.seq), seqs);
  assert.equal(rows[0]!.prev, null);
  for (let i = 1; i < rows.length; i++) assert.ok(rows[i]!.prev!.equals(rows[i - 1]!.hash));
  const page = await listAudit(db.pool, tenantId, { limit: 10 });
  assert.match(page.entries[0]!.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  const all = await verifyAudit(db.pool, null);
  assert.equal(all.ok, true);
});

test('the append-only triggers reject UPDATE, DELETE and TRUNCATE', async () => {
  const { tenantId } = await chain(1);
  for (const sql of [
    `UPDATE jobplane.audit_log SET action = 'x' WHERE tenant_id = '${tenantId}'`,
    `DELETE FROM jobplane.audit_log WHERE tenant_id = '${tenantId}'`,
    'TRUNCATE jobplane.audit_log',
  ]) {
    await assert.rejects(db.pool.query(sql), (e: unknown) => isPgError(e, '42501') && /append-only/.test(e.message), sql);
  }
  assert.deepEqual(await verifyAudit(db.pool, tenantId), { ok: true, checked: 1 });
});

test('a changed row is reported as the first bad seq', async () => {
  const { tenantId, seqs } = await chain(5);
  await tamper(`UPDATE jobplane.audit_log SET after = '{"n": 99}' WHERE seq = $1`, [seqs[2]]);
  const result = await verifyAudit(db.pool, tenantId);
  assert.equal(result.ok, false);
  assert.ok(!result.ok);
  assert.equal(result.tenantId, tenantId);
  // seqs cross a digit boundary here (…9, 10…): chain order must be numeric, not textual.
  assert.equal(result.firstBadSeq, Number(seqs[2]), JSON.stringify({ result, seqs }));
  assert.match(result.reason, /changed/);
  // Verifying every tenant finds the same entry.
  const all = await verifyAudit(db.pool, null);
  assert.ok(!all.ok && all.firstBadSeq === Number(seqs[2]));
  // Repair the tamper for later tests that verify all tenants: remove this tenant's chain.
  await tamper('DELETE FROM jobplane.audit_log WHERE tenant_id = $1', [tenantId]);
});

test('a changed row whose hash was recomputed is still caught at the next entry', async () => {
  const { tenantId, seqs } = await chain(3);
  await tamper(`UPDATE jobplane.audit_log SET hash = sha256(hash) WHERE seq = $1`, [seqs[1]]);
  const result = await verifyAudit(db.pool, tenantId);
  assert.ok(!result.ok);
  // The forged row itself fails its own hash check first.
  assert.equal(result.firstBadSeq, Number(seqs[1]));
  await tamper('DELETE FROM jobplane.audit_log WHERE tenant_id = $1', [tenantId]);
});

test('a deleted row is reported at the entry after it; a deleted first row too', async () => {
  const { tenantId, seqs } = await chain(5);
  await tamper('DELETE FROM jobplane.audit_log WHERE seq = $1', [seqs[1]]);
  const result = await verifyAudit(db.pool, tenantId);
  assert.ok(!result.ok);
  assert.equal(result.firstBadSeq, Number(seqs[2]));
  assert.match(result.reason, /removed/);

  const second = await chain(3);
  await tamper('DELETE FROM jobplane.audit_log WHERE seq = $1', [second.seqs[0]]);
  const head = await verifyAudit(db.pool, second.tenantId);
  assert.ok(!head.ok && head.firstBadSeq === Number(second.seqs[1]), JSON.stringify(head));
  await tamper('DELETE FROM jobplane.audit_log WHERE tenant_id = ANY($1::uuid[])', [[tenantId, second.tenantId]]);
});

test('reordered rows (contents of two entries swapped) are reported at the earlier seq', async () => {
  const { tenantId, seqs } = await chain(4);
  await tamper(
    `UPDATE jobplane.audit_log a SET at = b.at, actor = b.actor, action = b.action, target_type = b.target_type,
       target_id = b.target_id, before = b.before, after = b.after, request_id = b.request_id, client_ip = b.client_ip,
       prev_hash = b.prev_hash, hash = b.hash
     FROM jobplane.audit_log b
     WHERE (a.seq, b.seq) IN (($1::bigint, $2::bigint), ($2::bigint, $1::bigint))`,
    [seqs[1], seqs[2]],
  );
  const result = await verifyAudit(db.pool, tenantId);
  assert.ok(!result.ok);
  assert.equal(result.firstBadSeq, Number(seqs[1]));
  await tamper('DELETE FROM jobplane.audit_log WHERE tenant_id = $1', [tenantId]);
});

test('20 concurrent appends to one tenant keep the chain in seq order', async () => {
  const tenantId = uuidv7();
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) => recordAudit(db.pool, { tenantId, actor: 'system', action: 'job.cancel', targetId: String(i) })),
  );
  assert.equal(new Set(results.map((r) => r.seq)).size, 20);
  assert.deepEqual(await verifyAudit(db.pool, tenantId), { ok: true, checked: 20 });
});

test('an entry recorded on a caller’s transaction commits or rolls back with it', async () => {
  const tenantId = uuidv7();
  await assert.rejects(withTransaction(db.pool, async (tx) => {
    await recordAudit(tx, { tenantId, actor: 'system', action: 'key.create' });
    throw new Error('the action failed');
  }));
  await withTransaction(db.pool, (tx) => recordAudit(tx, { tenantId, actor: 'system', action: 'key.create' }));
  assert.deepEqual(await verifyAudit(db.pool, tenantId), { ok: true, checked: 1 });
});

test('chains of two tenants are independent: tampering with one leaves the other valid', async () => {
  const a = await chain(3);
  const b = await chain(3);
  await Promise.all([
    recordAudit(db.pool, { tenantId: a.tenantId, actor: 'system', action: 'x' }),
    recordAudit(db.pool, { tenantId: b.tenantId, actor: 'system', action: 'x' }),
  ]);
  const { rows } = await db.pool.query<{ prev: Buffer | null }>(
    `SELECT prev_hash AS prev FROM jobplane.audit_log WHERE seq = $1`, [b.seqs[0]]);
  assert.equal(rows[0]!.prev, null, 'a tenant’s first entry starts a new chain even when other tenants have entries');
  await tamper(`UPDATE jobplane.audit_log SET actor = 'user:evil' WHERE seq = $1`, [a.seqs[0]]);
  assert.ok(!(await verifyAudit(db.pool, a.tenantId)).ok);
  assert.deepEqual(await verifyAudit(db.pool, b.tenantId), { ok: true, checked: 4 });
  await tamper('DELETE FROM jobplane.audit_log WHERE tenant_id = $1', [a.tenantId]);
});

test('secrets are removed from before and after at any depth', async () => {
  assert.deepEqual(redactSecrets({ a: 1, password: 'p', nested: [{ token: 't', keep: 2, refresh_token: 'r' }], accessToken: 'x' }), { a: 1, nested: [{ keep: 2 }] });
  const tenantId = uuidv7();
  await recordAudit(db.pool, {
    tenantId, actor: 'user:u1', action: 'key.create',
    before: { passwordHash: '$argon2id$…', name: 'k' },
    after: { name: 'k', key: 'jp_live_CANARY', apiKey: { key: 'CANARY2', prefix: 'jp_1' }, deep: { refreshToken: 'CANARY3', accessToken: 'CANARY4' } },
  });
  const { rows } = await db.pool.query<{ row: string }>(`SELECT to_jsonb(a)::text AS row FROM jobplane.audit_log a WHERE tenant_id = $1`, [tenantId]);
  assert.doesNotMatch(rows[0]!.row, /CANARY|argon2/);
  const page = await listAudit(db.pool, tenantId, { limit: 1 });
  assert.deepEqual(page.entries[0]!.after, { name: 'k', deep: {} });
  assert.deepEqual(await verifyAudit(db.pool, tenantId), { ok: true, checked: 1 });
});

test('listAudit filters and pages newest first', async () => {
  const { tenantId, seqs } = await chain(5);
  await recordAudit(db.pool, { tenantId, actor: 'key:k1', action: 'schedule.update', targetId: 's1' });
  const first = await listAudit(db.pool, tenantId, { action: 'job.submit', limit: 2 });
  assert.deepEqual(first.entries.map((e) => e.seq), [seqs[4], seqs[3]]);
  const second = await listAudit(db.pool, tenantId, { action: 'job.submit', limit: 2, beforeSeq: first.nextCursor! });
  assert.deepEqual(second.entries.map((e) => e.seq), [seqs[2], seqs[1]]);
  const last = await listAudit(db.pool, tenantId, { action: 'job.submit', limit: 2, beforeSeq: second.nextCursor! });
  assert.deepEqual(last.entries.map((e) => e.seq), [seqs[0]]);
  assert.equal(last.nextCursor, null);
  assert.equal((await listAudit(db.pool, tenantId, { actor: 'key:k1', limit: 10 })).entries.length, 1);
  assert.equal((await listAudit(db.pool, tenantId, { targetId: 'job-3', limit: 10 })).entries[0]!.seq, seqs[3]);
  assert.equal((await listAudit(db.pool, tenantId, { since: new Date(Date.now() + 60_000), limit: 10 })).entries.length, 0);
  assert.equal((await listAudit(db.pool, tenantId, { until: new Date(Date.now() + 60_000), limit: 10 })).entries.length, 6);
});

test('a batch of entries across tenants is chained in order and verifies', async () => {
  const { recordAuditBatch, verifyAudit: verify } = await import('../../src/engine/audit.js');
  const own = await testDatabase();
  await own.pool.query(`INSERT INTO jobplane.tenants (id, slug, name) VALUES ('00000000-0000-7000-8000-0000000000e1', 'batch-b', 'B') ON CONFLICT DO NOTHING`);
  const a = '00000000-0000-7000-8000-000000000001';
  const b = '00000000-0000-7000-8000-0000000000e1';
  const entries = Array.from({ length: 30 }, (_, i) => ({ tenantId: i % 3 === 0 ? b : a, actor: 'user:x', action: 'job.submit', targetId: String(i), after: { i, password: 'hidden' } }));
  const results = await recordAuditBatch(own.pool, entries);
  assert.equal(results.length, 30);
  const seqsA = results.filter((_, i) => i % 3 !== 0).map((r) => BigInt(r.seq));
  assert.deepEqual([...seqsA].sort((x, y) => (x < y ? -1 : 1)), seqsA, 'order within a tenant is kept');
  const verified = await verify(own.pool, null);
  assert.equal(verified.ok, true, JSON.stringify(verified));
});
