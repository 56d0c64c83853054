import { describe, expect, it } from 'vitest';
import { isInjectedFaultError, isChaosRefusedError } from '../../src/core/errors.js';
import type { InvalidOptionsError } from '../../src/core/options.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { pipeline } from '../../src/policies/pipeline.js';
import { Retry } from '../../src/policies/retry.js';
import { backoff } from '../../src/policies/backoff/index.js';
import { Timeout } from '../../src/policies/timeout.js';
import { ChaosBehavior } from '../../src/chaos/chaos-behavior.js';
import { ChaosControl } from '../../src/chaos/chaos-control.js';
import { ChaosFault } from '../../src/chaos/chaos-fault.js';
import { ChaosLatency } from '../../src/chaos/chaos-latency.js';
import { ChaosOutcome } from '../../src/chaos/chaos-outcome.js';
import { withChaosScope } from '../../src/chaos/chaos-scope.js';
import { errorOf, track } from '../support/promises.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

/** A deterministic "random" cycling through `values`. */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length] as number;
}

describe('ChaosControl', () => {
  it('is off unless enabled, and the global control starts off', () => {
    expect(ChaosControl.global.enabled).toBe(false);
    const control = new ChaosControl({ environment: 'test' });
    expect(control.enabled).toBe(false);
    control.enable();
    expect(control.enabled).toBe(true);
    control.disable();
    expect(control.enabled).toBe(false);
  });

  it('refuses to switch on in production unless explicitly allowed', () => {
    const production = new ChaosControl({ environment: 'production' });
    expect(production.permitted).toBe(false);
    let error: unknown;
    try {
      production.enable();
    } catch (e) {
      error = e;
    }
    expect(isChaosRefusedError(error)).toBe(true);
    expect(production.enabled).toBe(false);
    expect(() => new ChaosControl({ environment: 'production', enabled: true })).toThrow(/allowInProduction/);
    const allowed = new ChaosControl({ environment: 'production', allowInProduction: true, enabled: true });
    expect(allowed.enabled).toBe(true);
  });

  it('announces changes', () => {
    const control = new ChaosControl({ environment: 'test' });
    const changes: boolean[] = [];
    control.on('change', ({ enabled }) => changes.push(enabled));
    control.enable();
    control.enable();
    control.disable();
    expect(changes).toEqual([true, false]);
  });
});

describe('chaos strategies', () => {
  const on = (): ChaosControl => new ChaosControl({ environment: 'test', enabled: true });

  it('do nothing while the control is off, whatever their rate', async () => {
    const fault = new ChaosFault({ control: new ChaosControl({ environment: 'test' }) });
    expect(await fault.execute(() => 'real')).toBe('real');
  });

  it('ChaosFault fails the selected calls with an InjectedFaultError, by injection rate', async () => {
    const fault = new ChaosFault({ control: on(), injectionRate: 0.3, random: sequence(0.1, 0.5, 0.29, 0.3), name: 'pricing' });
    const results = await Promise.allSettled([1, 2, 3, 4].map(() => fault.execute(() => 'ok')));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'rejected', 'fulfilled']);
    const error = (results[0] as PromiseRejectedResult).reason;
    expect(isInjectedFaultError(error)).toBe(true);
    expect((error as Error).message).toBe('Injected fault (pricing)');
  });

  it('ChaosFault throws a custom error, or one built per call', async () => {
    const custom = new Error('ECONNRESET');
    expect(await errorOf(new ChaosFault({ control: on(), fault: custom }).execute(() => 1))).toBe(custom);
    const built = new ChaosFault({ control: on(), fault: ({ context }: { context: { attempt: number } }) => new Error(`attempt ${context.attempt}`) });
    expect(((await errorOf(built.execute(() => 1))) as Error).message).toBe('attempt 1');
  });

  it('ChaosLatency delays by exactly latencyMs (+ jitter) and an outer Timeout still bounds it', async () => {
    const clock = new VirtualClock();
    const latency = new ChaosLatency({ control: on(), clock, latencyMs: 200, jitterMs: 100, random: () => 0.5 });
    const call = track(latency.execute(() => 'late'));
    await clock.advanceAsync(249);
    expect(call.state).toBe('pending');
    await clock.advanceAsync(1);
    expect(call).toMatchObject({ state: 'resolved', value: 'late' });

    const bounded = pipeline(new Timeout({ ms: 100, clock }), new ChaosLatency({ control: on(), clock, latencyMs: 5_000 }));
    const timed = track(bounded.execute(() => 'never'));
    await clock.advanceAsync(100);
    expect(timed.state).toBe('rejected');
    expect((timed.error as { code: string }).code).toBe('TIMEOUT');
    expect(clock.pendingTimers).toBe(0);
  });

  it('ChaosOutcome answers with a fake result instead of calling', async () => {
    let called = 0;
    const outcome = new ChaosOutcome({ control: on(), outcome: { price: 0, cached: true } });
    const result = await outcome.execute(() => {
      called++;
      return { price: 10, cached: false };
    });
    expect(result).toEqual({ price: 0, cached: true });
    expect(called).toBe(0);
  });

  it('ChaosBehavior runs the behaviour, then the call', async () => {
    const order: string[] = [];
    const behavior = new ChaosBehavior({ control: on(), behavior: () => void order.push('behavior') });
    expect(await behavior.execute(() => (order.push('call'), 'done'))).toBe('done');
    expect(order).toEqual(['behavior', 'call']);
  });

  it('targets tenants and requests through withChaosScope', async () => {
    const fault = new ChaosFault({ control: on(), tenants: ['acme'] });
    const byRequest = new ChaosFault({ control: on(), target: ({ scope }) => scope?.requestId === 'r-2' });
    expect(await fault.execute(() => 'no scope')).toBe('no scope');
    expect(await withChaosScope({ tenant: 'globex' }, () => fault.execute(() => 'other tenant'))).toBe('other tenant');
    await expect(withChaosScope({ tenant: 'acme' }, () => fault.execute(() => 'x'))).rejects.toThrow('Injected fault');
    expect(await withChaosScope({ requestId: 'r-1' }, () => byRequest.execute(() => 'r-1'))).toBe('r-1');
    await expect(withChaosScope({ requestId: 'r-2' }, async () => byRequest.execute(() => 'x'))).rejects.toThrow('Injected fault');
  });

  it('enabled and injectionRate may be functions of the call; a throwing selector means no chaos', async () => {
    const byAttempt = new ChaosFault({ control: on(), enabled: ({ context }) => context.attempt === 1 });
    const retried = pipeline(new Retry({ maxAttempts: 2, backoff: backoff.constant({ delayMs: 0 }) }), byAttempt);
    expect(await retried.execute(() => 'second attempt')).toBe('second attempt');
    const broken = new ChaosFault({
      control: on(),
      injectionRate: () => {
        throw new Error('bad selector');
      },
    });
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    expect(await broken.execute(() => 'safe')).toBe('safe');
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    expect(warnings.join()).toMatch(/bad selector/);
  });

  it('emits injected events', async () => {
    const fault = new ChaosFault({ control: on(), name: 'db' });
    const seen: unknown[] = [];
    fault.on('injected', (e) => seen.push(e));
    await fault.execute(() => 1).catch(() => {});
    expect(seen).toEqual([{ name: 'db', kind: 'fault' }]);
  });

  it('validates options, naming every bad field', () => {
    let error: InvalidOptionsError | undefined;
    try {
      new ChaosLatency({ latencyMs: -1, injectionRate: 2, tenants: 'acme' as unknown as string[] });
    } catch (e) {
      error = e as InvalidOptionsError;
    }
    expect(error?.issues.map((i) => i.path)).toEqual(['injectionRate', 'tenants', 'latencyMs']);
  });
});
