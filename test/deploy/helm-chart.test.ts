/**
 * deploy/helm/jobplane renders (through helm-render.ts: Go text/template + sprig, as Helm 3) to
 * Kubernetes objects that pass the Kubernetes 1.31-era OpenAPI validators shipped by the
 * kubernetes-models package, and has the shape the deployment docs promise.
 * What this does not prove: that a real helm binary accepts the chart byte for byte (no helm here),
 * that a cluster admits the objects (no API server: no admission, no unknown-field rejection, since
 * these validators, like kubeconform without -strict, allow unknown fields), or that the pods run.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { renderChart, type Loose, type Manifest } from './helm-render.js';

const CHART = fileURLToPath(new URL('../../deploy/helm/jobplane', import.meta.url));
const MINIMAL = { database: { host: 'postgres.db.svc', password: 's3cret' } };
const FULL = {
  ...MINIMAL,
  ingress: { enabled: true, className: 'nginx', tls: [{ secretName: 'jobplane-tls', hosts: ['jobplane.example.com'] }] },
  worker: { autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 12 } },
  imagePullSecrets: [{ name: 'registry' }],
  extraEnv: [{ name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://otel-collector:4318' }],
};

interface ModelClass {
  new (data: unknown): { validate(): void };
}

/** The kubernetes-models class for an object's apiVersion and kind (e.g. apps/v1 Deployment). */
async function modelFor(m: Manifest): Promise<ModelClass> {
  // Module paths follow apiVersion: kubernetes-models/v1/Secret (core group), kubernetes-models/apps/v1/Deployment.
  const mod = (await import(`kubernetes-models/${m.apiVersion}/${m.kind}`)) as Record<string, ModelClass>;
  const cls = mod[m.kind];
  assert.ok(cls, `no kubernetes-models class for ${m.apiVersion} ${m.kind}`);
  return cls;
}

async function validateAll(manifests: Manifest[]): Promise<void> {
  for (const m of manifests) {
    const Model = await modelFor(m);
    assert.doesNotThrow(() => new Model(m).validate(), `${m.kind}/${m.metadata.name} is not a valid ${m.apiVersion} ${m.kind}`);
  }
}

const byKind = (ms: Manifest[], kind: string): Manifest[] => ms.filter((m) => m.kind === kind);
const one = (ms: Manifest[], kind: string, name: string): Manifest => {
  const found = ms.find((m) => m.kind === kind && m.metadata.name === name);
  assert.ok(found, `${kind}/${name} was not rendered`);
  return found;
};
const matches = (selector: Record<string, string>, labels: Record<string, string> | undefined): boolean =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

test('the chart with the minimal values renders to objects that validate against the Kubernetes schemas', async () => {
  const { manifests } = await renderChart(CHART, { values: MINIMAL });
  assert.deepEqual(
    manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort(),
    [
      'ConfigMap/jobplane', 'Deployment/jobplane-api', 'Deployment/jobplane-scheduler', 'Deployment/jobplane-worker',
      'Job/jobplane-migrate-1', 'PodDisruptionBudget/jobplane-api', 'PodDisruptionBudget/jobplane-worker',
      'Secret/jobplane', 'Service/jobplane', 'ServiceAccount/jobplane',
    ],
  );
  await validateAll(manifests);
});

test('the chart with ingress, worker autoscaling and extra settings renders to valid objects', async () => {
  const { manifests, notes } = await renderChart(CHART, { values: FULL, releaseName: 'prod', namespace: 'jobs' });
  await validateAll(manifests);
  const ingress = one(manifests, 'Ingress', 'prod-jobplane');
  assert.equal(ingress.spec.ingressClassName, 'nginx');
  assert.equal(ingress.spec.rules[0].http.paths[0].backend.service.name, 'prod-jobplane');
  assert.equal(byKind(manifests, 'Service')[0]!.metadata.name, 'prod-jobplane');
  assert.match(notes, /https:\/\/jobplane\.example\.com\//);
});

test('the validators used here do reject a broken object (the check is not vacuous)', async () => {
  const { manifests } = await renderChart(CHART, { values: MINIMAL });
  const api = structuredClone(one(manifests, 'Deployment', 'jobplane-api'));
  api.spec.template.spec.containers[0].ports[0].containerPort = 'http';
  const Model = await modelFor(api);
  assert.throws(() => new Model(api).validate());
});

test('rendering without any database setting fails with a message instead of starting embedded PostgreSQL', async () => {
  await assert.rejects(renderChart(CHART), /set database\.url, database\.host or secrets\.existingSecret/);
});

test('every labelled object carries the Kubernetes recommended labels', async () => {
  const { manifests } = await renderChart(CHART, { values: FULL });
  for (const m of manifests) {
    for (const key of ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/version', 'app.kubernetes.io/managed-by', 'helm.sh/chart']) {
      assert.ok(m.metadata.labels?.[key], `${m.kind}/${m.metadata.name} lacks ${key}`);
    }
  }
});

test('each role has its own Deployment running `jobplane start --role <role>` as a non-root user on a read-only root filesystem', async () => {
  const { manifests } = await renderChart(CHART, { values: FULL });
  const deployments = byKind(manifests, 'Deployment');
  assert.equal(deployments.length, 3);
  for (const role of ['api', 'scheduler', 'worker']) {
    const d = one(manifests, 'Deployment', `jobplane-${role}`);
    const pod = d.spec.template.spec;
    const [container] = pod.containers;
    assert.deepEqual(container.args, ['start', '--role', role]);
    assert.ok(container.env.some((e: { name: string; value: string }) => e.name === 'JOBPLANE_ROLES' && e.value === role));
    assert.ok(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels), 'selector matches the pod labels');
    assert.equal(d.spec.selector.matchLabels['app.kubernetes.io/component'], role);
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.ok(pod.securityContext.runAsUser > 0);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);
    assert.ok(container.volumeMounts.some((v: { mountPath: string }) => v.mountPath === '/tmp'), 'writable /tmp');
    assert.deepEqual(container.envFrom.map((e: Record<string, { name: string }>) => Object.keys(e)[0]).sort(), ['configMapRef', 'secretRef']);
    assert.deepEqual(pod.imagePullSecrets, [{ name: 'registry' }]);
  }
});

test('the api Deployment probes liveness on /healthz and readiness on /readyz of its http port', async () => {
  const { manifests } = await renderChart(CHART, { values: MINIMAL });
  const [api] = one(manifests, 'Deployment', 'jobplane-api').spec.template.spec.containers;
  assert.deepEqual(api.ports, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }, { name: 'ops', containerPort: 9464, protocol: 'TCP' }]);
  assert.deepEqual(api.livenessProbe.httpGet, { path: '/healthz', port: 'http' });
  assert.deepEqual(api.readinessProbe.httpGet, { path: '/readyz', port: 'http' });
  assert.deepEqual(api.startupProbe.httpGet, { path: '/healthz', port: 'http' });
  const config = one(manifests, 'ConfigMap', 'jobplane');
  assert.equal(config.data.JOBPLANE_HOST, '0.0.0.0', 'the api listens on all interfaces in a pod');
  assert.equal(config.data.PORT, '8080');
});

test('scheduler and worker Deployments serve probes and metrics on their operations port', async () => {
  const { manifests } = await renderChart(CHART, { values: MINIMAL });
  for (const role of ['scheduler', 'worker']) {
    const deployment = one(manifests, 'Deployment', `jobplane-${role}`);
    const [c] = deployment.spec.template.spec.containers;
    assert.deepEqual(c.ports, [{ name: 'ops', containerPort: 9464, protocol: 'TCP' }], role);
    assert.ok(c.env.some((e: { name: string; value: string }) => e.name === 'JOBPLANE_OPS_PORT' && e.value === '9464'), `${role} sets JOBPLANE_OPS_PORT`);
    assert.deepEqual(c.livenessProbe.httpGet, { path: '/healthz', port: 'ops' });
    assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 'ops' });
    assert.deepEqual(c.startupProbe.httpGet, { path: '/healthz', port: 'ops' });
    assert.equal(deployment.spec.template.metadata.annotations['prometheus.io/port'], '9464');
  }
});

test('Prometheus scrapes the api pods on their operations port, since the api port serves no /metrics without a token', async () => {
  const { manifests } = await renderChart(CHART, { values: MINIMAL });
  const api = one(manifests, 'Deployment', 'jobplane-api');
  const [c] = api.spec.template.spec.containers;
  assert.ok(c.env.some((e: { name: string; value: string }) => e.name === 'JOBPLANE_OPS_PORT' && e.value === '9464'), 'the api sets JOBPLANE_OPS_PORT');
  const annotations = api.spec.template.metadata.annotations;
  assert.deepEqual([annotations['prometheus.io/scrape'], annotations['prometheus.io/path'], annotations['prometheus.io/port']], ['true', '/metrics', '9464']);
  assert.ok(c.ports.some((p: { name: string; containerPort: number }) => p.name === 'ops' && p.containerPort === 9464));
  assert.equal(one(manifests, 'Service', 'jobplane').spec.ports.length, 1, 'the operations port is not behind the Service');
  assert.equal(one(manifests, 'Service', 'jobplane').spec.ports[0].targetPort, 'http');
});

test('probe timings are shared and a role may override them', async () => {
  const { manifests } = await renderChart(CHART, { values: { ...MINIMAL, probes: { readiness: { periodSeconds: 7 } }, worker: { probes: { liveness: { timeoutSeconds: 9 } } } } });
  const container = (role: string): Loose => one(manifests, 'Deployment', `jobplane-${role}`).spec.template.spec.containers[0];
  assert.equal(container('api').readinessProbe.periodSeconds, 7);
  assert.equal(container('worker').readinessProbe.periodSeconds, 7);
  assert.equal(container('worker').livenessProbe.timeoutSeconds, 9);
  assert.equal(container('worker').livenessProbe.periodSeconds, 10, 'the rest of the shared timings stay');
  assert.equal(container('api').livenessProbe.timeoutSeconds, 3, 'other roles keep the shared timing');
  await validateAll(manifests);
});

test('the Service and Ingress route to the api pods only', async () => {
  const { manifests } = await renderChart(CHART, { values: FULL });
  const service = one(manifests, 'Service', 'jobplane');
  const api = one(manifests, 'Deployment', 'jobplane-api');
  assert.ok(matches(service.spec.selector, api.spec.template.metadata.labels));
  for (const role of ['scheduler', 'worker']) {
    assert.ok(!matches(service.spec.selector, one(manifests, 'Deployment', `jobplane-${role}`).spec.template.metadata.labels));
  }
  assert.equal(service.spec.ports[0].targetPort, 'http');
});

test('the worker HorizontalPodAutoscaler targets the worker Deployment, which then leaves replicas to it', async () => {
  const { manifests } = await renderChart(CHART, { values: FULL });
  const hpa = one(manifests, 'HorizontalPodAutoscaler', 'jobplane-worker');
  assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'jobplane-worker' });
  assert.equal(hpa.spec.minReplicas, 3);
  assert.equal(hpa.spec.maxReplicas, 12);
  assert.equal(one(manifests, 'Deployment', 'jobplane-worker').spec.replicas, undefined);
  const without = await renderChart(CHART, { values: MINIMAL });
  assert.equal(byKind(without.manifests, 'HorizontalPodAutoscaler').length, 0);
  assert.equal(one(without.manifests, 'Deployment', 'jobplane-worker').spec.replicas, 2);
});

test('each PodDisruptionBudget selects exactly the pods of its own role', async () => {
  const { manifests } = await renderChart(CHART, { values: FULL });
  const pdbs = byKind(manifests, 'PodDisruptionBudget');
  assert.deepEqual(pdbs.map((p) => p.metadata.name).sort(), ['jobplane-api', 'jobplane-worker'], 'a single scheduler gets none: it would block node drains');
  for (const pdb of pdbs) {
    const role = pdb.metadata.name.replace('jobplane-', '');
    for (const d of byKind(manifests, 'Deployment')) {
      const own = d.metadata.name === `jobplane-${role}`;
      assert.equal(matches(pdb.spec.selector.matchLabels, d.spec.template.metadata.labels), own, `${pdb.metadata.name} vs ${d.metadata.name}`);
    }
    assert.equal(pdb.spec.maxUnavailable, 1);
  }
});

test('the migration Job runs `jobplane migrate` as a Helm hook with the roles\' configuration', async () => {
  const { manifests } = await renderChart(CHART, { values: MINIMAL, upgrade: true });
  const job = one(manifests, 'Job', 'jobplane-migrate-2');
  assert.equal(job.metadata.annotations?.['helm.sh/hook'], 'post-install,pre-upgrade');
  const pod = job.spec.template.spec;
  assert.equal(pod.restartPolicy, 'Never');
  const [c] = pod.containers;
  assert.equal(c.image, one(manifests, 'Deployment', 'jobplane-api').spec.template.spec.containers[0].image);
  assert.deepEqual(c.args, ['migrate']);
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.deepEqual(c.envFrom, one(manifests, 'Deployment', 'jobplane-worker').spec.template.spec.containers[0].envFrom);
  const off = await renderChart(CHART, { values: { ...MINIMAL, migrations: { enabled: false } } });
  assert.equal(byKind(off.manifests, 'Job').length, 0);
});

test('database and secrets: a URL goes to the Secret, host settings to the ConfigMap, an existing Secret replaces the chart\'s', async () => {
  const url = await renderChart(CHART, { values: { database: { url: 'postgres://u:p@db/jobplane' }, secrets: { adminPassword: 'pw' } } });
  const secret = one(url.manifests, 'Secret', 'jobplane');
  assert.deepEqual(secret.stringData, { DATABASE_URL: 'postgres://u:p@db/jobplane', JOBPLANE_ADMIN_PASSWORD: 'pw' });
  assert.equal(one(url.manifests, 'ConfigMap', 'jobplane').data.DB_HOST, undefined);

  const host = await renderChart(CHART, { values: MINIMAL });
  const data = one(host.manifests, 'ConfigMap', 'jobplane').data;
  assert.deepEqual([data.DB_HOST, data.DB_PORT, data.DB_USER, data.DB_NAME], ['postgres.db.svc', '5432', 'jobplane', 'jobplane']);
  assert.deepEqual(one(host.manifests, 'Secret', 'jobplane').stringData, { DB_PASSWORD: 's3cret' });
  assert.ok(!JSON.stringify(host.manifests.filter((m) => m.kind !== 'Secret')).includes('s3cret'), 'the password appears only in the Secret');

  const existing = await renderChart(CHART, { values: { secrets: { existingSecret: 'jobplane-prod' } } });
  await validateAll(existing.manifests);
  assert.equal(byKind(existing.manifests, 'Secret').length, 0);
  const [c] = one(existing.manifests, 'Deployment', 'jobplane-api').spec.template.spec.containers;
  assert.ok(c.envFrom.some((e: { secretRef?: { name: string } }) => e.secretRef?.name === 'jobplane-prod'));
});
