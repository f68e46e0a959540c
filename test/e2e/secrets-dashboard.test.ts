/**
 * The dashboard's Secrets page in a real browser (Debian Chromium through playwright-core) against
 * a real `jobplane start` process: an admin sets, replaces and deletes a secret, and the value is
 * never in the page; a manager sees the list read-only.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, logIn, screenshot, watchErrors } from '../helpers/browser.js';
import { testDatabase } from '../helpers/db.js';
import { startJobplaneProcess, type JobplaneProcess } from '../helpers/jobplane-process.js';

const PASSWORD = 'correct horse battery staple';
const MANAGER_PASSWORD = 'manager horse battery staple';
const VALUE = `dash-secret-${randomBytes(8).toString('hex')}`;
const db = await testDatabase();
let server: JobplaneProcess;
let browser: Browser;
let adminToken: string;

before(async () => {
  server = db.track(await startJobplaneProcess({ DATABASE_URL: db.url, JOBPLANE_ADMIN_PASSWORD: PASSWORD, JOBPLANE_SECRETS_KEYS: `k1:${randomBytes(32).toString('base64')}` }));
  browser = await launchBrowser();
  const login = await fetch(`${server.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: PASSWORD }) });
  adminToken = ((await login.json()) as { accessToken: string }).accessToken;
  const created = await fetch(`${server.url}/api/v1/users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'dash-manager', password: MANAGER_PASSWORD, role: 'manager' }),
  });
  assert.equal(created.status, 201);
});

after(async () => {
  await browser?.close();
});

/** Everything the page holds: its HTML, every input's live value, and the text of the document. */
async function pageText(page: Page): Promise<string> {
  const values = await page.evaluate(() => {
    const doc = (globalThis as unknown as { document: { querySelectorAll(selector: string): ArrayLike<{ value: string }> } }).document;
    return Array.from(doc.querySelectorAll('input, textarea'), (el) => el.value).join('\n');
  });
  return `${await page.content()}\n${values}`;
}

test('an admin sets a secret, sees it listed without its value, replaces it and deletes it after confirming', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = watchErrors(page);
  const answers: string[] = [];
  page.on('response', (response) => {
    if (response.url().includes('/api/v1/secrets')) answers.push(response.url());
  });
  await logIn(page, server.url, 'admin', PASSWORD);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Secrets' }).click();
  await page.getByRole('heading', { name: 'Secrets', level: 1 }).waitFor();
  await page.getByText('No secrets yet.').waitFor();

  await page.getByRole('button', { name: 'Add secret' }).click();
  await page.getByLabel('Name', { exact: true }).fill('payment-api-key');
  const value = page.getByLabel('Value', { exact: true });
  assert.equal(await value.getAttribute('type'), 'password');
  await value.fill(VALUE);
  await page.getByLabel('Description (optional)').fill('Key of the payment provider');
  await page.getByRole('button', { name: 'Save secret' }).click();
  await page.getByRole('status').filter({ hasText: 'Created secret payment-api-key.' }).waitFor();
  const row = page.locator('tr[data-secret-name="payment-api-key"]');
  await row.waitFor();
  assert.match((await row.textContent()) ?? '', /Key of the payment provider.*set.*you/);
  assert.ok(!(await pageText(page)).includes(VALUE), 'the value is not in the page after saving');
  await screenshot(page, 'secrets-listed');

  await page.reload();
  await row.waitFor();
  assert.ok(!(await pageText(page)).includes(VALUE), 'nor after a reload');

  await page.getByRole('button', { name: 'Replace the value of payment-api-key' }).click();
  assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'payment-api-key');
  assert.equal(await page.getByLabel('Value', { exact: true }).inputValue(), '', 'the old value is never filled in');
  await page.getByLabel('Value', { exact: true }).fill(`${VALUE}-2`);
  await page.getByRole('button', { name: 'Replace value' }).click();
  await page.getByRole('status').filter({ hasText: 'Replaced the value of secret payment-api-key.' }).waitFor();
  assert.ok(!(await pageText(page)).includes(VALUE));

  await page.getByRole('button', { name: 'Delete secret payment-api-key' }).click();
  const dialog = page.getByRole('dialog', { name: 'Delete secret payment-api-key?' });
  await dialog.waitFor();
  await dialog.getByRole('button', { name: 'Delete secret' }).click();
  await page.getByRole('status').filter({ hasText: 'Deleted secret payment-api-key.' }).waitFor();
  await row.waitFor({ state: 'detached' });
  await page.getByText('No secrets yet.').waitFor();
  assert.ok(answers.length >= 4, `secrets calls: ${answers.join(', ')}`);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a manager sees the secrets read-only: no add, replace or delete buttons', async () => {
  const set = await fetch(`${server.url}/api/v1/secrets/readonly-one`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ value: VALUE, description: 'set by the admin' }),
  });
  assert.equal(set.status, 201);

  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  await logIn(page, server.url, 'dash-manager', MANAGER_PASSWORD);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Secrets' }).click();
  await page.locator('tr[data-secret-name="readonly-one"]').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Add secret' }).count(), 0);
  assert.equal(await page.getByRole('button', { name: /Replace the value|Delete secret/ }).count(), 0);
  assert.match(await page.locator('main').innerText(), /only administrators can set or delete them/);
  assert.ok(!(await pageText(page)).includes(VALUE));
  assert.deepEqual(errors, []);
  await context.close();
});
