import { describe, expect, it } from 'vitest';
import { DegradationGate } from '../../../src/adapters/http/degradation-gate.js';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { GracefulDegradation } from '../../../src/degradation/graceful-degradation.js';

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
});
