import { describe, expect, it } from 'vitest';
import { DegradationGate, type DegradationGateOptions, type DegradationSource } from '../../../src/adapters/http/degradation-gate.js';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { GracefulDegradation } from '../../../src/degradation/graceful-degradation.js';

/**
 * Every level in turn (least to most severe), with the gate's exact decision on four requests at each:
 * `status level-index: GET /orders, POST /orders, GET /health, POST /health` (`ok` or the refusal's code).
 */
async function decisionsPerLevel(levels: string[], options: Omit<DegradationGateOptions, 'degradation'> = {}): Promise<string[]> {
  const degradation = new GracefulDegradation({ autoDegrade: false, minDwellMs: 0, levels });
  const gate = new DegradationGate({ degradation, ...options });
  const rows: string[] = [];
  for (const level of levels) {
    if (level !== levels[0]) await degradation.degrade(level);
    expect(gate.level).toBe(level);
    const requests = [['GET', '/orders'], ['POST', '/orders'], ['GET', '/health'], ['POST', '/health']] as const;
    const decisions = requests.map(([method, path]) => gate.check(method, path));
    const headers = decisions.map((d) => d.headers);
    expect(new Set(headers.map((h) => JSON.stringify(h))).size).toBe(1);
    const row = decisions.map((d) => d.refusal?.code ?? 'ok').join(', ');
    rows.push(`${level} ${String(headers[0]?.['x-degradation-level'])} ${String(headers[0]?.['x-service-status'])}: ${row}`);
  }
  gate.dispose();
  return rows;
}

describe('DegradationGate defaults per number of levels', () => {
  it('with one level, never refuses', () => {
    // GracefulDegradation wants two levels at least; a DegradationSource may have one.
    for (const only of ['normal', 'read-only']) {
      const source = { getLevels: () => [only], getCurrentState: () => ({ level: only, levelIndex: 0 }), on: () => () => undefined } as unknown as DegradationSource;
      const gate = new DegradationGate({ degradation: source });
      expect(gate.level).toBe(only);
      for (const [method, path] of [['GET', '/orders'], ['POST', '/orders'], ['DELETE', '/health']]) {
        expect(gate.check(method as string, path as string)).toEqual({
          headers: { 'x-degradation-level': '0', 'x-service-status': 'operational' },
          headerList: ['x-degradation-level', '0', 'x-service-status', 'operational'],
          refusal: undefined,
        });
      }
    }
  });

  it('with two levels, the degraded level refuses writes only: there is no emergency level', async () => {
    expect(await decisionsPerLevel(['normal', 'degraded'])).toEqual([
      'normal 0 operational: ok, ok, ok, ok',
      'degraded 1 read-only: ok, READ_ONLY, ok, READ_ONLY',
    ]);
  });

  it('with two levels, an explicit emergency level still applies', async () => {
    expect(await decisionsPerLevel(['normal', 'degraded'], { emergencyLevel: 'degraded' })).toEqual([
      'normal 0 operational: ok, ok, ok, ok',
      'degraded 1 emergency: EMERGENCY_MODE, READ_ONLY, ok, READ_ONLY',
    ]);
  });

  it('with three levels, read-only from the second and emergency at the third', async () => {
    expect(await decisionsPerLevel(['normal', 'degraded', 'critical'])).toEqual([
      'normal 0 operational: ok, ok, ok, ok',
      'degraded 1 read-only: ok, READ_ONLY, ok, READ_ONLY',
      'critical 2 emergency: EMERGENCY_MODE, READ_ONLY, ok, READ_ONLY',
    ]);
  });

  it('with three levels whose last is "read-only", the defaulted emergency level is dropped rather than refuse reads there', async () => {
    expect(await decisionsPerLevel(['normal', 'degraded', 'read-only'])).toEqual([
      'normal 0 operational: ok, ok, ok, ok',
      'degraded 1 degraded: ok, ok, ok, ok',
      'read-only 2 read-only: ok, READ_ONLY, ok, READ_ONLY',
    ]);
  });

  it('an explicit read-only level on the most severe level drops the defaulted emergency level', async () => {
    expect(await decisionsPerLevel(['full', 'reduced', 'minimal', 'emergency'], { readOnlyLevel: 'emergency' })).toEqual([
      'full 0 operational: ok, ok, ok, ok',
      'reduced 1 degraded: ok, ok, ok, ok',
      'minimal 2 degraded: ok, ok, ok, ok',
      'emergency 3 read-only: ok, READ_ONLY, ok, READ_ONLY',
    ]);
  });

  it('an explicit emergency level less severe than the defaulted read-only level brings read-only down to it', async () => {
    expect(await decisionsPerLevel(['full', 'reduced', 'minimal', 'emergency'], { emergencyLevel: 'reduced' })).toEqual([
      'full 0 operational: ok, ok, ok, ok',
      'reduced 1 emergency: EMERGENCY_MODE, READ_ONLY, ok, READ_ONLY',
      'minimal 2 emergency: EMERGENCY_MODE, READ_ONLY, ok, READ_ONLY',
      'emergency 3 emergency: EMERGENCY_MODE, READ_ONLY, ok, READ_ONLY',
    ]);
  });

  it('with the four default levels, read-only from "minimal" and emergency at "emergency"', async () => {
    expect(await decisionsPerLevel([...new GracefulDegradation({ autoDegrade: false }).getLevels()])).toEqual([
      'full 0 operational: ok, ok, ok, ok',
      'reduced 1 degraded: ok, ok, ok, ok',
      'minimal 2 read-only: ok, READ_ONLY, ok, READ_ONLY',
      'emergency 3 emergency: EMERGENCY_MODE, READ_ONLY, ok, READ_ONLY',
    ]);
  });

  it('with five levels, read-only from the level named "read-only"', async () => {
    expect(await decisionsPerLevel(['normal', 'reduced', 'read-only', 'minimal', 'emergency'])).toEqual([
      'normal 0 operational: ok, ok, ok, ok',
      'reduced 1 degraded: ok, ok, ok, ok',
      'read-only 2 read-only: ok, READ_ONLY, ok, READ_ONLY',
      'minimal 3 read-only: ok, READ_ONLY, ok, READ_ONLY',
      'emergency 4 emergency: EMERGENCY_MODE, READ_ONLY, ok, READ_ONLY',
    ]);
  });

  it('serves with one shared decision object per level', async () => {
    const degradation = new GracefulDegradation({ autoDegrade: false, minDwellMs: 0, levels: ['normal', 'degraded'] });
    const gate = new DegradationGate({ degradation });
    const served = gate.check('GET', '/orders');
    expect(gate.check('POST', '/x')).toBe(served);
    expect(Object.isFrozen(served)).toBe(true);
    await degradation.degrade('degraded');
    const degraded = gate.check('GET', '/orders');
    expect(degraded).not.toBe(served);
    expect(gate.check('GET', '/other')).toBe(degraded);
    expect(degraded).toEqual({
      headers: { 'x-degradation-level': '1', 'x-service-status': 'read-only' },
      headerList: ['x-degradation-level', '1', 'x-service-status', 'read-only'],
      refusal: undefined,
    });
    gate.dispose();
  });
});

describe('DegradationGate', () => {
  it('with the default levels, refuses writes from "minimal" and serves only /health in "emergency"', async () => {
    const degradation = new GracefulDegradation({ autoDegrade: false });
    const gate = new DegradationGate({ degradation });
    expect(gate.check('POST', '/orders')).toEqual({
      headers: { 'x-degradation-level': '0', 'x-service-status': 'operational' },
      headerList: ['x-degradation-level', '0', 'x-service-status', 'operational'],
      refusal: undefined,
    });
    await degradation.degrade('reduced');
    expect(gate.check('delete', '/orders/1')).toMatchObject({ headers: { 'x-degradation-level': '1', 'x-service-status': 'degraded' }, refusal: undefined });
    await degradation.degrade('minimal');
    const refused = gate.check('patch', '/orders/1');
    expect(refused.headers['x-service-status']).toBe('read-only');
    expect(refused.headerList).toEqual(['x-degradation-level', '2', 'x-service-status', 'read-only']);
    expect(refused.refusal).toMatchObject({ status: 503, code: 'READ_ONLY', retryAfterMs: 300_000 });
    expect(gate.check('GET', '/orders/1').refusal).toBeUndefined();
    await degradation.degrade('emergency');
    expect(gate.level).toBe('emergency');
    expect(gate.check('GET', '/orders/1').refusal).toMatchObject({ code: 'EMERGENCY_MODE', extensions: { availableEndpoints: ['/health/*'] } });
    expect(gate.check('GET', '/health').refusal).toBeUndefined();
    expect(gate.check('GET', '/health/ready').refusal).toBeUndefined();
    expect(gate.check('GET', '/healthz').refusal).toBeDefined();
    expect(gate.check('POST', '/health').refusal).toMatchObject({ code: 'READ_ONLY' });
    gate.dispose();
    await degradation.forceRecover();
    expect(gate.level).toBe('emergency');
  });

  it('matches exact paths and :param segments, and honours explicit levels, methods and Retry-After', async () => {
    const degradation = new GracefulDegradation({ autoDegrade: false, levels: ['ok', 'ro', 'sos', 'worse'] });
    const gate = new DegradationGate({
      degradation,
      readOnlyLevel: 'ro',
      emergencyLevel: 'sos',
      allowInEmergency: ['/status', '/quotes/:id'],
      writeMethods: ['post'],
      retryAfterMs: 1_500,
    });
    await degradation.degrade('ro');
    expect(gate.check('PUT', '/quotes/1').refusal).toBeUndefined();
    expect(gate.check('POST', '/quotes').refusal?.retryAfterMs).toBe(1_500);
    await degradation.degrade('worse');
    expect(gate.check('GET', '/status').headers).toEqual({ 'x-degradation-level': '3', 'x-service-status': 'emergency' });
    expect(gate.check('GET', '/status').refusal).toBeUndefined();
    expect(gate.check('GET', '/quotes/42').refusal).toBeUndefined();
    expect(gate.check('GET', '/quotes/').refusal).toBeDefined();
    expect(gate.check('GET', '/quotes/42/items').refusal).toBeDefined();
    expect(gate.check('GET', '/status/x').refusal).toBeDefined();
    gate.dispose();
  });

  it('reports every bad option with its path', () => {
    const degradation = new GracefulDegradation({ autoDegrade: false });
    let error: unknown;
    try {
      new DegradationGate({ degradation, readOnlyLevel: 'nope', emergencyLevel: 'never', allowInEmergency: ['/ok', ''], writeMethods: 'POST' as never, retryAfterMs: -1 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual(['readOnlyLevel', 'emergencyLevel', 'allowInEmergency[1]', 'writeMethods', 'retryAfterMs']);
    expect(() => new DegradationGate({} as never)).toThrow(/degradation/);
  });

  it('rejects the first level (full service) as the read-only or emergency level (regression: full service refused writes while saying operational)', () => {
    const degradation = new GracefulDegradation({ autoDegrade: false });
    const first = degradation.getLevels()[0] as string;
    const issuesOf = (options: Omit<DegradationGateOptions, 'degradation'>): unknown => {
      try {
        new DegradationGate({ degradation, ...options }).dispose();
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidOptionsError);
        return (e as InvalidOptionsError).issues;
      }
      return [];
    };
    expect(issuesOf({ emergencyLevel: first })).toEqual([{ path: 'emergencyLevel', expected: `a level more severe than ${first}`, received: JSON.stringify(first) }]);
    expect(issuesOf({ readOnlyLevel: first })).toEqual([{ path: 'readOnlyLevel', expected: `a level more severe than ${first}`, received: JSON.stringify(first) }]);
    expect(issuesOf({ readOnlyLevel: first, emergencyLevel: first })).toEqual([
      { path: 'readOnlyLevel', expected: `a level more severe than ${first}`, received: JSON.stringify(first) },
      { path: 'emergencyLevel', expected: `a level more severe than ${first}`, received: JSON.stringify(first) },
    ]);
    expect(() => new DegradationGate({ degradation, emergencyLevel: first })).toThrow(`emergencyLevel: expected a level more severe than ${first}`);
    // The second level is fine for both.
    const second = degradation.getLevels()[1] as string;
    expect(issuesOf({ readOnlyLevel: second, emergencyLevel: second })).toEqual([]);
  });
});
