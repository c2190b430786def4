import { expect, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

// The app marks itself once hydration has run; before that a click would do nothing.
export async function waitForHydration(page: Page) {
  await expect(page.locator('.app')).toHaveAttribute('data-hydrated', 'true');
}

export const PASSWORD = 'velvet thunder orchard';

/// A fresh address for each test, so tests running side by side never meet.
export function uniqueEmail(label: string): string {
  return `${label}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.org`;
}

/// An address of its own for each browser context: the server trusts `X-Forwarded-For` in the tests (as it
/// does behind a proxy), so the limit on registrations per address counts each test apart.
export async function ownAddress(page: Page) {
  const octet = () => 1 + Math.floor(Math.random() * 254);
  await page.context().setExtraHTTPHeaders({ 'X-Forwarded-For': `10.${octet()}.${octet()}.${octet()}` });
}

/// Registers a new account through the page and lands, signed in, on the library.
export async function register(page: Page, email: string, password = PASSWORD) {
  await ownAddress(page);
  await page.goto('/register');
  await waitForHydration(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Library' })).toBeVisible();
}

/// The last link of this kind mailed to `email`: without SMTP the server writes each mail to its log (the
/// body, then `to=` and `subject=`), which scripts/test passes as SERVER_LOG.
export function mailedLink(email: string, path: string): string {
  const log = process.env.SERVER_LOG;
  if (!log) throw new Error('SERVER_LOG is not set: run the tests through scripts/test');
  const mails = readFileSync(log, 'utf8').split('this mail was not sent:').slice(1);
  const pattern = new RegExp(`https?://\\S+${path}\\?token=[A-Za-z0-9_-]+`);
  const links = mails
    .filter((mail) => mail.includes(`to=${email} `))
    .map((mail) => mail.match(pattern)?.[0])
    .filter((link): link is string => !!link);
  if (links.length === 0) throw new Error(`no ${path} link for ${email} in the server log`);
  const url = new URL(links[links.length - 1]);
  return url.pathname + url.search;
}

/// Gives the account a role with the server's `set-role` command, as an operator would.
export function setRole(email: string, role: 'user' | 'admin' | 'platform_admin') {
  const bin = process.env.SERVER_BIN;
  const database = process.env.SERVER_DATABASE_URL;
  if (!bin || !database) throw new Error('SERVER_BIN is not set: run the tests through scripts/test');
  execFileSync(bin, ['set-role', email, role], { env: { ...process.env, DATABASE_URL: database, SFA_LOG: 'warn' } });
}
