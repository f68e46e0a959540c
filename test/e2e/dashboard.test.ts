/**
 * The dashboard in a real browser (Debian Chromium through playwright-core) against a real
 * `jobplane start` process on this file's database. Screenshots of the main pages are written to
 * test/e2e/screenshots/ (not committed).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, loggedInPage, logIn, screenshot, watchErrors } from '../helpers/browser.js';
import { testDatabase } from '../helpers/db.js';
import { startJobplaneProcess, type JobplaneProcess } from '../helpers/jobplane-process.js';
import { eventually } from '../helpers/wait.js';

const PASSWORD = 'correct horse battery staple';
const db = await testDatabase();
let server: JobplaneProcess;
let browser: Browser;
let adminToken: string;

async function call<T>(method: string, path: string, body?: unknown, token = adminToken): Promise<{ status: number; body: T }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

async function tokenFor(username: string, password: string): Promise<string> {
  const res = await fetch(`${server.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { accessToken: string }).accessToken;
}

async function submit(spec: Record<string, unknown>): Promise<string> {
  const res = await call<{ id: string }>('POST', '/api/v1/jobs', spec);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id;
}

before(async () => {
  server = db.track(await startJobplaneProcess({ DATABASE_URL: db.url, JOBPLANE_ADMIN_PASSWORD: PASSWORD, JOBPLANE_WORKER_CONCURRENCY: '4' }));
  browser = await launchBrowser();
  adminToken = await tokenFor('admin', PASSWORD);
});

after(async () => {
  await browser?.close();
});

const adminPage = (): Promise<{ context: BrowserContext; page: Page; errors: string[] }> => loggedInPage(browser, server.url, 'admin', PASSWORD);

test('an admin logs in, submits a job from the UI and watches it go from queued to completed without reloading', async () => {
  const { context, page, errors } = await adminPage();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Submit a job' }).click();
  await page.getByLabel('Task').fill('sleep');
  await page.getByLabel('Payload (JSON)').fill('{ "ms": 1500 }');
  await page.getByRole('button', { name: 'Submit' }).click();
  await page.waitForURL(/\/jobs\/[0-9a-f-]{36}$/);
  // A marker on the window proves the page is never reloaded while the status changes.
  await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42));
  await page.locator('.page-header .badge', { hasText: 'running' }).waitFor({ timeout: 15_000 });
  await page.locator('.page-header .badge', { hasText: 'completed' }).waitFor({ timeout: 15_000 });
  assert.equal(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker), 42);
  await screenshot(page, 'job-completed');

  // The list updates in place too.
  const id = await submit({ task: 'sleep', payload: { ms: 1000 }, queue: 'live-list' });
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Jobs' }).click();
  await page.goto(`${server.url}/jobs?queue=live-list`);
  const row = page.locator(`tr[data-job-id="${id}"]`);
  await row.waitFor();
  await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 43));
  await row.locator('.badge', { hasText: 'completed' }).waitFor({ timeout: 15_000 });
  assert.equal(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker), 43);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a change made after the list was read but before the live stream connected still reaches the list', async () => {
  const { context, page, errors } = await adminPage();
  const id = await submit({ task: 'noop', queue: 'late-stream', delayMs: 3_600_000 });
  // Hold the page's event stream until the job has changed, as a slow network or a busy API would.
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let held = 0;
  await page.route('**/api/v1/events**', async (route) => {
    held += 1;
    await released;
    await route.continue();
  });
  await page.goto(`${server.url}/jobs?queue=late-stream`);
  const row = page.locator(`tr[data-job-id="${id}"]`);
  await row.locator('.badge', { hasText: 'queued' }).waitFor();
  await eventually(() => Promise.resolve(held > 0), 10_000, 20);
  assert.equal((await call('POST', `/api/v1/jobs/${id}/cancel`)).status, 200);
  release();
  await row.locator('.badge', { hasText: 'cancelled' }).waitFor({ timeout: 10_000 });
  assert.deepEqual(errors, []);
  await context.close();
});

test('a running job is cancelled from its page after a confirmation', async () => {
  const { context, page, errors } = await adminPage();
  const id = await submit({ task: 'sleep', payload: { ms: 60_000 }, queue: 'to-cancel' });
  await page.goto(`${server.url}/jobs/${id}`);
  await page.locator('.page-header .badge', { hasText: 'running' }).waitFor({ timeout: 15_000 });
  await page.getByRole('button', { name: 'Cancel', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Cancel this job?' });
  await dialog.waitFor();
  await screenshot(page, 'job-cancel-dialog');
  await dialog.getByRole('button', { name: 'Cancel job' }).click();
  // First the server (the worker stops the handler), then the page, so a failure says which lagged.
  await eventually(async () => (await call<{ status: string }>('GET', `/api/v1/jobs/${id}`)).body.status === 'cancelled', 30_000, 100);
  await page.locator('.page-header .badge', { hasText: 'cancelled' }).waitFor({ timeout: 10_000 });
  assert.deepEqual(errors, []);
  await context.close();
});

test('filters narrow the list, live in the URL and survive a reload; job-provided text is shown, never run', async () => {
  const { context, page, errors } = await adminPage();
  const hostile = '<img src=x onerror="window.pwned=1"> needle-7f3a';
  const wanted = await submit({ task: 'noop', queue: 'filters', payload: { note: hostile }, delayMs: 3_600_000 });
  const haystack = await submit({ task: 'noop', queue: 'filters', payload: { note: 'haystack' }, delayMs: 3_600_000 });
  await page.goto(`${server.url}/jobs?queue=filters`);
  await page.locator('tr[data-job-id]').nth(1).waitFor();
  await page.getByLabel('Search id, task, queue, payload').fill('needle-7f3a');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/q=needle-7f3a/);
  // The unfiltered rows stay until the filtered answer arrives.
  await page.locator(`tr[data-job-id="${haystack}"]`).waitFor({ state: 'detached' });
  await page.locator('tr[data-job-id]').first().waitFor();
  const ids = (): Promise<Array<string | null>> => page.locator('tr[data-job-id]').evaluateAll((rows) => rows.map((r): string | null => (r as unknown as { getAttribute(n: string): string | null }).getAttribute('data-job-id')));
  assert.deepEqual(await ids(), [wanted]);
  await page.reload();
  await page.locator(`tr[data-job-id="${wanted}"]`).waitFor();
  assert.equal(await page.locator('tr[data-job-id]').count(), 1);
  await page.getByRole('checkbox', { name: 'scheduled' }).check();
  await page.waitForURL(/status=scheduled/);
  await screenshot(page, 'jobs-filtered');

  await page.goto(`${server.url}/jobs/${wanted}`);
  const payload = page.locator('pre[aria-label="Payload"]');
  await payload.waitFor();
  assert.match((await payload.textContent()) ?? '', /<img src=x onerror=/);
  assert.equal(await page.locator('img[src="x"]').count(), 0);
  assert.equal(await page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned), undefined);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a viewer sees no action buttons, and the API refuses the actions anyway', async () => {
  const created = await call('POST', '/api/v1/users', { username: 'vera', password: 'viewer password 123', role: 'viewer' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = await submit({ task: 'noop', queue: 'viewer', delayMs: 3_600_000 });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await logIn(page, server.url, 'vera', 'viewer password 123');
  const nav = page.getByRole('navigation', { name: 'Main' });
  assert.equal(await nav.getByRole('link', { name: 'Jobs' }).count(), 1);
  for (const hidden of ['Submit a job', 'Users', 'API keys', 'Audit log']) assert.equal(await nav.getByRole('link', { name: hidden }).count(), 0, hidden);
  await page.goto(`${server.url}/jobs/${id}`);
  await page.locator('.page-header .badge', { hasText: 'queued' }).waitFor();
  for (const action of ['Cancel', 'Retry', 'Reschedule / priority']) assert.equal(await page.getByRole('button', { name: action, exact: true }).count(), 0, action);
  await page.goto(`${server.url}/jobs?queue=viewer`);
  await page.locator(`tr[data-job-id="${id}"]`).waitFor();
  assert.equal(await page.getByRole('checkbox', { name: /Select/ }).count(), 0, 'no bulk selection for viewers');
  await screenshot(page, 'jobs-as-viewer');
  const viewerToken = await tokenFor('vera', 'viewer password 123');
  assert.equal((await call('POST', `/api/v1/jobs/${id}/cancel`, undefined, viewerToken)).status, 403);
  assert.equal((await call('GET', '/api/v1/users', undefined, viewerToken)).status, 403);
  assert.deepEqual(errors, []);
  await context.close();
});

test('the session survives a reload and an expired access token, and logging out returns to the login form', async () => {
  const { context, page, errors } = await adminPage();
  // The next list request is answered as if the access token had expired: the page refreshes
  // its session once and retries, and the user sees the list, not the login form.
  let expired = false;
  await page.route('**/api/v1/jobs?**', async (route) => {
    if (expired) return route.fallback();
    expired = true;
    return route.fulfill({ status: 401, contentType: 'application/problem+json', body: JSON.stringify({ code: 'TOKEN_INVALID', status: 401, title: 'The token is invalid or expired' }) });
  });
  const refreshed = page.waitForRequest((r) => r.url().endsWith('/api/v1/auth/refresh'));
  await page.goto(`${server.url}/jobs?status=completed`);
  await refreshed;
  await page.getByRole('table', { name: 'Jobs' }).waitFor();
  assert.equal(expired, true);
  await page.unroute('**/api/v1/jobs?**');
  await page.goto(`${server.url}/jobs`);
  await page.getByRole('table', { name: 'Jobs' }).waitFor();
  await page.reload();
  await page.getByRole('table', { name: 'Jobs' }).waitFor();
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByLabel('Password').waitFor();
  await page.reload();
  await page.getByLabel('Password').waitFor();
  assert.deepEqual(errors.filter((e) => !/status of 401/.test(e)), [], 'only the faked 401');
  await context.close();
});

test('a schedule is created through the form, which explains the cron expression and previews fire times in its zone', async () => {
  const { context, page, errors } = await adminPage();
  await page.goto(`${server.url}/schedules`);
  await page.getByRole('link', { name: /^(New schedule|Create the first schedule)$/ }).first().click();
  await page.getByLabel('Name', { exact: true }).fill('nightly-report');
  await page.getByRole('radio', { name: 'Cron' }).check();
  await page.getByLabel('Time zone').fill('Europe/Berlin');
  await page.getByLabel('Cron expression').fill('0 0 30 2 *');
  await page.getByText(/never fire/).waitFor();
  await page.getByLabel('Cron expression').fill('30 2 * * *');
  const preview = page.getByRole('region', { name: 'Timing preview' });
  await preview.getByText(/02:30/).first().waitFor();
  await preview.getByText(/Europe\/Berlin/).first().waitFor();
  assert.ok((await preview.getByRole('list', { name: 'Next fire times' }).getByRole('listitem').count()) >= 3);
  await page.getByLabel('Task').fill('noop');
  await page.getByLabel('Priority').fill('5');
  await page.getByLabel('Max attempts').fill('2');
  await page.getByLabel('Misfire grace (seconds)').fill('120');
  await screenshot(page, 'schedule-form');
  await page.getByRole('button', { name: 'Create schedule' }).click();
  await page.getByRole('heading', { name: 'nightly-report' }).waitFor();
  await page.getByRole('list', { name: 'Next fire times' }).waitFor();
  await screenshot(page, 'schedule-detail');
  const { body } = await call<{ schedules: Array<{ id: string; name: string; cron: string; timezone: string; misfireGraceMs: number; jobOptions: Record<string, unknown> }> }>('GET', '/api/v1/schedules');
  const saved = body.schedules.find((s) => s.name === 'nightly-report');
  assert.deepEqual([saved?.cron, saved?.timezone, saved?.misfireGraceMs, saved?.jobOptions], ['30 2 * * *', 'Europe/Berlin', 120_000, { priority: 5, maxAttempts: 2 }]);

  // Editing keeps job options the form has no field for, and an emptied field falls back to the default.
  const patched = await call('PATCH', `/api/v1/schedules/${saved!.id}`, { jobOptions: { priority: 5, maxAttempts: 2, labels: { team: 'reports' } } });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  await page.goto(`${server.url}/schedules/${saved!.id}/edit`);
  await page.getByText('Also kept as they are: labels').waitFor();
  await page.getByLabel('Priority').fill('');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.waitForURL(new RegExp(`/schedules/${saved!.id}$`));
  const edited = await call<{ jobOptions: Record<string, unknown> }>('GET', `/api/v1/schedules/${saved!.id}`);
  assert.deepEqual(edited.body.jobOptions, { maxAttempts: 2, labels: { team: 'reports' } });
  assert.deepEqual(errors.filter((e) => !/status of 400/.test(e)), [], 'only the expected 400 of the never-firing expression');
  await context.close();
});

test('an admin creates an API key, sees it once, and revokes it; the key stops working at once', async () => {
  const { context, page, errors } = await adminPage();
  await page.goto(`${server.url}/keys`);
  await page.getByRole('button', { name: 'Create API key' }).click();
  await page.getByLabel('Name', { exact: true }).fill('ci-key');
  await page.getByRole('checkbox', { name: 'jobs:read', exact: true }).check();
  await page.getByRole('button', { name: 'Create key' }).click();
  const value = page.getByTestId('new-key-value');
  await value.waitFor();
  const key = ((await value.textContent()) ?? '').trim();
  assert.match(key, /^jp_/);
  await page.getByText('It will not be shown again').waitFor();
  await screenshot(page, 'key-created');
  assert.equal((await call('GET', '/api/v1/jobs', undefined, key)).status, 200);
  await page.getByRole('button', { name: /hide the key/ }).click();
  await page.getByRole('button', { name: 'Revoke key ci-key' }).click();
  await page.getByRole('dialog', { name: 'Revoke key ci-key?' }).getByRole('button', { name: 'Revoke key' }).click();
  await page.getByText('Revoked key ci-key.').waitFor();
  assert.equal((await call('GET', '/api/v1/jobs', undefined, key)).status, 401);
  await page.reload();
  await page.getByRole('table', { name: 'API keys' }).waitFor();
  assert.equal(await page.getByText(key).count(), 0, 'the key is never shown again');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a superadmin creates a tenant from the Tenants page; its admin sees only the new tenant and no Tenants page', async () => {
  const { context, page, errors } = await adminPage();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tenants' }).click();
  await page.getByRole('button', { name: 'Create tenant' }).click();
  await page.getByLabel('Name', { exact: true }).fill('Initech');
  await page.getByLabel('Slug').fill('initech');
  await page.getByLabel('Admin username').fill('initech-admin');
  await page.getByLabel('Admin password').fill('initech admin password');
  await page.locator('form').getByRole('button', { name: 'Create tenant' }).click();
  await page.getByRole('status').filter({ hasText: 'Created Initech (initech)' }).waitFor();
  const row = page.getByRole('table', { name: 'Tenants' }).getByRole('row').filter({ hasText: 'Initech' });
  await row.getByText('initech', { exact: true }).waitFor();
  assert.equal((await row.locator('td[data-label="Users"]').textContent())?.trim(), '1');
  await screenshot(page, 'tenant-created');
  await context.close();

  // The new tenant's admin: an empty job list and no Tenants link (an admin, not a superadmin).
  const theirs = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const theirPage = await theirs.newPage();
  const theirErrors = watchErrors(theirPage);
  await logIn(theirPage, server.url, 'initech-admin', 'initech admin password');
  await theirPage.goto(`${server.url}/jobs`);
  await theirPage.getByText(/No jobs/).first().waitFor();
  assert.equal(await theirPage.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tenants' }).count(), 0);
  assert.deepEqual([...errors, ...theirErrors], []);
  await theirs.close();
});

test('every page renders at desktop and phone width without errors or sideways scrolling (screenshots saved)', async () => {
  await submit({ task: 'fibonacci', payload: { n: 20 }, queue: 'tour' });
  const { context, page, errors } = await adminPage();
  const pages = ['/', '/jobs', '/failures', '/schedules', '/queues', '/workers', '/submit', '/audit', '/users', '/keys', '/tenants'];
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 800 });
    for (const path of pages) {
      await page.goto(`${server.url}${path}`);
      await page.getByRole('heading', { level: 1 }).first().waitFor();
      await page.locator('[role="status"] .spinner').first().waitFor({ state: 'detached' }).catch(() => undefined);
      const overflow = await page.evaluate(() => {
        const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
        return root.scrollWidth - root.clientWidth;
      });
      assert.ok(overflow <= 1, `${path} at ${width}px scrolls sideways by ${overflow}px`);
      await screenshot(page, `page${path === '/' ? '-overview' : path.replaceAll('/', '-')}-${width}`);
    }
  }
  // Dark mode follows the system setting.
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.setViewportSize({ width: 1280, height: 800 });
  for (const path of ['/', '/jobs']) {
    await page.goto(`${server.url}${path}`);
    await page.getByRole('heading', { level: 1 }).first().waitFor();
    const background = await page.evaluate(() => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string }; document: { body: unknown } }).getComputedStyle((globalThis as unknown as { document: { body: unknown } }).document.body).backgroundColor);
    assert.notEqual(background, 'rgb(247, 247, 251)', 'the dark palette applies');
    await screenshot(page, `page${path === '/' ? '-overview' : path.replaceAll('/', '-')}-dark`);
  }
  assert.deepEqual(errors, []);
  await context.close();
});
