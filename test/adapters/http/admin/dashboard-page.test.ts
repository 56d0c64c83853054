import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminServer, type AdminServer } from '../../../../src/adapters/http/admin/start-admin-server.js';
import { startAdminProxy } from '../../../../src/adapters/http/admin/admin-proxy.js';
import { failOnUnhandledRejections } from '../../../support/no-unhandled-rejections.js';
import { TOKEN, makeComponents, tripBreaker } from './admin-test-kit.js';

failOnUnhandledRejections();

const kit = makeComponents();
const { breakers } = kit.components;
let server: AdminServer;
let browser: BrowserContext;
let profile: string;

beforeAll(async () => {
  server = await startAdminServer({ token: TOKEN, components: kit.components, store: kit.store, streamPollIntervalMs: 500 });
  profile = await mkdtemp(join(tmpdir(), 'antifragile-dashboard-'));
  // A fresh profile directory (Playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (profile !== undefined) await rm(profile, { recursive: true, force: true });
});

async function open(url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await page.goto(url);
  return { page, errors };
}

const breakerState = (page: Page, name: string) => page.locator(`[data-testid="breaker-state"][data-name="${name}"]`);

describe('dashboard page in headless Chromium', () => {
  it('shows a breaker opening and closing, live, and resets it from the page', async () => {
    const { page, errors } = await open(`${server.url}/#token=${TOKEN}`);
    try {
      expect(new URL(page.url()).hash).toBe('');
      await expect.poll(() => page.locator('[data-testid="connection"]').textContent(), { timeout: 5_000 }).toBe('live');
      await expect.poll(() => breakerState(page, 'pricing').textContent(), { timeout: 5_000 }).toBe('closed');
      expect(await page.locator('#score').textContent()).toBe('100');
      expect(await page.locator('[data-testid="degradation-level"]').textContent()).toBe('full');

      await tripBreaker(breakers, 'pricing');
      await expect.poll(() => breakerState(page, 'pricing').textContent(), { timeout: 5_000 }).toBe('open');
      expect(await breakerState(page, 'inventory').textContent()).toBe('closed');
      await expect.poll(() => page.locator('#activity li').first().textContent(), { timeout: 5_000 }).toContain('pricing: closed -> open');

      breakers.get('pricing')?.close();
      await expect.poll(() => breakerState(page, 'pricing').textContent(), { timeout: 5_000 }).toBe('closed');

      await tripBreaker(breakers, 'pricing');
      await expect.poll(() => breakerState(page, 'pricing').textContent(), { timeout: 5_000 }).toBe('open');
      await page.locator('tr[data-breaker="pricing"] button').click();
      await expect.poll(() => breakerState(page, 'pricing').textContent(), { timeout: 5_000 }).toBe('closed');
      expect(breakers.get('pricing')?.state).toBe('closed');
      expect((await kit.store.getAuditLog({ action: 'breaker.reset' }))[0]).toMatchObject({ who: 'admin', target: 'pricing' });

      await page.locator('#level-select').selectOption('reduced');
      await page.locator('#level-form button').first().click();
      await expect.poll(() => page.locator('[data-testid="degradation-level"]').textContent(), { timeout: 5_000 }).toBe('reduced');
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('asks for the token when it has none, and works through the local proxy without one', async () => {
    const { page } = await open(`${server.url}/`);
    try {
      await expect.poll(() => page.locator('#login').isVisible(), { timeout: 5_000 }).toBe(true);
      await page.locator('#token').fill('wrong-token-0123456789');
      await page.locator('#login button').click();
      await expect.poll(() => page.locator('[data-testid="connection"]').textContent(), { timeout: 5_000 }).toBe('locked');
      await page.locator('#token').fill(TOKEN);
      await page.locator('#login button').click();
      await expect.poll(() => breakerState(page, 'pricing').textContent(), { timeout: 5_000 }).toBe('closed');
    } finally {
      await page.close();
    }
    const proxy = await startAdminProxy({ target: server.url.replace(/\/admin$/, ''), token: TOKEN });
    try {
      const proxied = await open(proxy.url);
      await expect.poll(() => breakerState(proxied.page, 'pricing').textContent(), { timeout: 5_000 }).toBe('closed');
      await tripBreaker(breakers, 'pricing');
      await expect.poll(() => breakerState(proxied.page, 'pricing').textContent(), { timeout: 5_000 }).toBe('open');
      breakers.get('pricing')?.reset();
      await expect.poll(() => breakerState(proxied.page, 'pricing').textContent(), { timeout: 5_000 }).toBe('closed');
      expect(proxied.errors.filter((e) => !e.includes('401'))).toEqual([]);
      await proxied.page.close();
    } finally {
      await proxy.close();
    }
  });
});
