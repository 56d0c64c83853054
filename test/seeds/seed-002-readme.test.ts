/**
 * Issue 3 acceptance: the seed 002 README ("Self-Healing and Resilience System") examples run against the
 * public barrel with only the import path changed.
 *
 * Each README block below is copied as it is (between the `--- README ...` / `--- end README` comments);
 * only its `import` line was replaced by the single import of `../../src/index.js` at the top. What the
 * README leaves undefined (`healthConfig`, `apiCall`, `db`, `redis`, `slack`, `retryStrategy`, ...) is
 * defined around each block with small real implementations. Two kinds of comment lines were inserted in
 * the blocks, never changing a code line:
 * - `@ts-expect-error` before `error.name` / `error.message` in a `catch`: this repository compiles with
 *   `useUnknownInCatchVariables`, under which a catch variable is `unknown`; the README assumes `any`.
 * - `eslint-disable-next-line` for variables and parameters the README declares but never reads.
 *
 * The Chaos Engineering block belongs to a later issue and is not here.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import {
  CircuitBreakerManager,
  HealthMonitor,
  SelfHealer,
  GracefulDegradation,
  RecoveryStrategyFactory,
  VirtualClock,
  type ResilienceConfig,
  type GracefulDegradationConfig,
  type HealthMonitorConfig,
  type SelfHealerConfig,
} from '../../src/index.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

// ---- things the README leaves undefined ------------------------------------------------------------

/** Cleanups of the current test, run in reverse order after it. */
let cleanups: (() => void | Promise<void>)[] = [];
let logSpy: MockInstance<typeof console.log>;

beforeEach(() => {
  cleanups = [];
  logSpy = vi.spyOn(console, 'log').mockImplementation(() => undefined);
});

afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  logSpy.mockRestore();
});

/** Every line the README's `console.log` calls printed in the current test. */
function logged(): string[] {
  return logSpy.mock.calls.map((args) => args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
}

/**
 * The README's Quick Start block, as is, in a function so that every test starts from the wired system it
 * builds (later blocks use its `circuitBreakers`, `healthMonitor`, `selfHealer` and `degradation`).
 */
function quickStart(healthConfig: HealthMonitorConfig, healerConfig: SelfHealerConfig, degradationConfig: GracefulDegradationConfig) {
  // --- README "Quick Start / Basic Usage" (import line replaced by the file's import)
  // Initialize components
  const circuitBreakers = new CircuitBreakerManager();
  const healthMonitor = new HealthMonitor(healthConfig);
  const selfHealer = new SelfHealer(healerConfig);
  const degradation = new GracefulDegradation(degradationConfig);

  // Wire up dependencies
  selfHealer.setCircuitBreakers(circuitBreakers);
  selfHealer.setHealthMonitor(healthMonitor);
  degradation.setHealthMonitor(healthMonitor);

  // Start monitoring
  healthMonitor.start();
  degradation.start();
  selfHealer.start();
  // --- end README

  cleanups.push(() => {
    selfHealer.dispose();
    degradation.stop();
    healthMonitor.dispose();
    circuitBreakers.dispose();
  });
  return { circuitBreakers, healthMonitor, selfHealer, degradation };
}

/** A Quick Start system on a virtual clock (the configs are ours, so they may carry one). */
function virtualSystem(extra: { healer?: SelfHealerConfig; degradation?: GracefulDegradationConfig } = {}) {
  const clock = new VirtualClock();
  const healthConfig: HealthMonitorConfig = { checkInterval: 5_000, clock };
  const healerConfig: SelfHealerConfig = { ...extra.healer, clock };
  const degradationConfig: GracefulDegradationConfig = { ...extra.degradation, clock };
  return { clock, ...quickStart(healthConfig, healerConfig, degradationConfig) };
}

/** Advances `clock` in small steps in the background until the returned function is called. */
function driveClock(clock: VirtualClock, stepMs = 10): () => Promise<void> {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) await clock.advanceAsync(stepMs);
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}

/** An in-memory database: `ping` and `query` fail while `down` is set. */
class InMemoryDb {
  down = false;
  pings = 0;
  readonly queries: string[] = [];
  constructor(private readonly rows: Record<string, string> = {}) {}
  async ping(): Promise<void> {
    this.pings++;
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
  }
  async query(sql: string): Promise<string> {
    this.queries.push(sql);
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    const row = this.rows[sql];
    if (row === undefined) throw new Error(`no rows for ${sql}`);
    return row;
  }
}

/** An in-memory key/value cache that records each `get` in `calls` and fails while `down` is set. */
class InMemoryCache {
  down = false;
  private readonly data = new Map<string, string>();
  constructor(
    private readonly name: string,
    private readonly calls: string[],
  ) {}
  async get(key: string): Promise<string> {
    this.calls.push(this.name);
    if (this.down) throw new Error(`${this.name} unavailable`);
    const value = this.data.get(key);
    if (value === undefined) throw new Error(`${this.name}: miss for ${key}`);
    return value;
  }
  set(key: string, value: string): void {
    this.data.set(key, value);
  }
}

/** A local HTTP API on 127.0.0.1 (port 0) that answers 200 JSON while `healthy`, else 503. */
async function startApi(): Promise<{ url: string; state: { healthy: boolean; requests: number } }> {
  const state = { healthy: true, requests: 0 };
  const server: Server = createServer((_req, res) => {
    state.requests++;
    res.writeHead(state.healthy ? 200 : 503, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify(state.healthy ? { ok: true } : { error: 'unavailable' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, state };
}

// ---- the README blocks -----------------------------------------------------------------------------

describe('seed 002 README examples', () => {
  it('Quick Start: builds, wires and starts the components', async () => {
    const { clock, circuitBreakers, healthMonitor, selfHealer, degradation } = virtualSystem({
      degradation: {
        rules: [{ condition: { type: 'threshold', metric: 'health_score', operator: '<', value: 50 }, targetLevel: 'minimal' }],
      },
    });
    expect(healthMonitor.isRunning).toBe(true);
    expect(degradation.isRunning).toBe(true);
    expect(selfHealer.isRunning).toBe(true);

    // The wiring is live: a breaker opening reaches the healer ...
    const opened: string[] = [];
    selfHealer.onEvent((event) => {
      if (event.type === 'circuit-opened') opened.push(event.component);
    });
    circuitBreakers.getOrCreate('pricing', { failureThreshold: 1 });
    await expect(circuitBreakers.get('pricing')!.execute(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(opened).toEqual(['pricing']);

    // ... and the health score drives the degradation level.
    healthMonitor.registerCheck('db', () => false, { critical: true });
    await clock.advanceAsync(0);
    expect(healthMonitor.getSystemHealth()).toMatchObject({ overall: 'unhealthy', score: 0 });
    await clock.advanceAsync(5_000);
    expect(degradation.getCurrentState().level).toBe('minimal');
  });

  it('Circuit Breaker: opens after failures and rejects with a CircuitBreakerError', async () => {
    const { circuitBreakers } = virtualSystem();
    const api = await startApi();
    const apiCall = async (): Promise<unknown> => {
      const res = await fetch(api.url);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return res.json();
    };
    const caught: unknown[] = [];

    /** The README block is per-request code: each call is one request through the same breaker. */
    async function request(): Promise<void> {
      // --- README "Quick Start / Circuit Breaker"
      // Create circuit breaker
      const breaker = circuitBreakers.getOrCreate('api-service', {
        failureThreshold: 5,
        successThreshold: 2,
        timeout: 60000,
        monitorWindow: 60000,
        halfOpenRequests: 3,
      });

      // Execute with protection
      try {
        // eslint-disable-next-line @typescript-eslint/no-unused-vars -- the README never reads it
        const result = await breaker.execute(async () => {
          return await apiCall();
        });
      } catch (error) {
        caught.push(error);
        // @ts-expect-error -- README assumes `any` catch variables (this repo: useUnknownInCatchVariables)
        if (error.name === 'CircuitBreakerError') {
          console.log('Circuit is open, using fallback');
        }
      }

      // Monitor state
      breaker.onEvent((event) => {
        console.log(`Circuit ${event.component}: ${event.type}`);
      });
      // --- end README
    }

    await request();
    expect(caught).toEqual([]);
    expect(api.state.requests).toBe(1);

    api.state.healthy = false;
    for (let i = 0; i < 5; i++) await request();
    expect(caught.map((e) => (e as Error).message)).toEqual(['HTTP 503', 'HTTP 503', 'HTTP 503', 'HTTP 503', 'HTTP 503']);
    const breaker = circuitBreakers.get('api-service')!;
    expect(breaker.getState()).toMatchObject({ state: 'open', failures: 5 });
    expect(logged()).toContain('Circuit api-service: circuit-opened');
    expect(logged()).not.toContain('Circuit is open, using fallback');

    await request();
    expect(api.state.requests).toBe(6); // the open circuit did not call the API
    expect(caught).toHaveLength(6);
    expect((caught[5] as Error).name).toBe('CircuitBreakerError');
    expect(logged()).toContain('Circuit is open, using fallback');
    expect(logged()).toContain('Circuit api-service: call-rejected');
  });

  it('Health Monitoring: a registered check feeds the system health', async () => {
    const { clock, healthMonitor, selfHealer } = virtualSystem();
    const db = new InMemoryDb();
    const start = Date.now();
    const healerEvents: string[] = [];
    selfHealer.onEvent((event) => healerEvents.push(`${event.type}:${event.component}`));

    // --- README "Quick Start / Health Monitoring"
    // Register custom health check
    healthMonitor.registerCheck('database', async () => {
      try {
        await db.ping();
        return {
          name: 'db-ping',
          component: 'database',
          status: 'healthy',
          lastChecked: new Date(),
          responseTime: Date.now() - start,
        };
      } catch (error) {
        return {
          name: 'db-ping',
          component: 'database',
          status: 'unhealthy',
          lastChecked: new Date(),
          responseTime: Date.now() - start,
          // @ts-expect-error -- README assumes `any` catch variables (this repo: useUnknownInCatchVariables)
          error: error.message,
        };
      }
    });

    // Get system health
    const health = healthMonitor.getSystemHealth();
    console.log(`System health: ${health.overall} (score: ${health.score})`);
    // --- end README

    // Nothing has run yet at that point: no result, a perfect score.
    expect(health).toMatchObject({ overall: 'healthy', score: 100 });
    expect(logged()).toEqual(['System health: healthy (score: 100)']);

    // The running monitor runs the check at once, then every checkInterval.
    await clock.advanceAsync(0);
    expect(db.pings).toBe(1);
    expect(healthMonitor.getLastResult('database')).toMatchObject({ name: 'db-ping', component: 'database', status: 'healthy' });
    expect(healthMonitor.getSystemHealth()).toMatchObject({ overall: 'healthy', score: 100 });

    db.down = true;
    await clock.advanceAsync(5_000);
    // The scheduled run, then the wired self-healer's first verification probe of the unhealthy component.
    expect(db.pings).toBe(3);
    expect(healerEvents).toContain('failure-detected:database');
    expect(healthMonitor.getLastResult('database')).toMatchObject({
      name: 'db-ping',
      status: 'unhealthy',
      error: 'connect ECONNREFUSED 127.0.0.1:5432',
    });
    const after = healthMonitor.getSystemHealth();
    expect(after).toMatchObject({ overall: 'unhealthy', score: 0 });
    expect(after.components.find((c) => c.component === 'database')).toMatchObject({ status: 'unhealthy', consecutiveFailures: 2 });
  });

  it('Self-Healing: executeWithHealing recovers, detectFailure heals, statistics count both', async () => {
    const clock = new VirtualClock();
    const networkRetry = RecoveryStrategyFactory.createRetry({ name: 'network-retry', maxAttempts: 3, initialDelay: 100, clock });
    const { healthMonitor, selfHealer } = quickStart(
      { checkInterval: 5_000, clock },
      { clock, strategyMap: { network: networkRetry }, defaultStrategy: RecoveryStrategyFactory.createRetry({ name: 'probe', initialDelay: 100, clock }) },
      { clock },
    );
    // A payment service whose first call fails with a network error.
    const payments: string[] = [];
    let paymentCalls = 0;
    const processPayment = async (o: { id: string; amount: number }): Promise<{ id: string; status: string }> => {
      paymentCalls++;
      if (paymentCalls === 1) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      payments.push(o.id);
      return { id: o.id, status: 'paid' };
    };
    const order = { id: 'order-42', amount: 1999 };
    // The database the manual detection reports: its health check verifies the recovery.
    const db = new InMemoryDb();
    healthMonitor.registerCheck('database', () => db.ping(), { critical: true });
    const events: string[] = [];
    selfHealer.onEvent((event) => events.push(`${event.type}:${event.component}`));
    const stopDriving = driveClock(clock);

    // --- README "Quick Start / Self-Healing"
    // Execute with automatic recovery
    const result = await selfHealer.executeWithHealing(
      'payment-service',
      async () => {
        return await processPayment(order);
      },
      'network',
      'high'
    );

    // Manual failure detection
    await selfHealer.detectFailure(
      'database',
      'postgres',
      new Error('Connection timeout'),
      'critical'
    );

    // Get statistics
    const stats = selfHealer.getStatistics();
    console.log(`Success rate: ${(stats.successRate * 100).toFixed(2)}%`);
    // --- end README

    await stopDriving();
    expect(result).toEqual({ id: 'order-42', status: 'paid' });
    expect(paymentCalls).toBe(2);
    expect(payments).toEqual(['order-42']);
    expect(events).toContain('recovery-succeeded:payment-service');
    expect(events).toContain('recovery-succeeded:database');
    expect(selfHealer.getHistory({ component: 'database' })[0]).toMatchObject({ category: 'postgres', severity: 'critical', status: 'succeeded', verified: true });
    expect(stats).toMatchObject({ failuresDetected: 2, attempts: 2, successes: 2, failures: 0, successRate: 1, totalRecoveries: 2 });
    expect(stats.byCategory['network']).toMatchObject({ successes: 1 });
    expect(logged()).toEqual(['Success rate: 100.00%']);
  });

  it('Graceful Degradation: features and capabilities follow the level', async () => {
    const { degradation } = virtualSystem({
      degradation: {
        features: [
          { name: 'advanced-analytics', degradationLevels: ['reduced'], priority: 20 },
          { name: 'parallel-processing', degradationLevels: ['emergency'], priority: 80 },
        ],
        capabilities: { 'parallel-processing': { full: 100, reduced: 60, minimal: 20 } },
      },
    });
    const analytics: string[] = [];
    const runAdvancedAnalytics = async (): Promise<void> => void analytics.push('advanced');
    const runBasicAnalytics = async (): Promise<void> => void analytics.push('basic');

    // --- README "Quick Start / Graceful Degradation"
    // Check feature availability
    if (degradation.isFeatureEnabled('advanced-analytics')) {
      await runAdvancedAnalytics();
    } else {
      await runBasicAnalytics();
    }

    // Manual degradation
    degradation.degrade('minimal', 'High load detected', 'automatic');

    // Get capability level
    const parallelismLevel = degradation.getCapabilityLevel('parallel-processing');
    const maxParallel = Math.floor(100 * (parallelismLevel / 100));
    // --- end README

    expect(analytics).toEqual(['advanced']);
    expect(degradation.getCurrentState()).toMatchObject({ level: 'minimal', reason: 'High load detected', trigger: 'automatic' });
    expect(degradation.isFeatureEnabled('advanced-analytics')).toBe(false);
    expect(degradation.isFeatureEnabled('parallel-processing')).toBe(true);
    expect(parallelismLevel).toBe(20);
    expect(maxParallel).toBe(20);
  });

  it('Recovery Strategies / Retry: retries a failing operation with backoff', async () => {
    // Fails once, then succeeds: one real retry wait of initialDelay 1000 ms ± 10 % jitter (the README's
    // options object is a literal, so no virtual clock can be slipped in without editing it).
    let calls = 0;
    const unreliableOperation = async (): Promise<string> => {
      calls++;
      if (calls === 1) throw new Error('ETIMEDOUT');
      return 'payload';
    };

    // --- README "Recovery Strategies / Retry Strategy" (import line replaced by the file's import)
    const retry = RecoveryStrategyFactory.createRetry({
      name: 'exponential-retry',
      maxAttempts: 5,
      backoffStrategy: 'exponential',
      initialDelay: 1000,
      maxDelay: 30000,
      backoffMultiplier: 2,
      jitterFactor: 0.1,
    });

    const result = await retry.execute(async () => {
      return await unreliableOperation();
    });
    // --- end README

    expect(result).toBe('payload');
    expect(calls).toBe(2);
    expect(retry).toMatchObject({ type: 'retry', name: 'exponential-retry', maxAttempts: 5 });
  });

  it('Recovery Strategies / Fallback: the chain runs by priority until one serves', async () => {
    const calls: string[] = [];
    const key = 'user:42';
    const sql = 'SELECT profile FROM users WHERE id = 42';
    const redis = new InMemoryCache('redis', calls);
    const memcached = new InMemoryCache('memcached', calls);
    const db = new InMemoryDb({ [sql]: 'profile-from-db' });
    redis.down = true; // primary cache unreachable
    memcached.set('user:7', 'someone else'); // secondary cache misses
    const primaryDataSource = {
      async fetch(): Promise<string> {
        calls.push('primary');
        throw new Error('primary data source timed out');
      },
    };

    // --- README "Recovery Strategies / Fallback Strategy"
    const fallback = RecoveryStrategyFactory.createFallback({
      name: 'cache-fallback',
      fallbackChain: [
        {
          name: 'primary-cache',
          priority: 1,
          execute: async () => await redis.get(key),
        },
        {
          name: 'secondary-cache',
          priority: 2,
          execute: async () => await memcached.get(key),
        },
        {
          name: 'database',
          priority: 3,
          execute: async () => await db.query(sql),
        },
      ],
      cascadeOnFailure: true,
    });

    const result = await fallback.execute(async () => {
      return await primaryDataSource.fetch();
    });
    // --- end README

    expect(result).toBe('profile-from-db');
    expect(calls).toEqual(['primary', 'redis', 'memcached']);
    expect(db.queries).toEqual([sql]);
    expect(fallback.order).toEqual(['primary-cache', 'secondary-cache', 'database']);

    // With the primary cache back, it serves first and nothing after it runs.
    redis.down = false;
    redis.set(key, 'profile-from-redis');
    await expect(fallback.execute(() => primaryDataSource.fetch())).resolves.toBe('profile-from-redis');
    expect(calls).toEqual(['primary', 'redis', 'memcached', 'primary', 'redis']);
  });

  it('Recovery Strategies / Escalation: the registered channel handler receives the message', async () => {
    const sent: { channel: string; text: string }[] = [];
    const slack = {
      async sendMessage(channel: string, text: string): Promise<void> {
        sent.push({ channel, text });
      },
    };
    const criticalError = new Error('Payment processor rejected every charge for 5 minutes');

    // --- README "Recovery Strategies / Escalation Strategy"
    const escalation = RecoveryStrategyFactory.createEscalation({
      name: 'critical-alert',
      escalationLevel: 'critical',
      notificationChannels: ['pagerduty', 'slack', 'email'],
      requiresManualIntervention: true,
    });

    // Register notification handlers
    // eslint-disable-next-line @typescript-eslint/no-unused-vars -- the README declares `context` without using it
    escalation.registerHandler('slack', async (message, context) => {
      await slack.sendMessage('#alerts', message);
    });

    await escalation.execute(criticalError, { component: 'payment-processor' });
    // --- end README

    expect(sent).toEqual([
      {
        channel: '#alerts',
        text: '[CRITICAL] critical-alert: payment-processor: Payment processor rejected every charge for 5 minutes (manual intervention required)',
      },
    ]);
    // Channels without a handler are skipped, not failed.
    await expect(escalation.execute(criticalError, { component: 'payment-processor' })).resolves.toMatchObject({
      notified: ['slack'],
      skipped: ['pagerduty', 'email'],
      failed: [],
    });
  });

  it('Configuration: each section is accepted by the constructor it configures', async () => {
    const retryStrategy = RecoveryStrategyFactory.createRetry({ name: 'network-retry', maxAttempts: 3, initialDelay: 50 });
    const fallbackStrategy = RecoveryStrategyFactory.createFallback({
      name: 'replica-fallback',
      fallbackChain: [{ name: 'read-replica', priority: 1, execute: () => 'row-from-replica' }],
    });
    const escalationStrategy = RecoveryStrategyFactory.createEscalation({ name: 'page-oncall', notificationChannels: ['pagerduty'] });

    // --- README "Configuration / Complete Configuration Example" (import line replaced by the file's import)
    const config: ResilienceConfig = {
      circuitBreakers: {
        'api-service': {
          name: 'api-service',
          failureThreshold: 5,
          successThreshold: 2,
          timeout: 60000,
          monitorWindow: 60000,
          halfOpenRequests: 3,
        },
      },
      selfHealer: {
        enabled: true,
        autoRecover: true,
        maxConcurrentRecoveries: 10,
        recoveryTimeout: 30000,
        defaultStrategy: retryStrategy,
        strategyMap: {
          network: retryStrategy,
          database: fallbackStrategy,
          service: escalationStrategy,
        },
        escalationThreshold: 3,
        healthCheckInterval: 5000,
      },
      healthMonitor: {
        enabled: true,
        checkInterval: 5000,
        components: ['api', 'database', 'cache', 'queue'],
        thresholds: {
          api: { metric: 'availability', warning: 95, critical: 80, fatal: 50 },
          database: { metric: 'availability', warning: 95, critical: 80, fatal: 50 },
        },
        alertOnDegradation: true,
        retentionDays: 7,
      },
      degradation: {
        enabled: true,
        autoDegrade: true,
        rules: [
          {
            condition: { type: 'threshold', metric: 'health_score', operator: '<', value: 50 },
            targetLevel: 'emergency',
            affectedFeatures: ['parallel-processing', 'analytics'],
          },
        ],
        features: [
          {
            name: 'parallel-processing',
            enabled: true,
            degradationLevels: ['emergency', 'minimal'],
            priority: 80,
          },
        ],
        recoveryCheckInterval: 5000,
      },
      chaos: {
        enabled: false, // Disable in production
        safeMode: true,
        allowedFaults: ['latency', 'error'],
        maxConcurrentExperiments: 1,
        defaultDuration: 60000,
        requireApproval: true,
      },
      persistence: {
        databasePath: './resilience.db',
        retentionDays: 30,
        batchSize: 100,
        flushInterval: 5000,
      },
    };
    // --- end README

    // circuitBreakers: one getOrCreate per entry; the seed options take effect.
    const circuitBreakers = new CircuitBreakerManager();
    for (const [name, breakerConfig] of Object.entries(config.circuitBreakers ?? {})) circuitBreakers.getOrCreate(name, breakerConfig);
    const healthMonitor = new HealthMonitor(config.healthMonitor);
    const selfHealer = new SelfHealer(config.selfHealer);
    const degradation = new GracefulDegradation(config.degradation);
    cleanups.push(() => {
      selfHealer.dispose();
      degradation.stop();
      healthMonitor.dispose();
      circuitBreakers.dispose();
    });

    const breaker = circuitBreakers.get('api-service')!;
    for (let i = 0; i < 4; i++) await expect(breaker.execute(() => Promise.reject(new Error('503')))).rejects.toThrow('503');
    expect(breaker.getState().state).toBe('closed');
    await expect(breaker.execute(() => Promise.reject(new Error('503')))).rejects.toThrow('503');
    expect(breaker.getState().state).toBe('open');
    await expect(breaker.execute(() => 'never')).rejects.toMatchObject({ name: 'CircuitBreakerError' });

    // healthMonitor: the listed components are known before any check reports.
    expect(healthMonitor.getSystemHealth().components.map((c) => [c.component, c.status])).toEqual([
      ['api', 'unknown'],
      ['database', 'unknown'],
      ['cache', 'unknown'],
      ['queue', 'unknown'],
    ]);

    // degradation: health_score < 50 moves to emergency and turns parallel-processing off.
    degradation.setHealthMonitor(healthMonitor);
    expect(degradation.isFeatureEnabled('parallel-processing')).toBe(true);
    healthMonitor.registerCheck('api', () => false, { critical: true });
    await healthMonitor.runCheck('api');
    expect(healthMonitor.getSystemHealth().score).toBe(0);
    await expect(degradation.evaluate()).resolves.toMatchObject({ action: 'degrade', to: 'emergency' });
    expect(degradation.getCurrentState().level).toBe('emergency');
    expect(degradation.isFeatureEnabled('parallel-processing')).toBe(false);
    expect(degradation.isFeatureEnabled('analytics')).toBe(false);

    // selfHealer: the strategy map picks the fallback for the 'database' category.
    await expect(
      selfHealer.executeWithHealing('orders-db', () => Promise.reject(new Error('primary down')), 'database', 'high'),
    ).resolves.toBe('row-from-replica');
    expect(selfHealer.getHistory({ component: 'orders-db' })[0]).toMatchObject({ strategy: 'replica-fallback', status: 'succeeded' });
  });
});
