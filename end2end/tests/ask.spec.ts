import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { register, uniqueEmail, waitForHydration } from './helpers';

const wav = readFileSync(path.resolve(__dirname, '../../audio/tests/data/wav-s16-stereo-44100.wav'));

/// A stand-in for an OpenAI-compatible server: it streams its answer for one key and refuses others.
async function fakeOpenAi(questions: string[]): Promise<{ base: string; close: () => void }> {
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => { body += chunk; });
    request.on('end', () => {
      if (request.url !== '/v1/chat/completions' || request.headers.authorization !== 'Bearer sk-fake-good-7f3a') {
        response.writeHead(401, { 'content-type': 'application/json' });
        response.end('{"error": {"message": "Incorrect API key"}}');
        return;
      }
      questions.push(body);
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const text of ['Bring it in ', 'on the downbeat.']) {
        response.write(`data: ${JSON.stringify({ choices: [{ delta: { content: text } }] })}\n\n`);
      }
      response.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

test('a question about a track goes to the first provider that answers, and the answer streams in', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
  const questions: string[] = [];
  const fake = await fakeOpenAi(questions);
  try {
    await register(page, uniqueEmail('ask'));
    await page.goto('/settings');
    await waitForHydration(page);
    const panel = page.getByRole('region', { name: 'LLM providers' });
    const form = panel.locator('.add-provider');
    for (const [name, key] of [['Refuses', 'sk-fake-bad-0000'], ['Answers', 'sk-fake-good-7f3a']]) {
      await form.getByLabel('Type').selectOption('openai');
      await form.getByLabel('Name').fill(name);
      await form.getByLabel('API key').fill(key);
      await form.getByLabel('Base URL').fill(fake.base);
      await form.getByRole('button', { name: 'Add provider' }).click();
      await expect(panel.getByRole('list', { name: 'Your providers' }).getByText(name, { exact: true })).toBeVisible();
    }

    await page.goto('/');
    await waitForHydration(page);
    await page.getByLabel('Add audio files').setInputFiles([{ name: 'Short Loop.wav', mimeType: 'audio/wav', buffer: wav }]);
    const row = page.getByRole('list', { name: 'Your tracks' }).getByRole('listitem').filter({ hasText: 'Short Loop' });
    await expect(row.locator('.track-analysis')).toHaveText('Analysed', { timeout: 20_000 });
    const cancel = row.getByRole('button', { name: 'Cancel' });
    if (await cancel.isVisible()) await cancel.click();
    await row.getByRole('link', { name: 'Short Loop' }).click();
    await waitForHydration(page);

    const ask = page.getByRole('region', { name: 'Ask about this track' });
    await ask.getByLabel('Your question').fill('Where should I start the mix?');
    await ask.getByRole('button', { name: 'Ask' }).click();
    await expect(ask.locator('.ask-provider')).toHaveText('Answered by Answers');
    await expect(ask.locator('.ask-answer')).toHaveText('Bring it in on the downbeat.');
    expect(questions).toHaveLength(1);
    expect(questions[0]).toContain('Where should I start the mix?');
    expect(questions[0]).toContain('Short Loop');

    expect(errors).toEqual([]);
    // With one short track, nothing else in the library mixes with it; the page says so, or that it lacks a key
    // (an answer of 400, which the browser reports on its console).
    await ask.getByRole('button', { name: 'What mixes well with this?' }).click();
    await expect(ask.locator('.mix-none, .form-error')).toContainText(/Nothing in your library|tempo and key first/);

    // The one that refused is now marked with the reason.
    await page.goto('/settings');
    await expect(panel.getByRole('listitem').filter({ hasText: 'Refuses' }).locator('.provider-health'))
      .toHaveText('unreachable: key rejected (401)');
  } finally {
    fake.close();
  }
});
