import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isTimeoutError } from '../../src/core/errors.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { isWebhookDeliveryError, type WebhookDeliveryError } from '../../src/healing/errors.js';
import { RecoveryStrategyFactory } from '../../src/healing/recovery-strategy-factory.js';
import {
  createWebhookEscalationHandler,
  pagerDutyWebhookBody,
  slackWebhookBody,
} from '../../src/healing/webhook-escalation-handler.js';
import { createLogEscalationHandler } from '../../src/healing/log-escalation-handler.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';
import { track } from '../support/promises.js';

failOnUnhandledRejections();

interface Received {
  method: string | undefined;
  headers: IncomingMessage['headers'];
  body: unknown;
}

let server: Server | undefined;
afterEach(async () => {
  if (server !== undefined) {
    server.closeAllConnections();
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
  }
});

async function listen(handler: (req: IncomingMessage, res: ServerResponse, body: unknown) => void): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      received.push({ method: req.method, headers: req.headers, body });
      handler(req, res, body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, received };
}

function escalationWith(channel: string, handler: ReturnType<typeof createWebhookEscalationHandler>, clock?: VirtualClock) {
  const escalation = RecoveryStrategyFactory.createEscalation({
    name: 'critical-alert', escalationLevel: 'critical', notificationChannels: [channel], ...(clock ? { clock } : {}),
  });
  escalation.registerHandler(channel, handler);
  return escalation;
}

describe('createWebhookEscalationHandler', () => {
  it('POSTs the escalation as JSON with the given headers, once', async () => {
    const { url, received } = await listen((_req, res) => res.writeHead(204).end());
    const escalation = escalationWith('ops', createWebhookEscalationHandler({ url, headers: { authorization: 'Bearer t' } }));
    const result = await escalation.execute(new Error('db gone'), { component: 'database', category: 'database' });
    expect(result.notified).toEqual(['ops']);
    expect(received).toHaveLength(1);
    expect(received[0]!.method).toBe('POST');
    expect(received[0]!.headers['content-type']).toBe('application/json');
    expect(received[0]!.headers.authorization).toBe('Bearer t');
    expect(received[0]!.body).toMatchObject({
      text: '[CRITICAL] critical-alert: database: db gone',
      level: 'critical',
      component: 'database',
      category: 'database',
      error: { name: 'Error', message: 'db gone' },
    });
  });

  it('Slack and PagerDuty bodies', async () => {
    const { url, received } = await listen((_req, res) => res.writeHead(202).end('{}'));
    await escalationWith('slack', createWebhookEscalationHandler({ url, body: slackWebhookBody })).execute(new Error('x'), { component: 'api' });
    await escalationWith('pagerduty', createWebhookEscalationHandler({ url, body: pagerDutyWebhookBody('RK') })).execute(new Error('x'), { component: 'api' });
    expect(received[0]!.body).toEqual({ text: '[CRITICAL] critical-alert: api: x' });
    expect(received[1]!.body).toMatchObject({
      routing_key: 'RK', event_action: 'trigger', payload: { summary: '[CRITICAL] critical-alert: api: x', source: 'api', severity: 'critical' },
    });
  });

  it('a non-2xx answer fails the channel with the status, without retrying', async () => {
    const { url, received } = await listen((_req, res) => res.writeHead(500).end('boom'));
    const result = await escalationWith('ops', createWebhookEscalationHandler({ url })).execute(new Error('x'));
    expect(result.notified).toEqual([]);
    const error = result.failed[0]!.error as WebhookDeliveryError;
    expect(isWebhookDeliveryError(error)).toBe(true);
    expect(error.status).toBe(500);
    expect(received).toHaveLength(1);
  });

  it('a hung endpoint is abandoned at timeoutMs on the clock', async () => {
    const clock = new VirtualClock();
    const arrived: ServerResponse[] = [];
    const { url } = await listen((_req, res) => void arrived.push(res));
    const escalation = escalationWith('ops', createWebhookEscalationHandler({ url, timeoutMs: 2_000, clock }), clock);
    const result = track(escalation.execute(new Error('x')));
    while (arrived.length === 0) await new Promise((r) => setTimeout(r, 5));
    await clock.advanceAsync(1_999);
    expect(result.state).toBe('pending');
    await clock.advanceAsync(1);
    while (result.state === 'pending') await new Promise((r) => setTimeout(r, 5));
    const error = result.value!.failed[0]!.error as WebhookDeliveryError;
    expect(isWebhookDeliveryError(error)).toBe(true);
    expect(isTimeoutError(error.cause)).toBe(true);
  });

  it('refuses beyond maxInFlight instead of piling up requests', async () => {
    const arrived: ServerResponse[] = [];
    const { url } = await listen((_req, res) => void arrived.push(res));
    const handler = createWebhookEscalationHandler({ url, maxInFlight: 1 });
    const escalation = escalationWith('ops', handler);
    const first = escalation.execute(new Error('1'));
    const second = await escalation.execute(new Error('2'));
    expect(second.failed[0]!.error).toMatchObject({ message: expect.stringContaining('already in flight') });
    while (arrived.length === 0) await new Promise((r) => setTimeout(r, 5));
    arrived[0]!.writeHead(200).end();
    expect((await first).notified).toEqual(['ops']);
  });

  it('validates its options', () => {
    expect(() => createWebhookEscalationHandler({ url: 'ftp://x', timeoutMs: 0, maxInFlight: 0 })).toThrow(/url[\s\S]*timeoutMs[\s\S]*maxInFlight/);
  });
});

describe('createLogEscalationHandler', () => {
  it('logs at a level matching the escalation level', async () => {
    const lines: [string, string][] = [];
    const logger = {
      error: (m: string) => void lines.push(['error', m]),
      warn: (m: string) => void lines.push(['warn', m]),
      info: (m: string) => void lines.push(['info', m]),
    };
    for (const level of ['critical', 'medium', 'low'] as const) {
      const e = RecoveryStrategyFactory.createEscalation({ name: 'e', escalationLevel: level, notificationChannels: ['log'] });
      e.registerHandler('log', createLogEscalationHandler(logger));
      await e.execute(new Error('x'));
    }
    expect(lines).toEqual([['error', '[CRITICAL] e: x'], ['warn', '[MEDIUM] e: x'], ['info', '[LOW] e: x']]);
  });
});
