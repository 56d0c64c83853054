import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import type { HealthStatus } from '../../src/health/health-check.js';
import { HealthMonitor } from '../../src/health/health-monitor.js';
import { HEALTH_JSON_CONTENT_TYPE, healthReportHttpStatus, reportStatusOf } from '../../src/health/health-report.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

function setup() {
  const clock = new VirtualClock(Date.UTC(2026, 0, 1));
  const status: Record<string, HealthStatus> = { db: 'healthy', cache: 'healthy', loop: 'healthy' };
  const monitor = new HealthMonitor({
    clock,
    service: { serviceId: 'pricing', version: '1', releaseId: '1.2.0', description: 'pricing API' },
    thresholds: { database: { metric: 'availability', warning: 95, critical: 80, fatal: 50 } },
  });
  monitor.registerCheck('db', () => ({ status: status.db, error: status.db === 'healthy' ? undefined : 'db down' }), {
    component: 'database',
    critical: true,
  });
  monitor.registerCheck('cache', () => ({ status: status.cache }), { component: 'redis' });
  monitor.registerCheck(
    'loop',
    () => ({ status: status.loop, details: { measurement: 'eventLoopDelay', observedValue: 12.5, observedUnit: 'ms', componentType: 'system' } }),
    { component: 'process', liveness: true, measurement: 'eventLoopDelay' },
  );
  return { clock, status, monitor };
}

describe('HealthMonitor.report', () => {
  it('exports the media type and maps statuses and HTTP codes', () => {
    expect(HEALTH_JSON_CONTENT_TYPE).toBe('application/health+json');
    expect(['healthy', 'degraded', 'unhealthy'].map((s) => reportStatusOf(s as HealthStatus))).toEqual(['pass', 'warn', 'fail']);
    expect([healthReportHttpStatus({ status: 'pass' }), healthReportHttpStatus({ status: 'warn' }), healthReportHttpStatus({ status: 'fail' })]).toEqual([
      200, 200, 503,
    ]);
  });

  it('health view: checks keyed component:measurement, plus threshold entries; JSON-serialisable', async () => {
    const { monitor, clock } = setup();
    const pendingReport = monitor.report();
    expect(pendingReport.status).toBe('warn');
    expect(pendingReport.checks['database:responseTime']).toEqual([{ componentId: 'db', status: 'warn', output: 'not yet run' }]);

    const pending = monitor.runAll();
    await clock.advanceAsync(0);
    await pending;
    const time = new Date(Date.UTC(2026, 0, 1)).toISOString();
    const report = monitor.report('health');
    expect(JSON.parse(JSON.stringify(report))).toEqual({
      status: 'pass',
      serviceId: 'pricing',
      version: '1',
      releaseId: '1.2.0',
      description: 'pricing API',
      notes: ['view: health'],
      checks: {
        'database:responseTime': [{ componentId: 'db', status: 'pass', observedValue: 0, observedUnit: 'ms', time }],
        'redis:responseTime': [{ componentId: 'cache', status: 'pass', observedValue: 0, observedUnit: 'ms', time }],
        'process:eventLoopDelay': [
          { componentId: 'loop', componentType: 'system', status: 'pass', observedValue: 12.5, observedUnit: 'ms', time },
        ],
        'database:availability': [{ componentId: 'database', status: 'pass', observedValue: 100, observedUnit: 'percent', time }],
      },
    });
  });

  it('health view follows the overall status and explains failures in output', async () => {
    const { monitor, status } = setup();
    status.cache = 'degraded';
    await monitor.runAll();
    expect(monitor.report().status).toBe('warn');
    status.db = 'unhealthy';
    await monitor.runAll();
    const report = monitor.report();
    expect(report.status).toBe('fail');
    expect(report.checks['database:responseTime']?.[0]).toMatchObject({ status: 'fail', output: 'db down' });
    expect(report.checks['redis:responseTime']?.[0]).toMatchObject({ status: 'warn', output: 'degraded' });
    // Availability is now 50%: below critical, not below fatal.
    expect(report.checks['database:availability']?.[0]).toMatchObject({
      status: 'fail',
      observedValue: 50,
      output: 'availability crossed the critical threshold',
    });
    expect(report.output).toBe('db: db down; cache: degraded');
  });

  it('live view: only liveness checks; none registered means pass', async () => {
    const { monitor, status } = setup();
    expect(monitor.report('live')).toMatchObject({ status: 'pass', checks: { 'process:eventLoopDelay': [{ componentId: 'loop', status: 'pass' }] } });
    status.db = 'unhealthy';
    await monitor.runAll();
    expect(monitor.report('live').status).toBe('pass');
    expect(Object.keys(monitor.report('live').checks)).toEqual(['process:eventLoopDelay']);
    status.loop = 'unhealthy';
    await monitor.runCheck('loop');
    expect(monitor.report('live').status).toBe('fail');

    const empty = new HealthMonitor({ clock: new VirtualClock() });
    empty.registerCheck('x', () => false);
    await empty.runAll();
    expect(empty.report('live')).toEqual({ status: 'pass', notes: ['view: live'], checks: {} });
  });

  it('ready view: critical checks must have run and not be unhealthy', async () => {
    const { monitor, status } = setup();
    expect(monitor.report('ready')).toMatchObject({ status: 'fail', checks: { 'database:responseTime': [{ status: 'fail', output: 'not yet run' }] } });
    status.cache = 'unhealthy';
    await monitor.runAll();
    expect(monitor.report('ready').status).toBe('pass');
    expect(Object.keys(monitor.report('ready').checks)).toEqual(['database:responseTime']);
    status.db = 'degraded';
    await monitor.runCheck('db');
    expect(monitor.report('ready').status).toBe('warn');
    status.db = 'unhealthy';
    await monitor.runCheck('db');
    expect(monitor.report('ready')).toMatchObject({ status: 'fail', output: 'db: db down' });
  });

  it('startup view: every check has passed at least once, and stays passed', async () => {
    const { monitor, status } = setup();
    status.cache = 'unhealthy';
    await monitor.runAll();
    const starting = monitor.report('startup');
    expect(starting.status).toBe('fail');
    expect(starting.checks['redis:responseTime']).toEqual([
      expect.objectContaining({ componentId: 'cache', status: 'fail', output: 'not yet passed' }),
    ]);
    expect(starting.checks['database:responseTime']?.[0]?.status).toBe('pass');
    status.cache = 'healthy';
    await monitor.runCheck('cache');
    expect(monitor.report('startup').status).toBe('pass');
    status.db = 'unhealthy';
    await monitor.runCheck('db');
    expect(monitor.report('startup').status).toBe('pass');
  });
});
