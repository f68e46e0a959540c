/**
 * The account rules and the failed-login trail in a real browser against a real `jobplane start`:
 * a tenant admin sees the superadmin's controls off with the reason, a user changes their own
 * password (the current one required), and admins see failed logins under the audit log.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, logIn, nextFrame, screenshot, watchErrors } from '../helpers/browser.js';
import { testDatabase } from '../helpers/db.js';
import { startJobplaneProcess, type JobplaneProcess } from '../helpers/jobplane-process.js';

const ROOT_PASSWORD = 'root horse battery staple';
const PASSWORD = 'alice horse battery staple';
const db = await testDatabase();
let server: JobplaneProcess;
let browser: Browser;

async function call(method: string, path: string, token: string | null, body?: unknown): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

before(async () => {
  server = db.track(await startJobplaneProcess({ DATABASE_URL: db.url, JOBPLANE_ADMIN_PASSWORD: ROOT_PASSWORD }));
  browser = await launchBrowser();
  const root = ((await (await call('POST', '/api/v1/auth/login', null, { username: 'admin', password: ROOT_PASSWORD })).json()) as { accessToken: string }).accessToken;
  for (const [username, role] of [['alice', 'admin'], ['victor', 'viewer']] as const) {
    assert.equal((await call('POST', '/api/v1/users', root, { username, password: PASSWORD, role })).status, 201);
  }
});

after(async () => {
  await browser?.close();
});

test('a tenant admin sees the superadmin’s controls switched off with the reason, and cannot disable themselves', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await logIn(page, server.url, 'alice', PASSWORD);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
  const disableRoot = page.getByRole('button', { name: 'Disable user admin' });
  await disableRoot.waitFor();
  assert.equal(await disableRoot.isDisabled(), true);
  assert.match((await disableRoot.getAttribute('title')) ?? '', /more power than you/);
  assert.equal(await page.getByRole('button', { name: 'Delete user admin' }).isDisabled(), true);
  assert.equal(await page.getByLabel('Role of admin').isDisabled(), true);
  assert.equal(await page.getByRole('button', { name: 'Disable user alice' }).isDisabled(), true, 'not yourself');
  assert.equal(await page.getByRole('button', { name: 'Disable user victor' }).isDisabled(), false);
  assert.equal(await page.getByRole('button', { name: /superadmin/ }).count(), 0, 'only superadmins grant superadmin');
  await screenshot(page, 'users-ranks');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a user changes their own password on their account page: a wrong current one is refused, then every session ends', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await logIn(page, server.url, 'victor', PASSWORD);
  await page.getByTestId('who').getByRole('link', { name: 'victor' }).click();
  await page.getByRole('heading', { name: 'Your account', level: 1 }).waitFor();
  await page.getByLabel('Current password').fill('not my password at all');
  await page.getByLabel('New password', { exact: true }).fill('victor new password');
  await page.getByLabel('New password again').fill('victor new password');
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.getByText('The current password is wrong').first().waitFor();
  await page.getByLabel('Current password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.getByRole('heading', { name: 'Password changed' }).waitFor();
  await page.getByRole('button', { name: 'Log in again' }).click();
  await page.getByRole('button', { name: 'Log in' }).waitFor();
  assert.equal((await call('POST', '/api/v1/auth/login', null, { username: 'victor', password: PASSWORD })).status, 401);
  assert.equal((await call('POST', '/api/v1/auth/login', null, { username: 'victor', password: 'victor new password' })).status, 200);
  await context.close();
});

test('admins see failed logins under the audit log, and nothing of them in the audit chain', async () => {
  assert.equal((await call('POST', '/api/v1/auth/login', null, { username: 'victor', password: 'a wrong guess here' })).status, 401);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await logIn(page, server.url, 'alice', PASSWORD);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
  const panel = page.getByRole('table', { name: 'Failed logins' });
  // The trail is written within a second; refresh until the line is there.
  for (let i = 0; i < 50 && (await panel.getByRole('rowheader', { name: 'victor' }).count()) === 0; i += 1) {
    // Listen before clicking: the answer can land before a listener set up after the click.
    const answered = page.waitForResponse((r) => r.url().includes('/api/v1/security/login-failures'));
    await page.getByRole('region', { name: 'Failed logins' }).getByRole('button', { name: 'Refresh' }).click();
    await answered;
    await nextFrame(page);
  }
  assert.match((await panel.textContent()) ?? '', /victor.*wrong password/);
  assert.equal(await page.getByRole('table', { name: 'Audit log' }).getByText('auth.login_failed').count(), 0);
  await screenshot(page, 'failed-logins');
  await context.close();
});
