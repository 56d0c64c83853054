import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { HealthMonitor } from '../../../src/health/health-monitor.js';
import { eventLoopDelayCheck } from '../../../src/health/checks/event-loop-delay-check.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

/** Blocks the event loop for `ms` of real time: the condition the check exists to detect. */
function blockEventLoop(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
}

/** Lets real time pass so the histogram's own timer takes samples (the check measures real delay). */
const samples = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('eventLoopDelayCheck', () => {
  it('starts sampling on first use, sees a blocked loop, and stops on unregister', async () => {
    const check = eventLoopDelayCheck({ warnMs: 20, failMs: 100, resolutionMs: 10 });
    const monitor = new HealthMonitor();
    monitor.registerCheck('loop', check, { component: 'process', liveness: true });
    expect(check.enabled).toBe(false);
    const first = await monitor.runCheck('loop');
    expect(check.enabled).toBe(true);
    expect(first).toMatchObject({ status: 'healthy', details: { measurement: 'eventLoopDelay', observedValue: 0, observedUnit: 'ms' } });

    await samples(30);
    blockEventLoop(250);
    await samples(30);
    const blocked = await monitor.runCheck('loop');
    expect(blocked.status).toBe('unhealthy');
    expect(blocked.details?.observedValue as number).toBeGreaterThanOrEqual(100);
    expect(blocked.error).toMatch(/^event-loop delay p99 [\d.]+ ms >= 100 ms$/);
    expect(monitor.report('live').status).toBe('fail');

    monitor.unregisterCheck('loop');
    expect(check.enabled).toBe(false);
  });

  it('validates its options', () => {
    expect(() => eventLoopDelayCheck({ warnMs: 50, failMs: 10 })).toThrow(InvalidOptionsError);
    expect(() => eventLoopDelayCheck({ percentile: 0, resolutionMs: 0.5 })).toThrow(InvalidOptionsError);
  });
});
