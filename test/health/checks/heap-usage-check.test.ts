import { describe, expect, it } from 'vitest';
import { getHeapStatistics } from 'node:v8';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { HealthMonitor } from '../../../src/health/health-monitor.js';
import { heapUsageCheck } from '../../../src/health/checks/heap-usage-check.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

describe('heapUsageCheck', () => {
  it('compares used heap with the heap limit', async () => {
    const monitor = new HealthMonitor();
    monitor.registerCheck('roomy', heapUsageCheck({ warnRatio: 0.99, failRatio: 1 }), { component: 'process' });
    monitor.registerCheck('strict', heapUsageCheck({ warnRatio: 0, failRatio: 0.99 }), { component: 'process' });
    monitor.registerCheck('fails', heapUsageCheck({ warnRatio: 0, failRatio: 0 }), { component: 'process' });
    const [roomy, strict, fails] = await monitor.runAll();
    const limit = getHeapStatistics().heap_size_limit;
    expect(roomy).toMatchObject({ status: 'healthy', details: { measurement: 'utilization', observedUnit: 'percent', limitBytes: limit } });
    const percent = roomy?.details?.observedValue as number;
    expect(percent).toBeGreaterThan(0);
    expect(percent).toBeLessThan(99);
    expect(strict?.status).toBe('degraded');
    expect(strict?.error).toMatch(/^heap usage [\d.]+% >= 0%$/);
    expect(fails?.status).toBe('unhealthy');
    expect(Object.keys(monitor.report().checks)).toEqual(['process:utilization']);
  });

  it('validates its options', () => {
    expect(() => heapUsageCheck({ warnRatio: 0.9, failRatio: 0.5 })).toThrow(InvalidOptionsError);
    expect(() => heapUsageCheck({ warnRatio: 2 })).toThrow(InvalidOptionsError);
  });
});
