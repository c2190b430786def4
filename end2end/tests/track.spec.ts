import { expect, test } from '@playwright/test';
import { register, uniqueEmail, waitForHydration } from './helpers';

/// Eight seconds at 120 BPM, rendered here: a low tone under a click on every beat, louder on each bar's
/// first, so the analysis finds a tempo and the mixer has time to play.
function grooveWav(seconds = 8, bpm = 120, rate = 44_100): Buffer {
  const frames = seconds * rate;
  const wav = Buffer.alloc(44 + frames * 4);
  wav.write('RIFF', 0); wav.writeUInt32LE(36 + frames * 4, 4); wav.write('WAVEfmt ', 8);
  wav.writeUInt32LE(16, 16); wav.writeUInt16LE(1, 20); wav.writeUInt16LE(2, 22); wav.writeUInt32LE(rate, 24);
  wav.writeUInt32LE(rate * 4, 28); wav.writeUInt16LE(4, 32); wav.writeUInt16LE(16, 34);
  wav.write('data', 36); wav.writeUInt32LE(frames * 4, 40);
  const beat = (60 / bpm) * rate;
  for (let i = 0; i < frames; i++) {
    const sinceBeat = i % beat;
    const accent = Math.floor(i / beat) % 4 === 0 ? 0.6 : 0.35;
    const click = sinceBeat < 2000 ? accent * Math.exp(-sinceBeat / 300) * Math.sin((2 * Math.PI * 1000 * i) / rate) : 0;
    const tone = 0.15 * Math.sin((2 * Math.PI * 110 * i) / rate);
    const sample = Math.round(Math.max(-1, Math.min(1, click + tone)) * 32767);
    wav.writeInt16LE(sample, 44 + i * 4);
    wav.writeInt16LE(sample, 46 + i * 4);
  }
  return wav;
}

test('the track page shows the analysis and mixes the stems on one clock', async ({ page }) => {
  // Separation runs the real model on the CPU, one track at a time, and another test's may be first.
  test.setTimeout(240_000);
  await register(page, uniqueEmail('track'));
  await waitForHydration(page);
  await page.getByLabel('Add audio files').setInputFiles([
    { name: 'Groove Sketch.wav', mimeType: 'audio/wav', buffer: grooveWav() },
  ]);
  const row = page.getByRole('list', { name: 'Your tracks' }).getByRole('listitem').filter({ hasText: 'Groove Sketch' });
  await expect(row.locator('.track-separation')).toHaveText('Stems ready (4)', { timeout: 220_000 });
  // The page says so in a note too, which leads to the track.
  await expect(page.locator('.toast').filter({ hasText: 'Stems ready: “Groove Sketch”' })).toBeVisible();
  await expect(row.locator('.track-analysis')).toHaveText('Analysed');

  // The track page: the analysis as cards and charts, the waveform with its beat grid, and the mixer.
  const errors: string[] = [];
  page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
  page.on('pageerror', (error) => errors.push(error.message));
  await row.getByRole('link', { name: 'Groove Sketch' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Groove Sketch' })).toBeVisible();
  await waitForHydration(page);
  // The cards and charts say what the stored analysis says.
  const stored = await (await page.request.get(await page.getByRole('link', { name: 'The analysis (JSON)' }).getAttribute('href') ?? '')).json();
  const cards = page.getByRole('region', { name: 'Analysis' });
  await expect(cards.locator('.tempo-card .card-value')).toHaveText(stored.tempo ? `${stored.tempo.bpm.toFixed(1)} BPM` : '–');
  await expect(cards.locator('.key-card .card-value')).toHaveText(stored.key ? stored.key.name : '–');
  await expect(cards.locator('.loudness-card .card-value')).toHaveText(
    stored.loudness.integrated_lufs === null ? '–' : `${stored.loudness.integrated_lufs.toFixed(1)} LUFS`,
  );
  await expect(page.getByRole('img', { name: `Waveform with ${stored.beats.length} beats` })).toBeVisible();
  await expect(page.getByRole('img', { name: /^Energy curve/ })).toBeVisible();

  const mixer = page.getByRole('region', { name: 'Stem mixer' });
  await expect(mixer.locator('.strip')).toHaveCount(4);
  await mixer.getByRole('button', { name: 'Play' }).click();
  await expect(mixer).toHaveAttribute('data-status', 'ready', { timeout: 30_000 });
  await expect(mixer).toHaveAttribute('data-playing', 'true');
  // The position comes from the audio context's clock, which moves while the stems play.
  await expect.poll(async () => Number(await mixer.getAttribute('data-position'))).toBeGreaterThan(0.3);
  const strip = (stem: string) => mixer.locator(`.strip[data-stem="${stem}"]`);
  // Keys: 1 mutes the first stem; Shift+2 solos the second, which silences every other.
  await page.locator('body').press('1');
  await expect(strip('vocals')).toHaveAttribute('data-gain', '0.00');
  await expect(strip('drums')).toHaveAttribute('data-gain', '1.00');
  await page.locator('body').press('Shift+Digit2');
  await expect(mixer.getByRole('button', { name: 'Solo drums' })).toHaveAttribute('aria-pressed', 'true');
  for (const stem of ['vocals', 'bass', 'other']) await expect(strip(stem)).toHaveAttribute('data-gain', '0.00');
  await expect(strip('drums')).toHaveAttribute('data-gain', '1.00');
  await mixer.getByRole('button', { name: 'Solo drums' }).click();
  await expect(strip('bass')).toHaveAttribute('data-gain', '1.00');
  await expect(strip('vocals')).toHaveAttribute('data-gain', '0.00');
  // A click on the waveform seeks every stem together; Space pauses.
  await mixer.getByRole('button', { name: 'Pause' }).click();
  await expect(mixer).toHaveAttribute('data-playing', 'false');
  const waveform = page.getByRole('img', { name: /^Waveform/ });
  const box = await waveform.boundingBox();
  if (!box) throw new Error('the waveform has no box');
  await waveform.click({ position: { x: box.width / 2, y: box.height / 2 } });
  const duration = Number(await mixer.getAttribute('data-duration'));
  await expect.poll(async () => Number(await mixer.getAttribute('data-position'))).toBeCloseTo(duration / 2, 0);
  await page.locator('body').press('Space');
  await expect(mixer).toHaveAttribute('data-playing', 'true');
  await page.locator('body').press('Space');
  await expect(mixer).toHaveAttribute('data-playing', 'false');

  // The exports.
  const zip = await page.request.get(await page.getByRole('link', { name: 'Every stem (ZIP)' }).getAttribute('href') ?? '');
  expect(zip.status()).toBe(200);
  expect(zip.headers()['content-type']).toBe('application/zip');
  expect((await zip.body()).subarray(0, 4).toString('latin1')).toBe('PK\x03\x04');
  const json = await page.request.get(await page.getByRole('link', { name: 'The analysis (JSON)' }).getAttribute('href') ?? '');
  expect((await json.json()).version).toBe(2);
  // The minus-one form: every stem but the ticked ones, mixed on the server.
  const minusOne = page.locator('form.minus-one');
  await minusOne.getByLabel('vocals').check();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    minusOne.getByRole('link', { name: 'Download the mix (WAV)' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('Groove Sketch - without vocals.wav');
  expect(errors).toEqual([]);
  // `SFA_SCREENSHOTS=docs` keeps a picture of the page for the README.
  if (process.env.SFA_SCREENSHOTS) {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: `${process.env.SFA_SCREENSHOTS}/track-page.png`, fullPage: true });
  }
  await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'Library' }).click();
  await expect(row).toBeVisible();
  await expect(row.locator('.track-bpm')).toHaveText(stored.tempo ? stored.tempo.bpm.toFixed(1) : '–');
  if (stored.key) await expect(row.locator('.track-key .camelot')).toHaveText(stored.key.camelot);
  if (process.env.SFA_SCREENSHOTS) {
    await page.getByLabel('Select “Groove Sketch”').check();
    await page.screenshot({ path: `${process.env.SFA_SCREENSHOTS}/library.png`, fullPage: true });
  }

});
