import net from 'node:net';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { isInjectedFaultError, isTimeoutError } from '../../../src/core/errors.js';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { ChaosControl } from '../../../src/chaos/chaos-control.js';
import { ChaosRegistry } from '../../../src/chaos/chaos-registry.js';
import { ChaosExperiments, ExperimentRunner, type ExperimentRun, type StoppableService } from '../../../src/chaos/experiments/index.js';
import { FaultProxy } from '../../../src/chaos/proxy/index.js';
import { pipeline } from '../../../src/policies/pipeline.js';
import { Timeout } from '../../../src/policies/timeout.js';
import { track } from '../../support/promises.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';
import { CA_CERT, EXPIRED_CERT, EXPIRED_KEY, SERVER_CERT, SERVER_KEY } from './tls-certificates.js';

failOnUnhandledRejections();

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function virtualRunner() {
  const clock = new VirtualClock();
  const control = new ChaosControl({ environment: 'test', enabled: true });
  const registry = new ChaosRegistry({ control, clock });
  return { clock, registry, runner: new ExperimentRunner({ registry, clock, safeMode: false }) };
}

/** A runner on the real clock, for faults acting on real threads, sockets and processes. */
function realRunner() {
  const control = new ChaosControl({ environment: 'test', enabled: true });
  return new ExperimentRunner({ control, safeMode: false });
}

/** A TCP server answering each line with the same line (what the proxy templates stand in front of). */
async function echoServer(): Promise<{ port: number; server: net.Server }> {
  const server = net.createServer((socket) => socket.on('data', (data) => socket.write(data)).on('error', () => undefined));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return { port: (server.address() as net.AddressInfo).port, server };
}

/** One request through `port`: connect, send, await the echo. */
function ping(port: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const fail = (error: Error): void => {
      socket.destroy();
      reject(error);
    };
    signal?.addEventListener('abort', () => fail(new Error('aborted')), { once: true });
    socket.setTimeout(2_000, () => fail(new Error('no answer')));
    socket.once('error', fail);
    socket.once('close', () => fail(Object.assign(new Error('closed before answering'), { code: 'ECLOSED' })));
    socket.once('connect', () => socket.write('ping\n'));
    socket.once('data', () => {
      socket.removeAllListeners('close');
      socket.end();
      resolve();
    });
  });
}

/** An echo server that can be stopped and started again on the same port. */
class EchoService implements StoppableService {
  port = 0;
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  constructor(readonly name: string) {}
  start(): Promise<void> {
    const server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket)).on('data', (d) => socket.write(d)).on('error', () => undefined);
    });
    this.server = server;
    return new Promise((resolve) =>
      server.listen(this.port, '127.0.0.1', () => {
        this.port = (server.address() as net.AddressInfo).port;
        resolve();
      }),
    );
  }
  stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = undefined;
    return new Promise((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  }
}

async function proxyTo(port: number, name = 'orders-db'): Promise<FaultProxy> {
  const proxy = await FaultProxy.start({ name, upstream: `127.0.0.1:${port}` });
  cleanups.push(() => proxy.stop());
  return proxy;
}

describe('ChaosExperiments templates', () => {
  it('carry the seed fields and validate their configuration', () => {
    const t = ChaosExperiments.latencySpike('api-service', 2_000, 60_000);
    expect(t).toMatchObject({
      name: 'latency-api-service',
      faultType: 'latency',
      target: 'api-service',
      config: { latencyMs: 2_000 },
      duration: 60_000,
      durationMs: 60_000,
      category: 'dependency',
      severity: 'low',
    });
    expect(t.method).toMatchObject([{ kind: 'latency', target: 'api-service', parameters: { latencyMs: 2_000 } }]);
    let issues: string[] = [];
    try {
      ChaosExperiments.build('error', '', { rate: 2 }, 0);
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidOptionsError);
      issues = (error as InvalidOptionsError).issues.map((i) => i.path);
    }
    expect(issues).toEqual(['target', 'durationMs', 'config.rate']);
    expect(() => ChaosExperiments.memoryPressure(0, 1_000)).toThrow(/config.mb/);
    expect(() => ChaosExperiments.processKill({} as never, 1_000)).toThrow(/config.supervisor/);
    expect(() => ChaosExperiments.tlsFailure({ name: 'p' } as never, 'nowhere', 1_000)).toThrow(/config.proxy[\s\S]*config.decoyUpstream/);
  });

  it('timeout: calls hang until the caller gives up, or until the rollback releases them', async () => {
    const { clock, registry, runner } = virtualRunner();
    const call = pipeline(new Timeout({ ms: 300, clock }), registry.injector('search'));
    const run = track(runner.run(ChaosExperiments.timeout('search', 1_000)));
    await clock.advanceAsync(0);
    const during = track(call.execute(() => 'results'));
    const noTimeout = track(registry.injector('search').execute(() => 'late results'));
    await clock.advanceAsync(300);
    expect(isTimeoutError(during.error)).toBe(true);
    expect(noTimeout.state).toBe('pending');
    await clock.advanceAsync(700);
    expect((run.value as ExperimentRun).status).toBe('succeeded');
    expect(noTimeout.value).toBe('late results');
    expect(await call.execute(() => 'results')).toBe('results');
  });

  it('resource exhaustion: calls wait for a free resource, then fail; an outage fails every call', async () => {
    const { clock, registry, runner } = virtualRunner();
    const call = pipeline(registry.injector('db'));
    const run = track(runner.run(ChaosExperiments.resourceExhaustion('db', 5_000, { acquireTimeoutMs: 250 })));
    await clock.advanceAsync(0);
    const during = track(call.execute(() => 'row'));
    await clock.advanceAsync(249);
    expect(during.state).toBe('pending');
    await clock.advanceAsync(1);
    expect(isInjectedFaultError(during.error)).toBe(true);
    expect((during.error as Error).message).toBe('db: resource exhausted, nothing free within 250 ms (injected)');
    await clock.runAllAsync();
    expect((run.value as ExperimentRun).status).toBe('succeeded');

    const outage = track(runner.run(ChaosExperiments.dependencyOutage('db', 1_000)));
    await clock.advanceAsync(0);
    await expect(call.execute(() => 'row')).rejects.toThrow('db is unavailable (injected outage)');
    await clock.runAllAsync();
    expect((outage.value as ExperimentRun).results.injections).toEqual({ db: 1 });
  });

  it('cpu pressure: worker threads burn CPU during the run and stop at rollback', async () => {
    const runner = realRunner();
    let cpuAtStart = process.cpuUsage();
    let wallAtStart = performance.now();
    const cpuShare = (): number => {
      const used = process.cpuUsage(cpuAtStart);
      return (used.user + used.system) / 1_000 / (performance.now() - wallAtStart);
    };
    const run = await runner.run(
      ChaosExperiments.cpuPressure(100, 600, {
        probeIntervalMs: 500,
        probes: [{ name: 'cpu-share', probe: () => cpuShare(), tolerance: { min: 0.25 } }],
        steadyState: [
          {
            name: 'reset-meter',
            probe: () => {
              cpuAtStart = process.cpuUsage();
              wallAtStart = performance.now();
              return true;
            },
          },
        ],
      }),
    );
    expect(run.status).toBe('succeeded');
    expect(run.probes[0]?.readings).toBe(2);
    expect(run.actions[0]?.rolledBackAt).toBeDefined();
    cpuAtStart = process.cpuUsage();
    wallAtStart = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(cpuShare()).toBeLessThan(0.2);
  });

  it('memory pressure: RSS rises during the run and falls after the rollback', async () => {
    const runner = realRunner();
    const before = process.memoryUsage().rss;
    let peak = 0;
    const run = await runner.run(
      ChaosExperiments.memoryPressure(150, 300, {
        probeIntervalMs: 100,
        probes: [{ name: 'rss', probe: () => (peak = Math.max(peak, process.memoryUsage().rss)), tolerance: () => true }],
      }),
    );
    expect(run.status).toBe('succeeded');
    expect(peak - before).toBeGreaterThan(100 * 1024 * 1024);
    expect(process.memoryUsage().rss).toBeLessThan(peak - 80 * 1024 * 1024);
  });

  it('event-loop block: the loop stalls on a cadence during the run', async () => {
    const runner = realRunner();
    const gaps: number[] = [];
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      gaps.push(now - last);
      last = now;
    }, 10);
    cleanups.push(() => clearInterval(ticker));
    const run = await runner.run(ChaosExperiments.eventLoopBlock(120, 500, { intervalMs: 200 }));
    expect(run.status).toBe('succeeded');
    expect(gaps.filter((gap) => gap >= 100).length).toBeGreaterThanOrEqual(2);
  });

  it('service disruption: a real server stopped then started; callers saw connections refused', async () => {
    const service = new EchoService('orders-db');
    await service.start();
    cleanups.push(() => service.stop());
    const runner = realRunner();
    const run = await runner.run(
      ChaosExperiments.serviceDisruption(service, 300, {
        traffic: [{ target: 'orders-db', intervalMs: 20, call: (signal) => ping(service.port, signal) }],
        steadyState: [{ name: 'answers', probe: async () => (await ping(service.port), true) }],
      }),
    );
    expect(run.status).toBe('succeeded');
    expect(run.steadyStateAfter?.met).toBe(true);
    const [traffic] = run.results.traffic;
    expect(traffic?.failed).toBeGreaterThan(0);
    expect(traffic?.errors.ECONNREFUSED).toBe(traffic?.failed);
    expect(run.results.weaknesses).toEqual([expect.stringMatching(/^no fallback on "orders-db": \d+ of \d+ calls failed for the caller \(\d+ ECONNREFUSED\)$/)]);
    await ping(service.port);
  });

  it('network latency through the fault proxy', async () => {
    const { port } = await echoServer();
    const proxy = await proxyTo(port);
    const runner = realRunner();
    const run = await runner.run(
      ChaosExperiments.networkLatency(proxy, 150, 500, { traffic: [{ target: 'orders-db', intervalMs: 20, call: (signal) => ping(proxy.port, signal) }] }),
    );
    expect(run.status).toBe('succeeded');
    expect(run.results.traffic[0]?.maxLatencyMs).toBeGreaterThanOrEqual(140);
    expect(run.results.weaknesses).toEqual([expect.stringMatching(/^no timeout on "orders-db": callers waited up to \d+ ms$/)]);
    expect(proxy.toxics).toEqual([]);
    const start = performance.now();
    await ping(proxy.port);
    expect(performance.now() - start).toBeLessThan(140);
  });

  it('DNS failure through the fault proxy: the upstream name stops resolving, then comes back', async () => {
    const { port } = await echoServer();
    const proxy = await proxyTo(port);
    const runner = realRunner();
    const run = await runner.run(
      ChaosExperiments.dnsFailure(proxy, 400, { traffic: [{ target: 'orders-db', intervalMs: 20, call: (signal) => ping(proxy.port, signal) }] }),
    );
    expect(run.status).toBe('succeeded');
    expect(run.results.traffic[0]?.failed).toBeGreaterThan(0);
    expect(run.results.observations).toEqual(
      expect.arrayContaining([expect.stringMatching(/^[1-9]\d* connection\(s\) through proxy "orders-db" could not resolve "chaos-dns-failure.invalid"$/)]),
    );
    expect(proxy.upstream).toBe(`127.0.0.1:${port}`);
    await ping(proxy.port);
  });

  it('TLS certificate failure through the fault proxy: callers see an expired certificate', async () => {
    const tlsServer = async (cert: string, key: string): Promise<number> => {
      const server = tls.createServer({ cert, key }, (socket) => socket.on('data', (d) => socket.write(d)).on('error', () => undefined));
      server.on('tlsClientError', () => undefined);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      cleanups.push(() => new Promise((resolve) => server.close(resolve)));
      return (server.address() as net.AddressInfo).port;
    };
    const realPort = await tlsServer(SERVER_CERT, SERVER_KEY);
    const decoyPort = await tlsServer(EXPIRED_CERT, EXPIRED_KEY);
    const proxy = await proxyTo(realPort, 'payments');
    const secureCall = (signal?: AbortSignal): Promise<void> =>
      new Promise((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port: proxy.port, ca: CA_CERT, servername: 'localhost' });
        signal?.addEventListener('abort', () => socket.destroy(new Error('aborted')), { once: true });
        socket.once('error', (error) => (socket.destroy(), reject(error)));
        socket.once('secureConnect', () => socket.write('ping'));
        socket.once('data', () => (socket.end(), resolve()));
      });
    await secureCall();
    const runner = realRunner();
    const run = await runner.run(
      ChaosExperiments.tlsFailure(proxy, `127.0.0.1:${decoyPort}`, 300, { traffic: [{ target: 'payments', intervalMs: 20, call: secureCall }] }),
    );
    expect(run.status).toBe('succeeded');
    const [traffic] = run.results.traffic;
    expect(traffic?.failed).toBeGreaterThan(0);
    expect(traffic?.errors.CERT_HAS_EXPIRED).toBe(traffic?.failed);
    expect(proxy.upstream).toBe(`127.0.0.1:${realPort}`);
    await secureCall();
  });
});
