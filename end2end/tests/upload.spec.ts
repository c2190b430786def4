import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { register, uniqueEmail, waitForHydration } from './helpers';

const fixtures = path.resolve(__dirname, '../../audio/tests/data');

test('dropped files each get a line with their own result, and a file that is not audio says what it is', async ({ page }) => {
  await register(page, uniqueEmail('drop'));
  await waitForHydration(page);
  // The script sends files as they are picked or dropped: the plain form's button has gone.
  await expect(page.getByRole('button', { name: 'Upload' })).toBeHidden();

  const wav = [...readFileSync(path.join(fixtures, 'wav-s16-stereo-44100.wav'))];
  const dropped = await page.evaluateHandle((wav) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File(['Intro at 0:32, drop at 1:05\n'], 'notes.txt', { type: 'text/plain' }));
    transfer.items.add(new File([new Uint8Array(wav)], 'take one.wav', { type: 'audio/wav' }));
    return transfer;
  }, wav);
  const box = page.locator('form.upload-box');
  await box.dispatchEvent('dragover', { dataTransfer: dropped });
  await expect(box).toHaveClass(/dragging/);
  await box.dispatchEvent('drop', { dataTransfer: dropped });
  await expect(box).not.toHaveClass(/dragging/);

  const uploads = page.getByRole('list', { name: 'Uploads' });
  const notes = uploads.locator('[data-file="notes.txt"]');
  await expect(notes).toContainText('notes.txt: this is plain text, not audio');
  await expect(notes).toHaveClass(/failed/);
  await expect(uploads.locator('[data-file="take one.wav"]')).toContainText('Added “take one”');

  // Only the audio became a track; it goes again so the separation worker is free for the other tests.
  const tracks = page.getByRole('list', { name: 'Your tracks' });
  await expect(tracks.getByRole('listitem')).toHaveCount(1);
  const row = tracks.getByRole('listitem').filter({ hasText: 'take one' });
  await row.getByRole('button', { name: 'Delete' }).click();
  await row.getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByRole('heading', { name: 'Your library is empty' })).toBeVisible();
});

test('the library searches, filters and sorts as you type', async ({ page }) => {
  await register(page, uniqueEmail('find'));
  await waitForHydration(page);
  const wav = readFileSync(path.join(fixtures, 'wav-s16-stereo-44100.wav'));
  await page.getByLabel('Add audio files').setInputFiles(
    ['Moonlight Drive.wav', 'acid rain.wav', 'Blue Moon.wav'].map((name) => ({ name, mimeType: 'audio/wav', buffer: wav })),
  );
  const tracks = page.getByRole('list', { name: 'Your tracks' });
  await expect(tracks.getByRole('listitem')).toHaveCount(3);
  // Only the rows matter here: their separations would take the CPU from the other tests.
  for (const title of ['Moonlight Drive', 'acid rain', 'Blue Moon']) {
    const cancel = tracks.getByRole('listitem').filter({ hasText: title }).getByRole('button', { name: 'Cancel' });
    // A job that already finished has nothing to cancel.
    if (await cancel.isVisible()) await cancel.click();
  }
  const titles = tracks.locator('.track-title');
  await expect(titles).toHaveText(['Blue Moon', 'acid rain', 'Moonlight Drive']);

  const search = page.getByRole('searchbox', { name: 'Search your tracks' });
  await search.fill('moon');
  await expect(titles).toHaveText(['Blue Moon', 'Moonlight Drive']);
  await expect(page.locator('.library-count')).toHaveText('2 of 3 tracks');
  await search.fill('moon drive');
  await expect(titles).toHaveText(['Moonlight Drive']);
  await search.fill('kraftwerk');
  await expect(page.locator('.library-count')).toHaveText('No tracks match.');
  await page.getByRole('button', { name: 'Clear' }).click();
  await expect(titles).toHaveCount(3);

  await page.getByRole('combobox', { name: 'Sort by' }).selectOption('title');
  await expect(titles).toHaveText(['acid rain', 'Blue Moon', 'Moonlight Drive']);
  await page.getByRole('combobox', { name: 'Sort by' }).selectOption('oldest');
  await expect(titles).toHaveText(['Moonlight Drive', 'acid rain', 'Blue Moon']);
  await page.getByRole('combobox', { name: 'Show' }).selectOption('no-audio');
  await expect(page.locator('.library-count')).toHaveText('No tracks match.');
});
