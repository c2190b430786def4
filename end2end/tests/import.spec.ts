import { expect, test } from '@playwright/test';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { register, uniqueEmail, waitForHydration } from './helpers';

const fixture = readFileSync(path.resolve(__dirname, '../../audio/tests/data/flac-s16-stereo-44100.flac'));

// A file host on this machine, which the test server may reach (scripts/test allows private addresses).
let host: Server;
let base: string;

test.beforeAll(async () => {
  host = createServer((request, response) => {
    if (request.url === '/files/Field%20Recording.flac') {
      response.writeHead(200, { 'content-type': 'audio/flac', 'content-length': fixture.length });
      response.end(fixture);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;
});

test.afterAll(() => new Promise<void>((resolve) => host.close(() => resolve())));

test('an audio link is downloaded, then analysed, without a reload', async ({ page }) => {
  await register(page, uniqueEmail('link'));
  await waitForHydration(page);
  const box = page.getByLabel('Import a link');
  await box.fill(`${base}/files/Field%20Recording.flac`);
  await box.press('Enter');
  await expect(page.locator('.import-result')).toHaveText('“Field Recording”: 1 added.');

  const row = page.getByRole('list', { name: 'Your tracks' }).getByRole('listitem').filter({ hasText: 'Field Recording' });
  await expect(row.locator('.track-analysis')).toHaveText('Analysed', { timeout: 30_000 });
  // The download's line goes once the audio is in; the track plays from the server.
  await expect(row.locator('.track-download')).toHaveCount(0);
  await expect(row.locator('.track-key')).not.toHaveText('–');
  // Free the one separation worker for the other tests.
  await row.getByRole('button', { name: 'Delete' }).click();
  await row.getByRole('button', { name: 'Delete' }).click();
  await expect(row).toHaveCount(0);
});

test('a broken link says what went wrong on its track, and unsupported links say so at once', async ({ page }) => {
  await register(page, uniqueEmail('badlink'));
  await waitForHydration(page);
  const box = page.getByLabel('Import a link');
  await box.fill(`${base}/files/gone.mp3`);
  await page.getByRole('button', { name: 'Import' }).click();
  const row = page.getByRole('list', { name: 'Your tracks' }).getByRole('listitem').filter({ hasText: 'gone' });
  await expect(row.locator('.track-download')).toContainText('Download failed: 127.0.0.1 answered 404 Not Found', {
    timeout: 15_000,
  });
  await expect(row.getByRole('button', { name: 'Retry' })).toBeVisible();
  await expect(row.getByLabel('Attach audio')).toBeVisible();

  await box.fill('https://open.spotify.com/artist/4uLU6hMCjMI75M1A2tKUQC');
  await page.getByRole('button', { name: 'Import' }).click();
  await expect(page.getByRole('alert')).toContainText('is for an artist');
  await box.fill('https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC?si=abc');
  await page.getByRole('button', { name: 'Import' }).click();
  await expect(page.getByRole('alert')).toContainText('Spotify import is not configured on this server');
});
