import { expect, test } from '@playwright/test';
import { PASSWORD, mailedLink, register, uniqueEmail, waitForHydration } from './helpers';

test('register, log out, log in, forget the password, reset it from the mailed link, log in again', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  const email = uniqueEmail('flow');
  const newPassword = 'copper lantern meadow';

  await register(page, email);
  const header = page.locator('.site-header');
  await expect(header.getByRole('link', { name: email })).toBeVisible();

  await header.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(header.getByRole('link', { name: 'Log in' })).toBeVisible();

  // A page that needs a session sends us to log in, and back there afterwards.
  await page.goto('/account');
  await expect(page).toHaveURL(/\/login\?next=%2Faccount$/);
  await waitForHydration(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert')).toHaveText('That email and password do not match an account.');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Account' })).toBeVisible();
  await expect(page.locator('.account-email')).toHaveText(email);
  await header.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);

  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await expect(page.getByRole('heading', { name: 'Forgot your password?' })).toBeVisible();
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Send me a link' }).click();
  await expect(page.getByRole('status')).toContainText('a link to choose a new password is on its way');

  await expect.poll(() => { try { return mailedLink(email, '/reset-password'); } catch { return ''; } })
    .toContain('/reset-password?token=');
  await page.goto(mailedLink(email, '/reset-password'));
  await waitForHydration(page);
  await page.getByLabel('New password', { exact: true }).fill(newPassword);
  await page.getByRole('button', { name: 'Set password' }).click();
  await expect(page).toHaveURL(/\/login\?reset=done$/);
  await expect(page.getByRole('status')).toContainText('Your password has changed');

  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert')).toHaveText('That email and password do not match an account.');
  await page.getByLabel('Password').fill(newPassword);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Library' })).toBeVisible();
  await expect(header.getByRole('link', { name: email })).toBeVisible();

  expect(errors).toEqual([]);
});

test('a weak password is refused on the page with the reason', async ({ page }) => {
  await page.goto('/register');
  await waitForHydration(page);
  await page.getByLabel('Email').fill(uniqueEmail('weak'));
  await page.getByLabel('Password').fill('password1234');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('alert')).toContainText('too easy to guess');
  await expect(page).toHaveURL(/\/register$/);
});
