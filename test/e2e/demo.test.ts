/**
 * `jobplane start --demo` on an empty database: within moments the dashboard shows live jobs —
 * http calls to the demo's own echo endpoint, Fibonacci numbers, one that fails and retries.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { launchBrowser, logIn, screenshot, watchErrors } from '../helpers/browser.js';
import { testDatabase } from '../helpers/db.js';
import { startJobplaneProcess } from '../helpers/jobplane-process.js';
import { eventually } from '../helpers/wait.js';

const PASSWORD = 'demo password for tests';
const db = await testDatabase();
const server = db.track(await startJobplaneProcess({ DATABASE_URL: db.url, JOBPLANE_ADMIN_PASSWORD: PASSWORD }, ['--demo']));
const browser = await launchBrowser();
after(() => browser.close());

type Job = { id: string; task: string; status: string; errors: unknown[]; payload: { url?: string } };

async function token(): Promise<string> {
  const res = await fetch(`${server.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: PASSWORD }) });
  return ((await res.json()) as { accessToken: string }).accessToken;
}

test('the demo seeds schedules and jobs that run at once: http to its own echo endpoint, fibonacci, and one that retries', async () => {
  const auth = { authorization: `Bearer ${await token()}` };
  const get = async <T>(path: string): Promise<T> => (await (await fetch(`${server.url}${path}`, { headers: auth })).json()) as T;
  assert.ok(server.output.some((line) => line.includes('Demo running')), 'the demo says where to look');
  const schedules = await get<{ schedules: Array<{ name: string }> }>('/api/v1/schedules');
  assert.deepEqual(schedules.schedules.map((s) => s.name).sort(), ['demo-echo', 'demo-fibonacci', 'demo-flaky', 'demo-nightly-report']);
  const jobs = await eventually(async () => {
    const { jobs: list } = await get<{ jobs: Job[] }>('/api/v1/jobs?limit=100');
    const done = (task: string) => list.some((j) => j.task === task && j.status === 'completed');
    const retried = list.some((j) => j.payload.url?.includes('failRate=1') && j.errors.length > 0);
    return done('http') && done('fibonacci') && retried ? list : null;
  }, 30_000, 200);
  assert.ok(jobs.length >= 5);
  // Every seeded job is valid: none fails for its payload.
  assert.deepEqual(jobs.filter((j) => j.status === 'failed' && JSON.stringify(j.errors).includes('payload')), []);
  // The echo endpoint answers directly too.
  const echo = await fetch(`${server.url}/demo/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"x":1}' });
  assert.deepEqual(((await echo.json()) as { received: unknown }).received, { x: 1 });
});

test('a browser on the printed address shows the demo jobs live', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await logIn(page, server.url, 'admin', PASSWORD);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  // The completed card counts demo jobs (live: it needs no reload to get above zero).
  await page.getByRole('list', { name: 'Jobs by status' }).getByRole('link', { name: /completed/i }).locator('.ov-card-value', { hasText: /[1-9]/ }).waitFor({ timeout: 20_000 });
  await screenshot(page, 'demo-overview');
  await page.goto(`${server.url}/jobs`);
  await page.locator('tr[data-job-id]').nth(4).waitFor();
  await screenshot(page, 'demo-jobs');
  assert.deepEqual(errors, []);
  await context.close();
});
