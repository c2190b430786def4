import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PASSWORD, register, setRole, uniqueEmail, waitForHydration } from './helpers';

const wav = readFileSync(path.resolve(__dirname, '../../audio/tests/data/wav-s16-stereo-44100.wav'));

function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
  return errors;
}

async function upload(page: Page, names: string[]) {
  await page.getByLabel('Add audio files').setInputFiles(names.map((name) => ({ name, mimeType: 'audio/wav', buffer: wav })));
  await expect(page.getByRole('list', { name: 'Your tracks' }).getByRole('listitem')).toHaveCount(names.length);
}

test('settings decide what runs on import, and a track left unseparated can be separated later', async ({ page }) => {
  const errors = watchErrors(page);
  await register(page, uniqueEmail('settings'));
  await page.getByRole('link', { name: 'Settings', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Settings' })).toBeVisible();
  await waitForHydration(page);
  await expect(page.getByLabel('Model', { exact: true })).toHaveValue('');
  await expect(page.getByLabel('Model', { exact: true }).locator('option').first()).toContainText('Server default: htdemucs (drums, bass, other, vocals)');
  await expect(page.getByLabel('Stem format')).toHaveValue('wav24');
  await page.getByLabel('Stem format').selectOption('wav16');
  await page.getByLabel('Separate new tracks into stems').uncheck();
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByText('Saved. New imports follow these settings.')).toBeVisible();

  await page.reload();
  await waitForHydration(page);
  await expect(page.getByLabel('Stem format')).toHaveValue('wav16');
  await expect(page.getByLabel('Separate new tracks into stems')).not.toBeChecked();
  await expect(page.getByLabel('Analyse new tracks (tempo, beats, key, loudness, spectrum)')).toBeChecked();

  await page.getByRole('link', { name: 'Library', exact: true }).click();
  await waitForHydration(page);
  await upload(page, ['Left Whole.wav']);
  const row = page.getByRole('listitem').filter({ hasText: 'Left Whole' });
  // Analysed only.
  await expect(row.locator('.track-analysis')).toHaveText('Analysed', { timeout: 20_000 });
  await expect(row.locator('.track-separation')).toHaveCount(0);
  await row.getByRole('button', { name: 'Separate' }).click();
  await expect(row.locator('.track-separation')).toContainText(/Separation waiting to start|Separating stems/);
  // The model's work is not what this test is about: leave the CPU to the others.
  await row.getByRole('button', { name: 'Cancel' }).click();
  await expect(row.locator('.track-separation')).toHaveText('Separation cancelled');
  expect(errors).toEqual([]);
});

test('several tracks are chosen and deleted together, after a question', async ({ page }) => {
  const errors = watchErrors(page);
  await register(page, uniqueEmail('batch'));
  await waitForHydration(page);
  await upload(page, ['Keep Me.wav', 'Drop One.wav', 'Drop Two.wav']);
  const tracks = page.getByRole('list', { name: 'Your tracks' });
  for (const title of ['Keep Me', 'Drop One', 'Drop Two']) {
    const cancel = tracks.getByRole('listitem').filter({ hasText: title }).getByRole('button', { name: 'Cancel' });
    if (await cancel.isVisible()) await cancel.click();
  }

  await page.getByLabel('Select “Drop One”').check();
  await page.getByLabel('Select “Drop Two”').check();
  const bar = page.getByRole('group', { name: 'Selected tracks' });
  await expect(bar.locator('.batch-count')).toHaveText('2 selected');
  await bar.getByRole('button', { name: 'Delete…' }).click();
  await expect(bar).toContainText('Delete these 2 tracks and their stems?');
  await bar.getByRole('button', { name: 'Keep' }).click();
  await expect(tracks.getByRole('listitem')).toHaveCount(3);
  await bar.getByRole('button', { name: 'Delete…' }).click();
  await bar.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(bar.locator('.batch-result')).toContainText('Deleted 2 tracks.');
  await expect(tracks.getByRole('listitem')).toHaveCount(1);
  await expect(tracks.getByRole('listitem')).toContainText('Keep Me');

  await page.getByLabel('Select all shown').check();
  await expect(bar.locator('.batch-count')).toHaveText('1 selected');
  await bar.getByRole('button', { name: 'Analyse' }).click();
  // Its analysis finished or was cancelled, so a new one is queued; the answer names what happened.
  await expect(bar.locator('.batch-result')).toContainText(/Queued 1 analysis\.|being analysed already/);
  expect(errors).toEqual([]);
});

test('an admin sees every account and job, switches an account off and on, and reads a library', async ({ browser }) => {
  const adminEmail = uniqueEmail('admin');
  const userEmail = uniqueEmail('member');
  const admin = await (await browser.newContext()).newPage();
  const errors = watchErrors(admin);
  await register(admin, adminEmail);
  setRole(adminEmail, 'platform_admin');
  const member = await (await browser.newContext()).newPage();
  await register(member, userEmail);
  await waitForHydration(member);
  await upload(member, ['Member Song.wav']);
  const cancel = member.getByRole('button', { name: 'Cancel' });
  if (await cancel.isVisible()) await cancel.click();

  await admin.goto('/');
  await admin.getByRole('link', { name: 'Admin', exact: true }).click();
  await expect(admin.getByRole('heading', { level: 1, name: 'Admin' })).toBeVisible();
  await waitForHydration(admin);
  await expect(admin.locator('.admin-storage')).toContainText('on disk in all');
  const line = admin.locator(`tr[data-email="${userEmail}"]`);
  await expect(line.locator('td').nth(2)).toHaveText('1');
  await expect(admin.locator(`tr[data-email="${adminEmail}"]`)).toContainText('you');
  await expect(admin.locator('.jobs-table')).toContainText('Member Song');

  await line.getByRole('button', { name: `Disable ${userEmail}` }).click();
  await expect(line.getByRole('button', { name: `Enable ${userEmail}` })).toBeVisible();
  await member.goto('/');
  await expect(member).toHaveURL(/\/login/);
  await waitForHydration(member);
  await member.getByLabel('Email').fill(userEmail);
  await member.getByLabel('Password').fill(PASSWORD);
  await member.getByRole('button', { name: 'Log in' }).click();
  await expect(member.getByText('This account is switched off')).toBeVisible();

  await line.getByRole('button', { name: `Enable ${userEmail}` }).click();
  await expect(line.getByRole('button', { name: `Disable ${userEmail}` })).toBeVisible();
  await member.getByRole('button', { name: 'Log in' }).click();
  await expect(member.getByRole('heading', { level: 1, name: 'Library' })).toBeVisible();

  await line.getByRole('link', { name: userEmail }).click();
  await expect(admin.getByRole('heading', { level: 1, name: `Library of ${userEmail}` })).toBeVisible();
  await expect(admin.getByRole('list', { name: 'Their tracks' })).toContainText('Member Song');
  await expect(admin.getByRole('list', { name: 'Their tracks' }).getByRole('button')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('the admin pages are not there for an ordinary user', async ({ page }) => {
  const email = uniqueEmail('plain');
  await register(page, email);
  // The first account on a server is its admin, and this may be the first.
  setRole(email, 'user');
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1, name: 'Library' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Admin', exact: true })).toHaveCount(0);
  await page.goto('/admin');
  await expect(page.getByRole('alert')).toHaveText('Not found.');
});
