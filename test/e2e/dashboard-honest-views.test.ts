/**
 * What the dashboard says about waiting work, in Chromium against a real `jobplane start`
 * process: the job page of a waiting job whose task no live worker handles says so, the submit
 * form offers `shell` only while a live worker announces it (issue 11 §2), and a back-dated job
 * does not blow up the overview's start latency (§4.5), and an empty queue paused and resumed
 * leaves no ghost behind (§4.9).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, loggedInPage, nextFrame } from '../helpers/browser.js';
import { testDatabase } from '../helpers/db.js';
import { callOk } from '../helpers/http-call.js';
import { startJobplaneProcess, type JobplaneProcess } from '../helpers/jobplane-process.js';

const PASSWORD = 'correct horse battery staple';
const db = await testDatabase();
let server: JobplaneProcess;
let browser: Browser;
let adminToken: string;

function call<T>(method: string, path: string, body?: unknown, auth: Record<string, string> = { authorization: `Bearer ${adminToken}` }): Promise<T> {
  return callOk<T>(server.url, auth, method, path, body);
}

before(async () => {
  server = db.track(await startJobplaneProcess({ DATABASE_URL: db.url, JOBPLANE_ADMIN_PASSWORD: PASSWORD }));
  browser = await launchBrowser();
  const login = await fetch(`${server.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: PASSWORD }) });
  adminToken = ((await login.json()) as { accessToken: string }).accessToken;
});

after(async () => {
  await browser?.close();
});

test('the job page of a waiting job says when no live worker handles its task, and not when one does', async () => {
  const { context, page, errors } = await loggedInPage(browser, server.url, 'admin', PASSWORD);
  const orphan = await call<{ id: string }>('POST', '/api/v1/jobs', { task: 'nobody-runs-this' });
  await page.goto(`${server.url}/jobs/${orphan.id}`);
  await page.getByText('No live worker handles task nobody-runs-this').waitFor();
  // A job the process's own worker runs (delayed, so it is still waiting when the page shows it).
  const handled = await call<{ id: string }>('POST', '/api/v1/jobs', { task: 'noop', delayMs: 3_600_000 });
  const tasksRead = page.waitForResponse((r) => r.url().endsWith('/api/v1/tasks'));
  await page.goto(`${server.url}/jobs/${handled.id}`);
  await tasksRead;
  await page.getByRole('heading', { name: 'Details' }).waitFor();
  await nextFrame(page);
  assert.equal(await page.getByText(/No live worker handles task/).count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});

test('the submit and schedule forms offer the shell task only while a live worker runs it', async () => {
  const { context, page, errors } = await loggedInPage(browser, server.url, 'admin', PASSWORD);
  const options = async (): Promise<string[]> => page.locator('datalist option').evaluateAll((nodes) => nodes.map((n) => (n as unknown as { value: string }).value));
  const tasksRead = page.waitForResponse((r) => r.url().endsWith('/api/v1/tasks'));
  await page.goto(`${server.url}/submit`);
  await tasksRead;
  await page.locator('datalist option[value="noop"]').waitFor({ state: 'attached' });
  assert.ok(!(await options()).includes('shell'), `offered: ${(await options()).join(', ')}`);
  // The schedule form offers the same list.
  const scheduleTasksRead = page.waitForResponse((r) => r.url().endsWith('/api/v1/tasks'));
  await page.goto(`${server.url}/schedules/new`);
  await scheduleTasksRead;
  await page.locator('datalist option[value="noop"]').waitFor({ state: 'attached' });
  assert.ok(!(await options()).includes('shell'), `schedule form offered: ${(await options()).join(', ')}`);
  await page.goto(`${server.url}/submit`);
  const workerKey = (await call<{ key: string }>('POST', '/api/v1/keys', { name: 'shell runner', scopes: ['worker'] })).key;
  await call('POST', '/api/v1/worker/register', { name: 'shell-runner', tasks: ['shell', 'custom-report'], capacity: 1 }, { 'x-api-key': workerKey });
  await page.reload();
  await page.locator('datalist option[value="shell"]').waitFor({ state: 'attached' });
  assert.ok((await options()).includes('custom-report'), 'tasks live workers announce are offered too');
  assert.deepEqual(errors, []);
  await context.close();
});

test("a job back-dated to 2020 does not turn the overview's start latency into hours", async () => {
  const { context, page, errors } = await loggedInPage(browser, server.url, 'admin', PASSWORD);
  const job = await call<{ id: string }>('POST', '/api/v1/jobs', { task: 'noop', runAt: '2020-01-01T00:00:00Z' });
  await page.goto(`${server.url}/jobs/${job.id}`);
  await page.locator('.badge', { hasText: 'completed' }).first().waitFor({ timeout: 15_000 });
  await page.goto(`${server.url}/`);
  const chart = page.getByRole('img', { name: /^Time from due to started/ });
  await chart.waitFor();
  const summary = (await chart.getAttribute('aria-label')) ?? '';
  assert.match(summary, /: \d+ ms on average over 1 starts/, summary);
  assert.deepEqual(errors, []);
  await context.close();
});

test('an empty queue paused is listed as paused with no jobs, and resuming it on the queues page removes it', async () => {
  const { context, page, errors } = await loggedInPage(browser, server.url, 'admin', PASSWORD);
  await call('POST', '/api/v1/queues/empty-ghost/pause');
  await page.goto(`${server.url}/queues`);
  const row = page.locator('tr[data-queue="empty-ghost"]');
  await row.locator('.badge', { hasText: 'paused' }).waitFor();
  await row.getByRole('button', { name: 'Resume queue empty-ghost' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Resume queue' }).click();
  await page.getByRole('status').filter({ hasText: 'Queue empty-ghost resumed.' }).waitFor();
  await row.waitFor({ state: 'detached' });
  await page.reload();
  await page.getByRole('table', { name: 'Queues' }).or(page.getByText(/no queues/i)).first().waitFor();
  assert.equal(await row.count(), 0, 'no ghost queue after a reload either');
  assert.deepEqual(errors, []);
  await context.close();
});
