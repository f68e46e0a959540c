import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultTenantStreamLimit, StreamQuota, type StreamAdmission } from '../../src/core/stream-quota.js';

const admitted = (a: StreamAdmission): Extract<StreamAdmission, { admitted: true }> => {
  assert.ok(a.admitted, `refused by the ${a.admitted ? '' : a.scope} cap`);
  return a;
};

test('a caller is refused at its own cap, a tenant at its cap, and everyone at the process cap', () => {
  const quota = new StreamQuota({ total: 5, perTenant: 3, perPrincipal: 2 });
  admitted(quota.admit('a', 'user:1'));
  admitted(quota.admit('a', 'user:1'));
  assert.deepEqual(quota.admit('a', 'user:1'), { admitted: false, scope: 'principal', limit: 2 });
  admitted(quota.admit('a', 'user:2'));
  assert.deepEqual(quota.admit('a', 'user:3'), { admitted: false, scope: 'tenant', limit: 3 });
  admitted(quota.admit('b', 'user:4'));
  admitted(quota.admit('b', 'key:5'));
  assert.equal(quota.size, 5);
  assert.deepEqual(quota.admit('c', 'user:6'), { admitted: false, scope: 'process', limit: 5 });
});

test('releasing a stream frees its place in every count, once however often it is called', () => {
  const quota = new StreamQuota({ total: 2, perTenant: 2, perPrincipal: 1 });
  const first = admitted(quota.admit('a', 'user:1'));
  assert.equal(quota.admit('a', 'user:1').admitted, false);
  first.release();
  first.release();
  assert.equal(quota.size, 0);
  admitted(quota.admit('a', 'user:1'));
  admitted(quota.admit('a', 'user:2'));
  assert.deepEqual(quota.admit('a', 'user:3'), { admitted: false, scope: 'tenant', limit: 2 });
});

test('without a configured tenant cap a tenant may take half of the process’s streams, at least one', () => {
  assert.equal(defaultTenantStreamLimit(1000), 500);
  assert.equal(defaultTenantStreamLimit(20), 10);
  assert.equal(defaultTenantStreamLimit(3), 1);
  assert.equal(defaultTenantStreamLimit(1), 1);
});
