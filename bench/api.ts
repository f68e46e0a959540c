/**
 * REST API throughput and latency: autocannon (in this process) against the API (in a child
 * process) on loopback, one fresh database. Scenarios: POST /api/v1/jobs (API-key auth, each
 * request a committed job) and GET /api/v1/jobs/:id. Prints one JSON document.
 *   npx tsx bench/api.ts [--duration 10] [--connections 32]
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { createFreshDatabase } from './lib/db.js';
import { machineInfo } from './lib/machine.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const duration = arg('duration', 10);
const connections = arg('connections', 32);

const db = await createFreshDatabase('jobplane', 'api');
const server = spawn(process.execPath, ['--import', 'tsx', new URL('./lib/api-server.ts', import.meta.url).pathname], {
  env: { ...process.env, DATABASE_URL: db.url },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const first = await new Promise<string>((resolve, reject) => {
  createInterface({ input: server.stdout }).once('line', resolve);
  server.once('exit', (code) => reject(new Error(`API server exited (${code})`)));
});
const { url, key } = JSON.parse(first) as { url: string; key: string };
const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

async function run(title: string, path: string, options: Partial<autocannon.Options>) {
  const result = await autocannon({ url: url + path, connections, duration, headers, ...options });
  return {
    title,
    requestsPerS: Math.round(result.requests.average),
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

try {
  const submit = await run('POST /api/v1/jobs', '/api/v1/jobs', { method: 'POST', body: JSON.stringify({ task: 'bench', payload: { n: 1 } }) });
  const created = await fetch(`${url}/api/v1/jobs`, { method: 'POST', headers, body: JSON.stringify({ task: 'bench' }) });
  const { id } = (await created.json()) as { id: string };
  const get = await run('GET /api/v1/jobs/:id', `/api/v1/jobs/${id}`, { method: 'GET' });
  console.log(JSON.stringify({ benchmark: 'api', date: new Date().toISOString(), machine: await machineInfo(), params: { duration, connections }, results: [submit, get] }, null, 2));
} finally {
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  await db.drop();
}
