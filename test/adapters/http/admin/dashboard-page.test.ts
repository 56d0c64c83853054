import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminServer, type AdminServer } from '../../../../src/adapters/http/admin/start-admin-server.js';
import { startAdminProxy } from '../../../../src/adapters/http/admin/admin-proxy.js';
import { VirtualClock } from '../../../../src/core/virtual-clock.js';
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

async function open(url: string, beforeGoto?: (page: Page) => void): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  beforeGoto?.(page);
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

describe('dashboard page reconnects when its stream ends (VirtualClock server)', () => {
  it('gets a fresh ticket when the ticket expires, and shows the login form when the token is revoked', async () => {
    const clock = new VirtualClock(1_000_000);
    const own = makeComponents(clock);
    const timed = await startAdminServer({ token: TOKEN, components: own.components, store: own.store, clock, ticketTtlMs: 60_000 });
    const sessions: string[] = [];
    const streams: string[] = [];
    const { page, errors } = await open(`${timed.url}/#token=${TOKEN}`, (p) =>
      p.on('request', (request) => {
        const url = new URL(request.url());
        if (url.pathname.endsWith('/session')) sessions.push(request.method());
        if (url.pathname.endsWith('/events')) streams.push(url.searchParams.get('ticket') ?? '');
      }),
    );
    const expiryOf = (ticket: string | undefined): unknown => (JSON.parse(Buffer.from((ticket ?? '').split('.')[0] as string, 'base64url').toString()) as { e: unknown }).e;
    try {
      await expect.poll(() => breakerState(page, 'pricing').textContent(), { timeout: 5_000 }).toBe('closed');
      await expect.poll(() => timed.api.streamClients, { timeout: 5_000 }).toBe(1);
      expect(sessions).toEqual(['POST']);
      expect(streams).toHaveLength(1);
      expect(expiryOf(streams[0])).toBe(1_060_000);

      clock.advance(59_999);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(sessions).toEqual(['POST']);
      expect(streams).toHaveLength(1);
      expect(timed.api.streamClients).toBe(1);

      // The ticket expires: the stream ends, and the page asks for a new ticket at once and follows it
      // (EventSource never retries with the expired one).
      clock.advance(1);
      await expect.poll(() => streams.length, { timeout: 5_000 }).toBe(2);
      expect(sessions).toEqual(['POST', 'POST']);
      expect(expiryOf(streams[1])).toBe(1_120_000);
      await expect.poll(() => timed.api.streamClients, { timeout: 5_000 }).toBe(1);
      await expect.poll(() => page.locator('[data-testid="connection"]').textContent(), { timeout: 5_000 }).toBe('live');
      // The new stream is live: a change shows up.
      own.components.breakers.get('pricing')?.open();
      clock.advance(250);
      await expect.poll(() => breakerState(page, 'pricing').textContent(), { timeout: 5_000 }).toBe('open');
      expect(streams).toHaveLength(2);

      // The token is revoked: the stream ends and the page asks for the token.
      timed.api.setTokens('another-admin-token-0123456789');
      await expect.poll(() => page.locator('[data-testid="connection"]').textContent(), { timeout: 5_000 }).toBe('locked');
      expect(await page.locator('#login').isVisible()).toBe(true);
      expect(sessions).toEqual(['POST', 'POST', 'POST']);
      expect(streams).toHaveLength(2);
      expect(timed.api.streamClients).toBe(0);
      expect(errors.filter((e) => !e.includes('401'))).toEqual([]);
    } finally {
      await page.close();
      await timed.close();
    }
  });
});
