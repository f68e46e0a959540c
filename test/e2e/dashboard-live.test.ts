/**
 * The dashboard's live views tell the truth (issue 11 §4), in Chromium against a real
 * `jobplane start` process. Remote-worker jobs are driven by the test itself over the worker
 * protocol, so every attempt, log line and error happens exactly when the test says.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, loggedInPage, nextFrame } from '../helpers/browser.js';
import { testDatabase } from '../helpers/db.js';
import { callOk } from '../helpers/http-call.js';
import { startJobplaneProcess, type JobplaneProcess } from '../helpers/jobplane-process.js';
import { eventually } from '../helpers/wait.js';

const PASSWORD = 'correct horse battery staple';
const TASK = 'remote-thing';
const db = await testDatabase();
let server: JobplaneProcess;
let browser: Browser;
let adminToken: string;
let workerKey: string;
let workerId: string;

function call<T>(method: string, path: string, body?: unknown, auth: Record<string, string> = { authorization: `Bearer ${adminToken}` }): Promise<T> {
  return callOk<T>(server.url, auth, method, path, body);
}

const asWorker = <T>(path: string, body: unknown): Promise<T> => call<T>('POST', `/api/v1/worker${path}`, body, { 'x-api-key': workerKey });

async function submit(spec: Record<string, unknown>): Promise<string> {
  return (await call<{ id: string }>('POST', '/api/v1/jobs', spec)).id;
}

/** Claim `id` as the test's remote worker (it is the only job due in its queue). */
async function claim(id: string): Promise<string> {
  const { jobs } = await asWorker<{ jobs: Array<{ id: string; leaseToken: string }> }>('/claim', { workerId, max: 1, waitMs: 10_000 });
  assert.equal(jobs[0]?.id, id, 'the test worker claims the job it expects');
  return jobs[0].leaseToken;
}

before(async () => {
  server = db.track(await startJobplaneProcess({ DATABASE_URL: db.url, JOBPLANE_ADMIN_PASSWORD: PASSWORD, JOBPLANE_WORKER_CONCURRENCY: '2' }));
  browser = await launchBrowser();
  const login = await fetch(`${server.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: PASSWORD }) });
  adminToken = ((await login.json()) as { accessToken: string }).accessToken;
  workerKey = (await call<{ key: string }>('POST', '/api/v1/keys', { name: 'test remote worker', scopes: ['worker'] })).key;
  workerId = (await asWorker<{ workerId: string }>('/register', { name: 'test-remote', tasks: [TASK], capacity: 10 })).workerId;
});

after(async () => {
  await browser?.close();
});

const adminPage = (): Promise<{ context: BrowserContext; page: Page; errors: string[] }> => loggedInPage(browser, server.url, 'admin', PASSWORD);

test('a job leaving the status a list is filtered by shows its new status there, marked, and can be hidden', async () => {
  const { context, page, errors } = await adminPage();
  const id = await submit({ task: 'sleep', payload: { ms: 60_000 }, queue: 'leaves-running' });
  // The list is read again when the event stream opens or resets; on a busy machine such a read
  // can still be out when the job leaves the filter, and its answer no longer has the job. Make
  // every read that slow here: the row must not vanish when such an answer lands.
  let readsOut = 0;
  await page.route('**/api/v1/jobs?**', async (route) => {
    readsOut += 1;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await route.continue();
  });
  page.on('requestfinished', (r) => {
    if (r.url().includes('/api/v1/jobs?')) readsOut -= 1;
  });
  await page.goto(`${server.url}/jobs?status=running&queue=leaves-running`);
  const row = page.locator(`tr[data-job-id="${id}"]`);
  await row.locator('.badge', { hasText: 'running' }).waitFor({ timeout: 15_000 });
  await page.getByTestId('stream-status').and(page.locator('[data-state="live"]')).waitFor();
  await call('POST', `/api/v1/jobs/${id}/cancel`);
  await row.locator('.badge', { hasText: 'cancelled' }).waitFor({ timeout: 15_000 });
  await eventually(() => Promise.resolve(readsOut === 0), 10_000, 20);
  await nextFrame(page);
  assert.equal(await row.getAttribute('data-left', { timeout: 1_000 }), 'true');
  await page.getByRole('button', { name: /1 no longer matches the status filter/ }).click();
  await row.waitFor({ state: 'detached' });
  assert.deepEqual(errors, []);
  await context.close();
});

test('a failed attempt’s error appears in the list’s "Last error" without a reload', async () => {
  const { context, page, errors } = await adminPage();
  const id = await submit({ task: TASK, queue: 'last-error', maxAttempts: 3 });
  await page.goto(`${server.url}/jobs?queue=last-error`);
  const row = page.locator(`tr[data-job-id="${id}"]`);
  await row.locator('.badge', { hasText: 'queued' }).waitFor();
  await page.getByTestId('stream-status').and(page.locator('[data-state="live"]')).waitFor();
  const token = await claim(id);
  await row.locator('.badge', { hasText: 'running' }).waitFor();
  await asWorker(`/jobs/${id}/fail`, { leaseToken: token, error: { message: 'upstream said 503', retryable: true, retryAfterMs: 3_600_000 } });
  await row.getByText('upstream said 503').waitFor({ timeout: 10_000 });
  assert.deepEqual(errors, []);
  await context.close();
});

test('a remote worker’s log line shows once on the job page, however the reads for it overlap', async () => {
  const { context, page, errors } = await adminPage();
  const id = await submit({ task: TASK, queue: 'logs-once' });
  const token = await claim(id);
  // Slow log reads, as on a busy API: the burst of events below asks for new lines while a read
  // from the same cursor is still on its way.
  let finished = 0;
  await page.route('**/logs?**', async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    await route.continue();
  });
  page.on('requestfinished', (r) => {
    if (r.url().includes('/logs')) finished += 1;
  });
  await page.goto(`${server.url}/jobs/${id}`);
  await page.locator('.page-header .badge', { hasText: 'running' }).waitFor();
  await page.getByTestId('stream-status').and(page.locator('[data-state="live"]')).waitFor();
  await eventually(() => Promise.resolve(finished >= 1), 10_000, 20);
  const before = finished;
  await asWorker(`/jobs/${id}/logs`, { leaseToken: token, lines: [{ message: 'fetched the thing' }] });
  await asWorker(`/jobs/${id}/progress`, { leaseToken: token, progress: { done: 7, of: 10 } });
  await eventually(() => Promise.resolve(finished >= before + 2), 10_000, 20);
  // A later line is the barrier: once it shows, every earlier read has landed.
  await asWorker(`/jobs/${id}/logs`, { leaseToken: token, lines: [{ message: 'second line' }] });
  const log = page.getByRole('log', { name: 'Log lines' });
  await log.getByText('second line').waitFor({ timeout: 10_000 });
  assert.equal(await log.getByText('fetched the thing').count(), 1);
  // The progress the same burst reported, in the shape the remote-worker docs use.
  await page.getByText('7 of 10').waitFor();
  assert.equal(await page.getByRole('progressbar', { name: 'Progress' }).getAttribute('value'), '70');
  assert.equal(await page.locator('pre[aria-label="Progress"]').count(), 0, 'not raw JSON');
  assert.deepEqual(errors, []);
  await context.close();
});

test('the timeline lists every attempt’s start before its end, and a waiting job’s due time after the failure', async () => {
  const { context, page, errors } = await adminPage();
  const id = await submit({ task: TASK, queue: 'timeline', maxAttempts: 3 });
  for (let n = 1; n <= 3; n++) {
    const token = await claim(id);
    await asWorker(`/jobs/${id}/fail`, { leaseToken: token, error: { message: `attempt ${n} broke`, retryable: true, retryAfterMs: 0 } });
  }
  await page.goto(`${server.url}/jobs/${id}`);
  const items = page.getByRole('list', { name: 'Timeline' }).getByRole('listitem');
  await page.locator('.page-header .badge', { hasText: 'failed' }).waitFor();
  // Each item is its label, then (muted) its time.
  const labels = (): Promise<string[]> => items.evaluateAll((lis) => lis.map((li) => (li as unknown as { childNodes: ArrayLike<{ textContent: string | null }> }).childNodes[0]?.textContent ?? ''));
  assert.deepEqual(await labels(), ['Submitted', 'Attempt 1 started', 'Attempt 1 failed', 'Attempt 2 started', 'Attempt 2 failed', 'Attempt 3 started', 'Attempt 3 failed', 'Failed']);

  const waiting = await submit({ task: TASK, queue: 'timeline', maxAttempts: 3 });
  const token = await claim(waiting);
  await asWorker(`/jobs/${waiting}/fail`, { leaseToken: token, error: { message: 'later', retryable: true, retryAfterMs: 3_600_000 } });
  await page.goto(`${server.url}/jobs/${waiting}`);
  await page.locator('.page-header .badge', { hasText: 'queued' }).waitFor();
  assert.deepEqual(await labels(), ['Submitted', 'Attempt 1 started', 'Attempt 1 failed', 'Due']);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a remote worker’s error shows its name, and its stack collapsed under the message', async () => {
  const { context, page, errors } = await adminPage();
  const id = await submit({ task: TASK, queue: 'error-name', maxAttempts: 1 });
  const token = await claim(id);
  const stack = 'HTTPError: upstream 503\n    at fetchThing (thing.py:12)';
  await asWorker(`/jobs/${id}/fail`, { leaseToken: token, error: { message: 'upstream 503', name: 'HTTPError', stack, retryable: false } });
  await page.goto(`${server.url}/jobs/${id}`);
  const cell = page.getByRole('cell', { name: /upstream 503/ });
  await cell.locator('strong', { hasText: 'HTTPError:' }).waitFor();
  const details = cell.locator('details');
  assert.equal(await details.getAttribute('open'), null, 'collapsed');
  assert.equal(await details.locator('pre').isVisible(), false);
  await details.getByText('Stack trace').click();
  assert.match((await details.locator('pre').textContent()) ?? '', /at fetchThing \(thing\.py:12\)/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('each field’s validation error shows once, next to its field, on the submit and schedule forms', async () => {
  const { context, page, errors } = await adminPage();
  await page.goto(`${server.url}/submit`);
  await page.getByLabel('Attempts').fill('0');
  await page.getByLabel('Priority').fill('5000');
  await page.getByRole('button', { name: 'Submit' }).click();
  const fieldErrors = page.locator('.field-error .error-text');
  await fieldErrors.nth(1).waitFor();
  const messages = await fieldErrors.allTextContents();
  assert.equal(messages.length, 2, messages.join(' | '));
  for (const message of messages) assert.equal(await page.getByText(message, { exact: true }).count(), 1, `"${message}" once`);
  assert.doesNotMatch((await page.locator('.form-problem').textContent()) ?? '', /1000|characters/, 'the box under the form does not repeat them');

  await page.goto(`${server.url}/schedules/new`);
  await page.getByLabel('Cron expression').fill('*/5 * * * *');
  await page.getByRole('list', { name: 'Next fire times' }).waitFor();
  await page.getByRole('button', { name: 'Create schedule' }).click();
  const name = page.locator('.field-error', { has: page.getByLabel('Name', { exact: true }) }).locator('.error-text');
  const task = page.locator('.field-error', { has: page.getByLabel('Task') }).locator('.error-text');
  await name.waitFor();
  await task.waitFor();
  assert.equal(await page.locator('.field-error .error-text').count(), 2);
  const shown = [(await name.textContent()) ?? '', (await task.textContent()) ?? ''];
  for (const message of new Set(shown)) {
    assert.equal(await page.getByText(message, { exact: true }).count(), shown.filter((m) => m === message).length, `"${message}" only next to its fields`);
  }
  assert.match((await page.locator('.form-problem').textContent()) ?? '', /Check the 2 marked fields/);
  assert.deepEqual(errors.filter((e) => !/status of 400/.test(e)), [], 'only the expected 400s');
  await context.close();
});

test('the layout says when the event stream is down and when it is live again', async () => {
  const { context, page, errors } = await adminPage();
  await page.goto(`${server.url}/jobs`);
  const status = page.getByTestId('stream-status');
  await status.and(page.locator('[data-state="live"]')).waitFor();
  await status.getByText(/updated \d+ s ago/).waitFor();
  // The API's event stream goes away: the next page's stream and every reconnect are refused.
  let down = true;
  await page.route('**/api/v1/events**', async (route) => {
    if (down) await route.abort('connectionrefused');
    else await route.continue();
  });
  await page.goto(`${server.url}/jobs?queue=offline`);
  await status.and(page.locator('[data-state="reconnecting"]')).waitFor({ timeout: 10_000 });
  await status.getByText('Reconnecting…').waitFor();
  // On a phone the word fits too: the top bar does not push the page sideways.
  await page.setViewportSize({ width: 390, height: 800 });
  const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
  assert.ok(Number(overflow) <= 1, `at 390px the page scrolls sideways by ${String(overflow)}px while reconnecting`);
  assert.match((await status.getAttribute('title')) ?? '', /^Reconnecting…/, 'the state is still told (tooltip and screen readers) where the word is hidden');
  await page.setViewportSize({ width: 1280, height: 800 });
  down = false;
  await status.and(page.locator('[data-state="live"]')).waitFor({ timeout: 15_000 });
  await status.getByText('Live').waitFor();
  assert.deepEqual(errors.filter((e) => !/ERR_CONNECTION_REFUSED/.test(e)), []);
  await context.close();
});
