import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadConfig, renderConfigurationDoc } from '../../src/config/index.js';
import { parseDuration } from '../../src/core/duration.js';
import { isAppError } from '../../src/errors/index.js';

test('docs/configuration.md matches the settings table (run npm run docs:config)', () => {
  assert.equal(readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8'), renderConfigurationDoc());
});

test('defaults apply when nothing is set, and the result is frozen', () => {
  const config = loadConfig({});
  assert.equal(config.databaseUrl, null);
  assert.deepEqual(config.roles, ['api', 'scheduler', 'worker']);
  assert.equal(config.leaseMs, 30_000);
  assert.ok(Object.isFrozen(config));
});

test('flags win over environment variables and durations accept units', () => {
  const config = loadConfig({ JOBPLANE_WORKER_CONCURRENCY: '3', JOBPLANE_LEASE: '5s' }, { concurrency: '7' });
  assert.equal(config.workerConcurrency, 7);
  assert.equal(config.leaseMs, 5000);
  assert.equal(parseDuration('7d'), 604_800_000);
  assert.equal(parseDuration('soon'), null);
});

test('DB_* parts build a connection URL when DATABASE_URL is absent', () => {
  const config = loadConfig({ DB_HOST: 'db.local', DB_PORT: '6543', DB_USER: 'app', DB_PASSWORD: 'p@ss', DB_NAME: 'jobs', SSL_MODE: 'true' });
  assert.equal(config.databaseUrl, 'postgres://app:p%40ss@db.local:6543/jobs?sslmode=require');
});

test('every invalid setting is reported at once with CONFIG_INVALID', () => {
  assert.throws(
    () => loadConfig({ JOBPLANE_LEASE: 'soon', JOBPLANE_WORKER_CONCURRENCY: 'many', JOBPLANE_ROLES: 'worker,chef' }),
    (error: unknown) => isAppError(error, 'CONFIG_INVALID') && /JOBPLANE_LEASE/.test(error.message) && /CONCURRENCY/.test(error.message) && /chef/.test(error.message),
  );
});

test('the operations port is off by default, must be a port, and may not take the API port in an api process', () => {
  assert.equal(loadConfig({}).opsPort, null);
  assert.equal(loadConfig({ JOBPLANE_ROLES: 'worker' }, { 'ops-port': '9464' }).opsPort, 9464);
  assert.throws(() => loadConfig({ JOBPLANE_OPS_PORT: '70000' }), (error: unknown) => isAppError(error, 'CONFIG_INVALID') && /JOBPLANE_OPS_PORT must be a port number/.test(error.message));
  assert.throws(() => loadConfig({ PORT: '9000', JOBPLANE_OPS_PORT: '9000' }), (error: unknown) => isAppError(error, 'CONFIG_INVALID') && /must differ from PORT/.test(error.message));
  assert.equal(loadConfig({ PORT: '9000', JOBPLANE_OPS_PORT: '9000', JOBPLANE_ROLES: 'worker' }).opsPort, 9000);
});
