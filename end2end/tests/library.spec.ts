import { expect, test } from '@playwright/test';
import path from 'node:path';
import { register, uniqueEmail, waitForHydration } from './helpers';

const fixtures = path.resolve(__dirname, '../../audio/tests/data');

test('an uploaded song appears with its title, artist and cover from the tags, then its analysis', async ({ page }) => {
  await register(page, uniqueEmail('upload'));
  await waitForHydration(page);
  await expect(page.getByRole('heading', { name: 'Your library is empty' })).toBeVisible();

  await page.getByLabel('Add audio files').setInputFiles([
    path.join(fixtures, 'mp3-cbr-id3-cover-stereo-44100.mp3'),
    path.join(fixtures, 'flac-s16-stereo-44100.flac'),
  ]);
  await page.getByRole('button', { name: 'Upload' }).click();

  const tracks = page.getByRole('list', { name: 'Your tracks' });
  const tagged = tracks.getByRole('listitem').filter({ hasText: 'Tone Study' });
  await expect(tagged).toContainText('Test Artist · Fixtures');
  await expect(tagged.locator('img.track-art')).toHaveAttribute('src', /\/tracks\/[0-9a-f-]{36}\/art$/);
  // Without a title tag, the file name is the title.
  await expect(tracks.getByRole('listitem').filter({ hasText: 'flac-s16-stereo-44100' })).toBeVisible();
  // The analysis runs in the background; the page follows it without a reload.
  await expect(tagged.getByRole('status')).toHaveText('Analysed', { timeout: 20_000 });
  const art = await page.request.get(await tagged.locator('img.track-art').getAttribute('src') ?? '');
  expect(art.status()).toBe(200);
  expect(art.headers()['content-type']).toBe('image/png');
});
