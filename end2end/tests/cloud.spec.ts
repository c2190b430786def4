import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { register, uniqueEmail, waitForHydration } from './helpers';

const wav = readFileSync(path.resolve(__dirname, '../../audio/tests/data/wav-s16-stereo-44100.wav'));
const LICENSE = 'lalal-e2e-license-E2E9';

/// A stand-in for lalal.ai's API on the port the server was told (scripts/test): it takes one key, holds the
/// uploads, answers a split's first check with progress and the next with its files, each the upload itself.
async function fakeLalalai(seen: { uploads: number; splits: unknown[]; deleted: string[] }): Promise<() => void> {
  const sources = new Map<string, Buffer>();
  const tasks = new Map<string, { source: string; labels: string[]; checks: number }>();
  const port = Number(process.env.LALALAI_PORT);
  const base = `http://127.0.0.1:${port}`;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const json = (status: number, value: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(value));
      };
      const file = request.url?.match(/^\/files\/([^/]+)\/([^/]+)$/);
      if (file) {
        const task = tasks.get(file[1]);
        const audio = task && sources.get(task.source);
        if (!audio) return json(404, { detail: 'Not found' });
        response.writeHead(200, { 'content-type': 'audio/wav' });
        return response.end(audio);
      }
      if (request.headers['x-license-key'] !== LICENSE) return json(401, { detail: 'Invalid license key' });
      const input = request.headers['content-type']?.includes('json') ? JSON.parse(body.toString() || '{}') : {};
      switch (request.url) {
        case '/api/v1/limits/minutes_left/':
          return json(200, { minutes_left: 42 });
        case '/api/v1/upload/': {
          seen.uploads += 1;
          const id = `source-${seen.uploads}`;
          sources.set(id, body);
          return json(200, { id, name: 'track.wav', size: body.length, duration: 1, expires: 1900000000 });
        }
        case '/api/v1/split/multistem/':
        case '/api/v1/split/stem_separator/': {
          seen.splits.push(input);
          const stems: string[] = input.presets.stem_list ?? [input.presets.stem];
          const id = `00000000-0000-4000-8000-00000000000${seen.splits.length}`;
          tasks.set(id, { source: input.source_id, labels: stems, checks: 0 });
          return json(200, { task_id: id });
        }
        case '/api/v1/check/': {
          const result: Record<string, unknown> = {};
          for (const id of input.task_ids as string[]) {
            const task = tasks.get(id)!;
            task.checks += 1;
            result[id] = task.checks < 2
              ? { status: 'progress', progress: 50, source_id: task.source, presets: {} }
              : {
                  status: 'success', source_id: task.source, presets: {},
                  result: {
                    duration: 1,
                    tracks: [
                      ...task.labels.map((label) => ({ type: 'stem', label, url: `${base}/files/${id}/${label}` })),
                      { type: 'back', label: 'no_multistem', url: `${base}/files/${id}/back` },
                    ],
                  },
                };
          }
          return json(200, { result });
        }
        case '/api/v1/delete/':
          seen.deleted.push(input.source_id);
          sources.delete(input.source_id);
          return json(200, {});
        default:
          return json(404, { detail: 'Not Found' });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return () => server.close();
}

test('a user keeps a lalal.ai key, chooses its stems, and a new track is separated there', async ({ page }) => {
  test.skip(!process.env.LALALAI_PORT, 'scripts/test gives the server a port for the lalal.ai stand-in');
  // The split waits its turn on the processing queue, which other tests' local separations may hold.
  test.setTimeout(300_000);
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => { if (msg.type() === 'error' && !msg.text().includes('status of 400')) errors.push(msg.text()); });
  const seen = { uploads: 0, splits: [] as unknown[], deleted: [] as string[] };
  const close = await fakeLalalai(seen);
  try {
    await register(page, uniqueEmail('cloud'));
    await page.goto('/settings');
    await waitForHydration(page);
    const panel = page.getByRole('region', { name: 'lalal.ai' });
    await expect(panel).toContainText('No key yet.');
    await panel.getByLabel('License key').fill('not-my-key');
    await panel.getByRole('button', { name: 'Save key' }).click();
    await expect(panel.getByRole('alert')).toContainText('lalal.ai refused the license key');
    await expect(panel).toContainText('No key yet.');
    await panel.getByLabel('License key').fill(LICENSE);
    await panel.getByRole('button', { name: 'Save key' }).click();
    await expect(panel.getByRole('status')).toHaveText('The key works: 42.0 minutes left.');
    await expect(panel).toContainText('Your key: ••••E2E9');
    await expect(page.locator('body')).not.toContainText(LICENSE);

    await page.getByLabel('lalal.ai: your license', { exact: false }).check();
    await page.getByLabel('Bass', { exact: true }).uncheck();
    await page.getByLabel('Piano', { exact: true }).check();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect(page.getByText('Saved. New imports follow these settings.')).toBeVisible();
    await page.reload();
    await waitForHydration(page);
    await expect(page.getByLabel('lalal.ai: your license', { exact: false })).toBeChecked();
    await expect(page.getByLabel('Bass', { exact: true })).not.toBeChecked();
    await expect(page.getByLabel('Piano', { exact: true })).toBeChecked();
    await expect(page.getByLabel('Vocals', { exact: true })).toBeChecked();

    await page.getByRole('link', { name: 'Library', exact: true }).click();
    await waitForHydration(page);
    await page.getByLabel('Add audio files').setInputFiles([{ name: 'Cloud Loop.wav', mimeType: 'audio/wav', buffer: wav }]);
    const row = page.getByRole('list', { name: 'Your tracks' }).getByRole('listitem').filter({ hasText: 'Cloud Loop' });
    await expect(row.locator('.track-separation')).toHaveText('Stems ready at lalal.ai (4)', { timeout: 280_000 });
    expect(seen.uploads).toBe(1);
    expect(seen.splits).toEqual([expect.objectContaining({ presets: expect.objectContaining({ stem_list: ['vocals', 'drum', 'piano'] }) })]);
    expect(seen.deleted).toEqual(['source-1']);

    await row.getByRole('link', { name: 'Cloud Loop' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Cloud Loop' })).toBeVisible();
    for (const stem of ['vocals', 'drums', 'other', 'piano']) {
      await expect(page.locator(`[data-stem="${stem}"]`).first()).toBeVisible();
    }
    expect(errors).toEqual([]);
  } finally {
    close();
  }
});
