import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FaultProxy, type FaultProxyOptions } from '../../../src/chaos/proxy/index.js';
import { PrivateRedisServer } from '../../support/redis-server.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';
import { RawClient, pause, scriptedRandom, since } from './proxy-test-kit.js';

failOnUnhandledRejections();

// Measured effects of every toxic against a real redis-server, through a raw socket. Tolerances are wide
// enough for a loaded 2-core machine: a delay is never shorter than asked, and not much longer.

const PONG = '+PONG\r\n'.length;
const BIG = 100_000;
const MEDIUM = 20_000;

let redis: PrivateRedisServer;
let seeder: Redis;
const proxies: FaultProxy[] = [];
const clients: RawClient[] = [];

beforeAll(async () => {
  redis = await PrivateRedisServer.start();
  seeder = new Redis(redis.options);
  await seeder.set('big', 'b'.repeat(BIG));
  await seeder.set('medium', Buffer.from(Array.from({ length: MEDIUM }, (_, i) => i % 251)));
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await Promise.all(proxies.splice(0).map((p) => p.stop()));
});

afterAll(async () => {
  seeder.disconnect();
  await redis.stop();
});

async function proxyWith(options: Partial<FaultProxyOptions> = {}): Promise<FaultProxy> {
  const proxy = await FaultProxy.start({ name: 'redis', upstream: `127.0.0.1:${redis.port}`, ...options });
  proxies.push(proxy);
  return proxy;
}

async function client(proxy: FaultProxy): Promise<RawClient> {
  const c = await RawClient.connect(proxy.port);
  clients.push(c);
  return c;
}

const bulkReplyLength = (size: number): number => `$${size}\r\n`.length + size + 2;

describe('latency', () => {
  it('adds the latency to a round trip, once per direction it is on', async () => {
    const proxy = await proxyWith();
    const c = await client(proxy);
    expect(await c.roundTrip('PING\r\n', PONG)).toBeLessThan(50);

    proxy.addToxic({ type: 'latency', stream: 'downstream', attributes: { latency: 100 } });
    const down = await c.roundTrip('PING\r\n', PONG);
    expect(down).toBeGreaterThanOrEqual(95);
    expect(down).toBeLessThan(250);

    proxy.addToxic({ type: 'latency', stream: 'upstream', attributes: { latency: 100 } });
    const both = await c.roundTrip('PING\r\n', PONG);
    expect(both).toBeGreaterThanOrEqual(195);
    expect(both).toBeLessThan(350);
  });

  it('varies the delay within latency +/- jitter', async () => {
    const proxy = await proxyWith({ toxics: [{ type: 'latency', attributes: { latency: 60, jitter: 40 } }] });
    const c = await client(proxy);
    const samples: number[] = [];
    for (let i = 0; i < 8; i++) samples.push(await c.roundTrip('PING\r\n', PONG));
    for (const rtt of samples) {
      expect(rtt).toBeGreaterThanOrEqual(19);
      expect(rtt).toBeLessThan(200);
    }
    // 8 uniform draws over an 80 ms range: a spread under 10 ms has a probability below 1e-5.
    expect(Math.max(...samples) - Math.min(...samples)).toBeGreaterThan(10);
  });

  it('releases queued data at once when removed mid-flight', async () => {
    const proxy = await proxyWith({ toxics: [{ name: 'slow', type: 'latency', attributes: { latency: 2_000 } }] });
    const c = await client(proxy);
    const started = performance.now();
    c.write('PING\r\n');
    await pause(100);
    expect(c.bytes).toBe(0);
    const removedAt = performance.now();
    proxy.removeToxic('slow');
    expect(await c.until((x) => x.bytes >= PONG, 1_000)).toBe(true);
    expect(since(removedAt)).toBeLessThan(100);
    expect(since(started)).toBeLessThan(600);
    expect(c.text).toBe('+PONG\r\n');
  });

  it('takes an update on a live connection', async () => {
    const proxy = await proxyWith({ toxics: [{ name: 'lag', type: 'latency', attributes: { latency: 20 } }] });
    const c = await client(proxy);
    expect(await c.roundTrip('PING\r\n', PONG)).toBeLessThan(150);
    proxy.updateToxic('lag', { attributes: { latency: 200 } });
    const rtt = await c.roundTrip('PING\r\n', PONG);
    expect(rtt).toBeGreaterThanOrEqual(195);
    expect(rtt).toBeLessThan(400);
  });
});

describe('toxicity', () => {
  it('acts on every connection at 1 and on none at 0', async () => {
    const proxy = await proxyWith({ toxics: [{ name: 'lag', type: 'latency', toxicity: 0, attributes: { latency: 200 } }] });
    expect(await (await client(proxy)).roundTrip('PING\r\n', PONG)).toBeLessThan(100);
    proxy.updateToxic('lag', { toxicity: 1 });
    expect(await (await client(proxy)).roundTrip('PING\r\n', PONG)).toBeGreaterThanOrEqual(195);
  });

  it('draws per connection when the toxic starts on it', async () => {
    // 0.3 < 0.5: the first connection is picked; 0.7 is not: the second is left alone.
    const proxy = await proxyWith({
      random: scriptedRandom([0.3, 0.7]),
      toxics: [{ type: 'latency', toxicity: 0.5, attributes: { latency: 200 } }],
    });
    const picked = await client(proxy);
    const spared = await client(proxy);
    expect(await picked.roundTrip('PING\r\n', PONG)).toBeGreaterThanOrEqual(195);
    expect(await spared.roundTrip('PING\r\n', PONG)).toBeLessThan(100);
  });
});

describe('bandwidth', () => {
  it('reading a large value takes about size / rate', async () => {
    const proxy = await proxyWith();
    const c = await client(proxy);
    expect(await c.roundTrip('GET big\r\n', bulkReplyLength(BIG))).toBeLessThan(100);

    proxy.addToxic({ type: 'bandwidth', attributes: { rate: 500 } }); // 500 KB/s: 100 kB in 200 ms
    const elapsed = await c.roundTrip('GET big\r\n', bulkReplyLength(BIG));
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(450);
    expect(c.text.endsWith(`${'b'.repeat(100)}\r\n`)).toBe(true);
  });

  it('limits only its direction', async () => {
    const proxy = await proxyWith({ toxics: [{ type: 'bandwidth', stream: 'upstream', attributes: { rate: 500 } }] });
    const c = await client(proxy);
    expect(await c.roundTrip('GET big\r\n', bulkReplyLength(BIG))).toBeLessThan(100);
  });
});

describe('slow_close', () => {
  it('holds the end of the stream back for delay ms', async () => {
    const proxy = await proxyWith({ toxics: [{ type: 'slow_close', attributes: { delay: 300 } }] });
    const c = await client(proxy);
    const started = performance.now();
    c.write('QUIT\r\n');
    expect(await c.until((x) => x.text === '+OK\r\n')).toBe(true);
    expect(since(started)).toBeLessThan(150);
    expect(c.ended).toBe(false);
    expect(await c.until((x) => x.ended)).toBe(true);
    expect(since(started)).toBeGreaterThanOrEqual(295);
    expect(since(started)).toBeLessThan(600);
  });

  it('without it the end follows the reply at once', async () => {
    const proxy = await proxyWith();
    const c = await client(proxy);
    const started = performance.now();
    c.write('QUIT\r\n');
    expect(await c.until((x) => x.ended)).toBe(true);
    expect(since(started)).toBeLessThan(150);
  });
});

describe('timeout', () => {
  it('stops the data and closes the connection after timeout ms', async () => {
    const proxy = await proxyWith({ toxics: [{ type: 'timeout', stream: 'upstream', attributes: { timeout: 200 } }] });
    const c = await client(proxy);
    const started = performance.now();
    c.write('PING\r\n');
    expect(await c.until((x) => x.closed)).toBe(true);
    expect(since(started)).toBeGreaterThanOrEqual(180);
    expect(since(started)).toBeLessThan(500);
    expect(c.bytes).toBe(0);
    expect(c.error).toBeUndefined();
  });

  it('with timeout 0 holds the connection open, and its removal lets the held data flow', async () => {
    const proxy = await proxyWith({ toxics: [{ name: 'hang', type: 'timeout', stream: 'upstream', attributes: { timeout: 0 } }] });
    const c = await client(proxy);
    c.write('PING\r\n');
    await pause(300);
    expect(c.bytes).toBe(0);
    expect(c.closed).toBe(false);
    const removedAt = performance.now();
    proxy.removeToxic('hang');
    expect(await c.until((x) => x.bytes >= PONG, 1_000)).toBe(true);
    expect(since(removedAt)).toBeLessThan(100);
    expect(c.text).toBe('+PONG\r\n');
  });
});

describe('reset_peer', () => {
  it('resets the connection timeout ms after data flows: the client sees ECONNRESET', async () => {
    const proxy = await proxyWith({ toxics: [{ type: 'reset_peer', stream: 'upstream', attributes: { timeout: 150 } }] });
    const c = await client(proxy);
    const started = performance.now();
    c.write('PING\r\n');
    expect(await c.until((x) => x.closed)).toBe(true);
    expect(since(started)).toBeGreaterThanOrEqual(140);
    expect(since(started)).toBeLessThan(450);
    expect(c.error?.code).toBe('ECONNRESET');
    expect(c.bytes).toBe(0);
  });
});

describe('slicer', () => {
  it('delivers the data in many small reads, intact', async () => {
    const plain = await client(await proxyWith());
    await plain.roundTrip('GET medium\r\n', bulkReplyLength(MEDIUM));

    const proxy = await proxyWith({
      toxics: [{ type: 'slicer', attributes: { average_size: 1_000, size_variation: 200, delay: 3_000 } }],
    });
    const c = await client(proxy);
    await c.roundTrip('GET medium\r\n', bulkReplyLength(MEDIUM));
    expect(Buffer.concat(c.chunks).equals(Buffer.concat(plain.chunks))).toBe(true);
    // About 20 slices of 800..1200 bytes, 3 ms apart; the reader sees most as separate reads.
    expect(c.chunks.length).toBeGreaterThanOrEqual(10);
    expect(c.chunks.length).toBeGreaterThan(plain.chunks.length + 5);
    expect(Math.max(...c.chunks.map((chunk) => chunk.length))).toBeLessThan(MEDIUM / 4);
  });
});

describe('limit_data', () => {
  it('closes the connection after exactly `bytes` bytes', async () => {
    const proxy = await proxyWith({ toxics: [{ type: 'limit_data', attributes: { bytes: 1_000 } }] });
    const c = await client(proxy);
    c.write('GET medium\r\n');
    expect(await c.until((x) => x.closed)).toBe(true);
    expect(c.bytes).toBe(1_000);
    expect(c.ended).toBe(true);
    expect(c.text.startsWith(`$${MEDIUM}\r\n`)).toBe(true);
  });
});

describe('packet_loss', () => {
  it('a lost segment stalls the stream by the retransmission timeout, doubling per loss', async () => {
    // Draws: PING reply lost once (0.1 < 0.5) then delivered; next reply lost twice; then never lost.
    const proxy = await proxyWith({
      random: scriptedRandom([0.1, 0.9, 0.1, 0.1]),
      toxics: [{ type: 'packet_loss', attributes: { probability: 0.5, retransmit_ms: 100 } }],
    });
    const c = await client(proxy);
    const once = await c.roundTrip('PING\r\n', PONG);
    expect(once).toBeGreaterThanOrEqual(95);
    expect(once).toBeLessThan(250);
    const twice = await c.roundTrip('PING\r\n', PONG);
    expect(twice).toBeGreaterThanOrEqual(295); // 100 + 200
    expect(twice).toBeLessThan(500);
    expect(await c.roundTrip('PING\r\n', PONG)).toBeLessThan(80);
    expect(c.text).toBe('+PONG\r\n'.repeat(3));
  });

  it('with probability 0 costs nothing', async () => {
    const proxy = await proxyWith({ toxics: [{ type: 'packet_loss', attributes: { probability: 0 } }] });
    const c = await client(proxy);
    expect(await c.roundTrip('GET big\r\n', bulkReplyLength(BIG))).toBeLessThan(100);
  });
});
