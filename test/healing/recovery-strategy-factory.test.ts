import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { InvalidOptionsError } from '../../src/core/options.js';
import { RecoveryStrategyFactory } from '../../src/healing/recovery-strategy-factory.js';
import { isCheckpointNotFoundError, isRecoveryFailedError, type RecoveryFailedError } from '../../src/healing/errors.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';
import { errorOf, track } from '../support/promises.js';

failOnUnhandledRejections();

describe('RecoveryStrategyFactory.createRetry', () => {
  it('retries with exponential backoff on the Retry policy, exactly on the virtual clock', async () => {
    const clock = new VirtualClock();
    const retry = RecoveryStrategyFactory.createRetry({
      name: 'exponential-retry', maxAttempts: 5, backoffStrategy: 'exponential', initialDelay: 1000, maxDelay: 30000, backoffMultiplier: 2, clock,
    });
    expect(retry.type).toBe('retry');
    const at: number[] = [];
    const result = track(
      retry.execute(async () => {
        at.push(clock.now());
        if (at.length < 4) throw new Error('flaky');
        return 'ok';
      }),
    );
    await clock.advanceAsync(999);
    expect(at).toEqual([0]);
    await clock.advanceAsync(1);
    expect(at).toEqual([0, 1000]);
    await clock.runAllAsync();
    expect(at).toEqual([0, 1000, 3000, 7000]);
    expect(result).toMatchObject({ state: 'resolved', value: 'ok' });
  });

  it('linear and fixed backoff, capped at maxDelay', async () => {
    for (const [backoffStrategy, expected] of [
      ['linear', [0, 100, 300, 550, 800]],
      ['fixed', [0, 100, 200, 300, 400]],
    ] as const) {
      const clock = new VirtualClock();
      const retry = RecoveryStrategyFactory.createRetry({ name: 'r', maxAttempts: 5, backoffStrategy, initialDelay: 100, maxDelay: 250, clock });
      const at: number[] = [];
      const p = track(retry.execute(() => { at.push(clock.now()); throw new Error('down'); }));
      await clock.runAllAsync();
      expect(at).toEqual(expected);
      expect(p.state).toBe('rejected');
      expect((p.error as Error).message).toBe('down');
    }
  });

  it('jitterFactor spreads each delay by ± that fraction', async () => {
    for (const [random, first] of [[0, 900], [0.999999, 1100], [0.5, 1000]] as const) {
      const clock = new VirtualClock();
      const retry = RecoveryStrategyFactory.createRetry({ name: 'j', maxAttempts: 2, initialDelay: 1000, jitterFactor: 0.1, random: () => random, clock });
      const at: number[] = [];
      const p = track(retry.execute(() => { at.push(clock.now()); throw new Error('x'); }));
      await clock.runAllAsync();
      expect(at[1]).toBeCloseTo(first, 3);
      expect(p.state).toBe('rejected');
    }
  });

  it('retryableErrors filters by name or code', async () => {
    const retry = RecoveryStrategyFactory.createRetry({ name: 'f', maxAttempts: 3, initialDelay: 0, retryableErrors: ['ECONNRESET'] });
    let calls = 0;
    const err = Object.assign(new Error('bad request'), { code: 'EBADREQ' });
    expect(await errorOf(retry.execute(() => { calls++; throw err; }))).toBe(err);
    expect(calls).toBe(1);
  });

  it('without an operation, recover() probes verify with the backoff; with neither it fails at once', async () => {
    const clock = new VirtualClock();
    const retry = RecoveryStrategyFactory.createRetry({ name: 'probe', maxAttempts: 3, initialDelay: 10, clock });
    let probes = 0;
    const p = track(retry.recover({ error: new Error('x'), context: {}, verify: async () => ++probes === 3 }));
    await clock.runAllAsync();
    expect(p).toMatchObject({ state: 'resolved', value: true });
    expect(probes).toBe(3);
    const e = await errorOf(retry.recover({ error: new Error('x'), context: { component: 'db' } }));
    expect(isRecoveryFailedError(e)).toBe(true);
  });

  it('validates every option at once', () => {
    try {
      RecoveryStrategyFactory.createRetry({ name: 'bad', maxAttempts: 0, backoffStrategy: 'cubic' as 'linear', initialDelay: 500, maxDelay: 100, jitterFactor: 2 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidOptionsError);
      expect((e as InvalidOptionsError).issues.map((i) => i.path).sort()).toEqual(['backoffStrategy', 'jitterFactor', 'maxAttempts', 'maxDelay']);
    }
  });
});

describe('RecoveryStrategyFactory.createFallback', () => {
  const chain = (log: string[], failing: readonly string[]) =>
    ['database', 'primary-cache', 'secondary-cache'].map((name, i) => ({
      name,
      priority: [3, 1, 2][i] as number,
      execute: async () => {
        log.push(name);
        if (failing.includes(name)) throw new Error(`${name} down`);
        return name;
      },
    }));

  it('tries providers by ascending priority after the primary fails, cascading', async () => {
    const log: string[] = [];
    const fallback = RecoveryStrategyFactory.createFallback({ name: 'cache-fallback', fallbackChain: chain(log, ['primary-cache']), cascadeOnFailure: true });
    expect(fallback.type).toBe('fallback');
    expect(fallback.order).toEqual(['primary-cache', 'secondary-cache', 'database']);
    const served: string[] = [];
    fallback.on('served', ({ provider }) => served.push(provider));
    expect(await fallback.execute(async () => { throw new Error('primary down'); })).toBe('secondary-cache');
    expect(log).toEqual(['primary-cache', 'secondary-cache']);
    expect(served).toEqual(['secondary-cache']);
  });

  it('returns the primary result without touching the chain', async () => {
    const log: string[] = [];
    const fallback = RecoveryStrategyFactory.createFallback({ name: 'f', fallbackChain: chain(log, []) });
    expect(await fallback.execute(async () => 'primary')).toBe('primary');
    expect(log).toEqual([]);
  });

  it('without cascade only the first provider runs; all failing gives every error', async () => {
    const log: string[] = [];
    const noCascade = RecoveryStrategyFactory.createFallback({ name: 'n', fallbackChain: chain(log, ['primary-cache']), cascadeOnFailure: false });
    const primary = new Error('primary down');
    const e = (await errorOf(noCascade.execute(() => Promise.reject(primary)))) as RecoveryFailedError;
    expect(log).toEqual(['primary-cache']);
    expect(e.cause).toBe(primary);
    expect(e.errors.map((x) => x.name)).toEqual(['primary-cache']);

    const all: string[] = [];
    const cascade = RecoveryStrategyFactory.createFallback({ name: 'c', fallbackChain: chain(all, ['primary-cache', 'secondary-cache', 'database']) });
    const e2 = (await errorOf(cascade.recover({ error: primary, context: { component: 'quotes' } }))) as RecoveryFailedError;
    expect(all).toEqual(['primary-cache', 'secondary-cache', 'database']);
    expect(isRecoveryFailedError(e2)).toBe(true);
    expect(e2.component).toBe('quotes');
    expect(e2.errors.map((x) => x.name)).toEqual(['primary-cache', 'secondary-cache', 'database']);
  });

  it('validates the chain by path', () => {
    expect(() =>
      RecoveryStrategyFactory.createFallback({ name: 'v', fallbackChain: [{ name: '', priority: Number.NaN, execute: 1 as unknown as () => number }] }),
    ).toThrow(/fallbackChain\[0\]\.name[\s\S]*fallbackChain\[0\]\.priority[\s\S]*fallbackChain\[0\]\.execute/);
    expect(() => RecoveryStrategyFactory.createFallback({ name: 'v', fallbackChain: [] })).toThrow(/fallbackChain/);
  });
});

describe('RecoveryStrategyFactory.createRestore', () => {
  it('restores deep copies of named checkpoints and applies them through onRestore', async () => {
    const applied: unknown[] = [];
    const restore = RecoveryStrategyFactory.createRestore<{ routes: string[] }>({ name: 'routing', onRestore: (s) => void applied.push(s) });
    expect(restore.type).toBe('restore');
    const state = { routes: ['a'] };
    restore.createCheckpoint('v1', state);
    state.routes.push('mutated');
    restore.createCheckpoint('v2', { routes: ['b'] });
    expect(await restore.restore('v1')).toEqual({ routes: ['a'] });
    expect(await restore.restore()).toEqual({ routes: ['b'] }); // latest
    expect(applied).toEqual([{ routes: ['a'] }, { routes: ['b'] }]);
    expect(isCheckpointNotFoundError(await errorOf(restore.restore('v9')))).toBe(true);
  });

  it('execute restores and runs the operation once more; bounded checkpoints', async () => {
    let state = 'corrupt';
    const restore = RecoveryStrategyFactory.createRestore<string>({ name: 'r', maxCheckpoints: 2, onRestore: (s) => void (state = s) });
    restore.createCheckpoint('good', 'ok');
    const result = await restore.execute(async () => {
      if (state !== 'ok') throw new Error('bad state');
      return 'served';
    }, { checkpoint: 'good' });
    expect(result).toBe('served');
    restore.createCheckpoint('b', 'b');
    restore.createCheckpoint('c', 'c');
    expect(restore.listCheckpoints()).toEqual(['b', 'c']);
    const e = await errorOf(restore.execute(() => Promise.reject(new Error('always')), { checkpoint: 'good' }));
    expect(isRecoveryFailedError(e)).toBe(true);
  });
});

describe('RecoveryStrategyFactory.createEscalation', () => {
  it('notifies registered channels, skips unregistered ones, records failures and times out hung handlers', async () => {
    const clock = new VirtualClock();
    const escalation = RecoveryStrategyFactory.createEscalation({
      name: 'critical-alert', escalationLevel: 'critical', notificationChannels: ['pagerduty', 'slack', 'email', 'hung'],
      requiresManualIntervention: true, handlerTimeoutMs: 5_000, clock,
    });
    expect(escalation.type).toBe('escalate');
    const got: { message: string; component: unknown; level: string }[] = [];
    escalation.registerHandler('slack', async (message, context) => void got.push({ message, component: context.component, level: context.escalationLevel }));
    escalation.registerHandler('pagerduty', () => { throw new Error('pd down'); });
    let hungSignal: AbortSignal | undefined;
    escalation.registerHandler('hung', (_m, ctx) => new Promise<void>(() => void (hungSignal = ctx.signal)));
    const result = track(escalation.execute(new Error('payment failed'), { component: 'payment-processor' }));
    await clock.advanceAsync(4_999);
    expect(result.state).toBe('pending');
    await clock.advanceAsync(1);
    expect(result.state).toBe('resolved');
    expect(hungSignal?.aborted).toBe(true);
    const r = result.value!;
    expect(r.notified).toEqual(['slack']);
    expect(r.failed.map((f) => f.channel)).toEqual(['pagerduty', 'hung']);
    expect(r.skipped).toEqual(['email']);
    expect(got).toEqual([
      { message: '[CRITICAL] critical-alert: payment-processor: payment failed (manual intervention required)', component: 'payment-processor', level: 'critical' },
    ]);
  });
});

describe('EscalationRecovery cancellation', () => {
  it('regression: recover() honours request.signal: handlers are aborted and no deadline timer outlives it', async () => {
    const clock = new VirtualClock();
    const escalation = RecoveryStrategyFactory.createEscalation({ name: 'page', notificationChannels: ['hung'], handlerTimeoutMs: 60_000, clock });
    let handlerSignal: AbortSignal | undefined;
    escalation.registerHandler('hung', (_m, ctx) => new Promise<void>(() => void (handlerSignal = ctx.signal)));
    const controller = new AbortController();
    const result = track(escalation.recover({ error: new Error('down'), context: { component: 'api' }, signal: controller.signal }));
    await clock.advanceAsync(0);
    expect(clock.pendingTimers).toBe(1);
    const reason = new Error('stopped');
    controller.abort(reason);
    await new Promise((r) => setImmediate(r));
    expect(handlerSignal?.aborted).toBe(true);
    expect(clock.pendingTimers).toBe(0);
    expect(result).toMatchObject({ state: 'rejected', error: reason });
    // An already aborted signal notifies nobody.
    expect(await errorOf(escalation.execute(new Error('x'), {}, { signal: controller.signal }))).toBe(reason);
  });
});

describe('seed README: Recovery Strategies', () => {
  it('runs the Retry, Fallback and Escalation snippets as written', async () => {
    let n = 0;
    const unreliableOperation = async (): Promise<string> => {
      if (++n < 2) throw new Error('flaky');
      return 'value';
    };
    const clock = new VirtualClock();
    // --- Retry Strategy (clock added for the test)
    const retry = RecoveryStrategyFactory.createRetry({
      name: 'exponential-retry',
      maxAttempts: 5,
      backoffStrategy: 'exponential',
      initialDelay: 1000,
      maxDelay: 30000,
      backoffMultiplier: 2,
      jitterFactor: 0.1,
      clock,
    });
    const pending = retry.execute(async () => {
      return await unreliableOperation();
    });
    await clock.runAllAsync();
    expect(await pending).toBe('value');

    // --- Fallback Strategy
    const key = 'k';
    const sql = 'select 1';
    const redis = { get: async (_k: string): Promise<string> => { throw new Error('redis down'); } };
    const memcached = { get: async (k: string) => `memcached:${k}` };
    const db = { query: async (q: string) => `db:${q}` };
    const primaryDataSource = { fetch: async (): Promise<string> => { throw new Error('primary down'); } };
    const fallback = RecoveryStrategyFactory.createFallback({
      name: 'cache-fallback',
      fallbackChain: [
        { name: 'primary-cache', priority: 1, execute: async () => await redis.get(key) },
        { name: 'secondary-cache', priority: 2, execute: async () => await memcached.get(key) },
        { name: 'database', priority: 3, execute: async () => await db.query(sql) },
      ],
      cascadeOnFailure: true,
    });
    const result = await fallback.execute(async () => {
      return await primaryDataSource.fetch();
    });
    expect(result).toBe('memcached:k');

    // --- Escalation Strategy
    const sent: [string, string][] = [];
    const slack = { sendMessage: async (channel: string, message: string) => void sent.push([channel, message]) };
    const criticalError = new Error('ledger mismatch');
    const escalation = RecoveryStrategyFactory.createEscalation({
      name: 'critical-alert',
      escalationLevel: 'critical',
      notificationChannels: ['pagerduty', 'slack', 'email'],
      requiresManualIntervention: true,
    });
    escalation.registerHandler('slack', async (message, _context) => {
      await slack.sendMessage('#alerts', message);
    });
    await escalation.execute(criticalError, { component: 'payment-processor' });
    expect(sent).toEqual([['#alerts', '[CRITICAL] critical-alert: payment-processor: ledger mismatch (manual intervention required)']]);
  });
});
