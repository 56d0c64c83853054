import { describe, expect, it } from 'vitest';
import { RouteInterceptor } from '../../../src/adapters/http/route-interceptor.js';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { CircuitBreakerManager } from '../../../src/policies/circuit-breaker-manager.js';
import { Timeout } from '../../../src/policies/timeout.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

describe('RouteInterceptor', () => {
  it('keeps one breaker per route key and rethrows without a fallback', async () => {
    const clock = new VirtualClock();
    const manager = new CircuitBreakerManager({ clock });
    const interceptor = new RouteInterceptor({ manager, breaker: { window: { type: 'consecutive', failures: 1 }, openMs: 1_000 } });
    await expect(interceptor.execute('GET:/a', () => 1)).resolves.toEqual({ kind: 'value', value: 1 });
    await expect(interceptor.execute('GET:/a', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    await expect(interceptor.execute('GET:/a', () => 2)).rejects.toMatchObject({ code: 'CIRCUIT_OPEN', retryAfterMs: 1_000 });
    await expect(interceptor.execute('GET:/b', () => 3)).resolves.toEqual({ kind: 'value', value: 3 });
    expect(manager.names().sort()).toEqual(['GET:/a', 'GET:/b']);
    expect(interceptor.policyOf('GET:/a')).toBe(manager.get('GET:/a'));
  });

  it('uses policyFor once per route, and a fallback that may decline', async () => {
    const clock = new VirtualClock();
    const made: string[] = [];
    const interceptor = new RouteInterceptor({
      policyFor: (route) => {
        made.push(route);
        return new Timeout({ ms: 100, clock });
      },
      fallback: (error, route) => (route === 'GET:/soft' ? { status: 200, body: { cached: true, why: (error as Error).message } } : undefined),
    });
    const slow = interceptor.execute('GET:/soft', ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))));
    await clock.advanceAsync(100);
    const outcome = await slow;
    expect(outcome).toMatchObject({ kind: 'fallback', reply: { status: 200, headers: { 'content-type': 'application/json' } } });
    expect(JSON.parse(outcome.kind === 'fallback' ? outcome.reply.body : '')).toEqual({ cached: true, why: 'Operation timed out after 100 ms' });
    await expect(interceptor.execute('GET:/hard', () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    await interceptor.execute('GET:/soft', () => 'ok');
    expect(made).toEqual(['GET:/soft', 'GET:/hard']);
  });

  it('reports a fallback that throws and rethrows the original error', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    const interceptor = new RouteInterceptor({ manager: new CircuitBreakerManager(), fallback: () => { throw new Error('bad fallback'); } });
    await expect(interceptor.execute('r', () => Promise.reject(new Error('original')))).rejects.toThrow('original');
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    expect(warnings).toContain('RouteInterceptor option fallback threw: bad fallback');
  });

  it('needs a manager or policyFor and reports every bad option', () => {
    let error: unknown;
    try {
      new RouteInterceptor({ fallback: 'no' as never, maxRoutes: 0 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual(['manager', 'fallback', 'maxRoutes']);
  });
});
