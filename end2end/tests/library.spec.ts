import { expect, test } from '@playwright/test';
import path from 'node:path';
import { register, uniqueEmail, waitForHydration } from './helpers';

const fixtures = path.resolve(__dirname, '../../audio/tests/data');

test('an uploaded song appears with its title, artist and cover from the tags, then its analysis and stems', async ({ page }) => {
  // Separation runs the real model on the CPU, one track at a time.
  test.setTimeout(180_000);
  await register(page, uniqueEmail('upload'));
  await waitForHydration(page);
  await expect(page.getByRole('heading', { name: 'Your library is empty' })).toBeVisible();

  // Once the page is scripted, picking files sends them, one by one, each with its own line.
  await page.getByLabel('Add audio files').setInputFiles([
    path.join(fixtures, 'mp3-cbr-id3-cover-stereo-44100.mp3'),
    path.join(fixtures, 'flac-s16-stereo-44100.flac'),
  ]);
  const uploads = page.getByRole('list', { name: 'Uploads' });
  await expect(uploads.locator('[data-file="mp3-cbr-id3-cover-stereo-44100.mp3"]')).toContainText('Added “Tone Study”');
  await expect(uploads.locator('[data-file="flac-s16-stereo-44100.flac"]')).toContainText('Added “flac-s16-stereo-44100”');

  const tracks = page.getByRole('list', { name: 'Your tracks' });
  const tagged = tracks.getByRole('listitem').filter({ hasText: 'Tone Study' });
  await expect(tagged).toContainText('Test Artist · Fixtures');
  await expect(tagged.locator('img.track-art')).toHaveAttribute('src', /\/tracks\/[0-9a-f-]{36}\/art$/);
  // Without a title tag, the file name is the title.
  await expect(tracks.getByRole('listitem').filter({ hasText: 'flac-s16-stereo-44100' })).toBeVisible();
  // The analysis and the separation run in the background; the page follows them without a reload.
  await expect(tagged.locator('.track-analysis')).toHaveText('Analysed', { timeout: 30_000 });
  const art = await page.request.get(await tagged.locator('img.track-art').getAttribute('src') ?? '');
  expect(art.status()).toBe(200);
  expect(art.headers()['content-type']).toBe('image/png');

  await expect(tagged.locator('.track-separation')).toHaveText('Stems ready (4)', { timeout: 150_000 });
  const stems = tagged.getByRole('list', { name: 'Stems' });
  await expect(stems.getByRole('listitem')).toHaveCount(4);
  await expect(stems.getByRole('listitem').first()).toContainText('vocals');
  const vocals = await page.request.get(await stems.getByRole('link', { name: 'Download' }).first().getAttribute('href') ?? '');
  expect(vocals.status()).toBe(200);
  expect(vocals.headers()['content-disposition']).toBe('attachment; filename="vocals.wav"');

  // Deleting asks first, then the row goes.
  await tagged.getByRole('button', { name: 'Delete' }).click();
  await expect(tagged).toContainText('Delete “Tone Study” and its stems?');
  await tagged.getByRole('button', { name: 'Delete' }).click();
  await expect(tracks.getByRole('listitem').filter({ hasText: 'Tone Study' })).toHaveCount(0);
});
