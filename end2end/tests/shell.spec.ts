import { expect, test } from '@playwright/test';
import { register, uniqueEmail, waitForHydration } from './helpers';

test('the library is server-rendered, then hydrates and reacts to clicks', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });

  await register(page, uniqueEmail('shell'));
  const started = Date.now();
  const response = await page.goto('/');
  expect(response?.status()).toBe(200);
  await expect(page).toHaveTitle('Library · Sound Forge Alchemy');
  await expect(page.getByRole('heading', { level: 1, name: 'Library' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Your library is empty' })).toBeVisible();

  await waitForHydration(page);
  console.log(`hydrated ${Date.now() - started} ms after navigation started`);

  // Every rendering arrives whole: a value the page keeps for the browser once broke the stream at random
  // when the server dropped it on another thread.
  for (let i = 0; i < 12; i++) {
    const again = await page.request.get('/');
    expect(again.status()).toBe(200);
    expect(await again.text()).toContain('Your library is empty');
  }

  const toggle = page.getByRole('button', { name: 'How it works' });
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  await expect(page.locator('#how-it-works')).toBeHidden();
  await toggle.click();
  await expect(page.getByRole('button', { name: 'Hide how it works' })).toHaveAttribute('aria-expanded', 'true');
  await expect(page.locator('#how-it-works')).toBeVisible();
  await expect(page.locator('#how-it-works li')).toHaveCount(4);

  expect(errors).toEqual([]);
});

test('on a phone the navigation folds into a menu button', async ({ page }) => {
  await page.setViewportSize({ width: 375, height: 740 });
  await page.goto('/login');
  await waitForHydration(page);
  const nav = page.locator('#site-nav');
  const menu = page.getByRole('button', { name: 'Menu' });
  await expect(nav).toBeHidden();
  await menu.click();
  await expect(menu).toHaveAttribute('aria-expanded', 'true');
  await expect(nav.getByRole('link', { name: 'Log in' })).toBeVisible();
});

test('an unknown address answers 404 with a way back', async ({ page }) => {
  await register(page, uniqueEmail('404'));
  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Nothing here' })).toBeVisible();
  await waitForHydration(page);
  await page.getByRole('link', { name: 'Back to the library' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Library' })).toBeVisible();
});

test('the health endpoint reports the database and the queue', async ({ request }) => {
  const response = await request.get('/health');
  expect(response.status()).toBe(200);
  expect(await response.json()).toEqual({ status: 'ok', database: true, queue: true });
  expect(response.headers()['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
});
