import { expect, test } from '@playwright/test';
import { register, uniqueEmail, waitForHydration } from './helpers';

const KEY = 'sk-ant-api03-Playwright-Secret-0123456789-WXYZ';

test('LLM providers are added, reordered, switched and deleted, and a key never comes back', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
  const answers: string[] = [];
  page.on('response', async (response) => {
    if (response.request().resourceType() !== 'eventsource') answers.push(await response.text().catch(() => ''));
  });
  await register(page, uniqueEmail('providers'));
  await page.goto('/settings');
  await waitForHydration(page);
  const panel = page.getByRole('region', { name: 'LLM providers' });
  await expect(panel).toContainText('No providers yet');

  const add = async (kind: string, name: string, key: string, url = '') => {
    const form = panel.locator('.add-provider');
    await form.getByLabel('Type').selectOption(kind);
    await form.getByLabel('Name').fill(name);
    await form.getByLabel('API key').fill(key);
    await form.getByLabel('Base URL').fill(url);
    await form.getByRole('button', { name: 'Add provider' }).click();
    await expect(panel.getByRole('list', { name: 'Your providers' }).getByText(name, { exact: true })).toBeVisible();
  };
  await add('anthropic', 'Claude', KEY);
  // Nothing listens on port 9 here, so its check has a certain answer.
  await add('ollama', 'Local Llama', '', 'http://127.0.0.1:9');
  const rows = panel.getByRole('list', { name: 'Your providers' }).getByRole('listitem');
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toContainText('Anthropic · ••••WXYZ');
  await expect(rows.nth(0)).toContainText('not checked yet');

  const llama = rows.filter({ hasText: 'Local Llama' });
  await llama.getByRole('button', { name: 'Test now' }).click();
  await expect(llama.locator('.provider-health')).toHaveText('unreachable: could not connect: check the base URL');

  await page.getByRole('button', { name: 'Move Local Llama up' }).click();
  await expect(rows.nth(0)).toContainText('Local Llama');
  await expect(page.getByRole('button', { name: 'Move Local Llama up' })).toBeDisabled();

  const claude = rows.filter({ hasText: 'Claude' });
  await claude.getByRole('button', { name: 'Turn off' }).click();
  await expect(claude.getByRole('button', { name: 'Turn on' })).toBeVisible();
  await expect(claude).toContainText('off');
  await expect(claude).toContainText('••••WXYZ');

  await claude.getByRole('button', { name: 'Delete' }).click();
  await claude.getByRole('button', { name: 'Delete' }).click();
  await expect(rows).toHaveCount(1);

  await page.reload();
  await waitForHydration(page);
  expect(await page.content()).not.toContain(KEY.slice(8, 30));
  for (const body of answers) expect(body).not.toContain(KEY.slice(8, 30));
  expect(errors).toEqual([]);
});
