import { afterEach, describe, expect, it, vi } from 'vitest';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import type { Clock, ScheduleOptions } from '../../src/core/clock.js';
import { InvalidOptionsError } from '../../src/core/options.js';
import {
  GracefulDegradation,
  type GracefulDegradationConfig,
  type HealthSource,
  type LevelChange,
  type LevelHookContext,
  type DegradationRule,
  type ThresholdOperator,
  type DegradationEvent,
} from '../../src/degradation/index.js';
import { HealthMonitor } from '../../src/health/health-monitor.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

class FakeHealth implements HealthSource {
  score = 100;
  getSystemHealth(): { score: number; overall: string } {
    return { score: this.score, overall: this.score >= 80 ? 'healthy' : this.score >= 50 ? 'degraded' : 'unhealthy' };
  }
}

function rule(operator: ThresholdOperator, value: number, targetLevel: string, extra: Partial<DegradationRule> = {}): DegradationRule {
  return { condition: { type: 'threshold', metric: 'health_score', operator, value }, targetLevel, ...extra };
}

/** The seed-style ladder: below 80 reduced, below 60 minimal, below 30 emergency. */
const ladder = [rule('<', 30, 'emergency'), rule('<', 80, 'reduced'), rule('<', 60, 'minimal')];

function setup(config: GracefulDegradationConfig = {}, clock = new VirtualClock()) {
  const health = new FakeHealth();
  const d = new GracefulDegradation({ clock, ...config });
  d.setHealthMonitor(health);
  const changes: LevelChange[] = [];
  d.on('levelChange', (c) => changes.push(c));
  const steps = (): string[] => changes.map((c) => `${c.at}: ${c.from} -> ${c.to}`);
  return { clock, health, d, changes, steps };
}

function silenceWarnings() {
  return vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('GracefulDegradation levels and manual control', () => {
  it('starts at the first level with every declared feature on', () => {
    const clock = new VirtualClock(1_000);
    const d = new GracefulDegradation({ clock, features: [{ name: 'a', enabled: true, degradationLevels: ['minimal'], priority: 5 }] });
    expect(d.getLevels()).toEqual(['full', 'reduced', 'minimal', 'emergency']);
    expect(d.getCurrentState()).toEqual({
      level: 'full',
      levelIndex: 0,
      since: 1_000,
      reason: 'initial',
      trigger: 'manual',
      features: { a: true },
      flags: { a: true },
      override: null,
    });
  });

  it('passes through each intermediate level, running onExit / onEnter in order both ways', async () => {
    const log: string[] = [];
    const contexts: LevelHookContext[] = [];
    const hooks: GracefulDegradationConfig['hooks'] = {};
    for (const level of ['full', 'reduced', 'minimal', 'emergency']) {
      hooks[level] = {
        onEnter: (ctx) => void (log.push(`enter ${level}`), contexts.push(ctx)),
        onExit: () => void log.push(`exit ${level}`),
      };
    }
    const { d, changes, clock } = setup({ hooks });
    clock.advance(10);
    await d.degrade('minimal', 'load', 'manual');
    expect(log).toEqual(['exit full', 'enter reduced', 'exit reduced', 'enter minimal']);
    expect(changes).toEqual([
      { from: 'full', to: 'reduced', target: 'minimal', reason: 'load', trigger: 'manual', at: 10 },
      { from: 'reduced', to: 'minimal', target: 'minimal', reason: 'load', trigger: 'manual', at: 10 },
    ]);
    expect(contexts[0]).toEqual({ level: 'reduced', from: 'full', to: 'reduced', direction: 'degrade', reason: 'load', trigger: 'manual' });
    log.length = 0;
    await d.forceRecover('all clear');
    expect(log).toEqual(['exit minimal', 'enter reduced', 'exit reduced', 'enter full']);
    expect(contexts.at(-1)).toEqual({ level: 'full', from: 'reduced', to: 'full', direction: 'recover', reason: 'all clear', trigger: 'manual' });
    expect(d.getCurrentState()).toMatchObject({ level: 'full', reason: 'all clear', trigger: 'manual', since: 10 });
  });

  it('changes level synchronously when no hook returns a promise', () => {
    const { d } = setup();
    void d.degrade('emergency', 'now');
    expect(d.getCurrentState().level).toBe('emergency');
  });

  it('awaits async hooks in order, the level switching before onEnter runs', async () => {
    const log: string[] = [];
    const clock = new VirtualClock();
    const wait = (ms: number) => new Promise<void>((resolve) => clock.schedule(resolve, ms));
    const { d } = setup(
      {
        hooks: {
          full: { onExit: async () => (log.push(`exit full @${clock.now()}`), wait(100)) },
          reduced: { onEnter: async () => (log.push(`enter reduced @${clock.now()}`), wait(1_000)), onExit: () => void log.push(`exit reduced @${clock.now()}`) },
          minimal: { onEnter: () => void log.push(`enter minimal @${clock.now()}`) },
        },
      },
      clock,
    );
    let done = false;
    const transition = d.degrade('minimal', 'slow').then(() => (done = true));
    expect(d.getCurrentState().level).toBe('full');
    await clock.advanceAsync(100);
    expect(d.getCurrentState().level).toBe('reduced');
    expect(done).toBe(false);
    await clock.advanceAsync(1_000);
    await transition;
    expect(d.getCurrentState().level).toBe('minimal');
    expect(log).toEqual(['exit full @0', 'enter reduced @100', 'exit reduced @1100', 'enter minimal @1100']);
  });

  it('reports throwing, rejecting and timed-out hooks and completes the transition', async () => {
    const warn = silenceWarnings();
    const clock = new VirtualClock();
    const { d } = setup(
      {
        hookTimeoutMs: 500,
        hooks: {
          full: { onExit: () => { throw new Error('boom'); } },
          reduced: { onEnter: () => Promise.reject(new Error('nope')) },
          minimal: { onEnter: () => new Promise<void>(() => undefined) },
        },
      },
      clock,
    );
    const errors: string[] = [];
    d.on('hookError', ({ level, hook, error }) => errors.push(`${level}.${hook}: ${(error as Error).message}`));
    const transition = d.degrade('emergency');
    await clock.advanceAsync(499);
    expect(d.getCurrentState().level).toBe('minimal');
    await clock.advanceAsync(1);
    await transition;
    expect(d.getCurrentState().level).toBe('emergency');
    expect(errors).toEqual(['full.onExit: boom', 'reduced.onEnter: nope', 'minimal.onEnter: timed out after 500 ms']);
    expect(d.getStatistics().hookFailures).toBe(3);
    expect(warn).toHaveBeenCalledTimes(3);
    expect(warn.mock.calls[0]?.[0]).toBe('GracefulDegradation "degradation" hook full.onExit threw: boom');
    expect(clock.pendingTimers).toBe(0);
  });

  it('retargets a transition in progress: a recovery requested mid-way turns it around after the current step', async () => {
    const clock = new VirtualClock();
    const { d, changes } = setup({ hooks: { reduced: { onEnter: () => new Promise<void>((r) => clock.schedule(r, 1_000)) } } }, clock);
    const first = d.degrade('emergency', 'incident');
    expect(d.getCurrentState().level).toBe('reduced');
    const second = d.forceRecover('false alarm');
    await clock.advanceAsync(1_000);
    await Promise.all([first, second]);
    expect(changes.map((c) => [c.from, c.to, c.target, c.reason])).toEqual([
      ['full', 'reduced', 'emergency', 'incident'],
      ['reduced', 'full', 'full', 'false alarm'],
    ]);
  });

  it('stop() stops awaiting hooks so the transition ends and no timer is left', async () => {
    const clock = new VirtualClock();
    const { d } = setup({ hooks: { reduced: { onEnter: () => new Promise<void>(() => undefined) } } }, clock);
    d.start();
    const transition = d.degrade('minimal');
    expect(clock.pendingTimers).toBe(2);
    d.stop();
    await transition;
    expect(d.getCurrentState().level).toBe('minimal');
    expect(clock.pendingTimers).toBe(0);
  });

  it('stop() mid-transition arms no hook timer for the remaining steps (regression: a keepAlive timer was left)', async () => {
    const clock = new VirtualClock();
    const hang = (): Promise<void> => new Promise<void>(() => undefined);
    const entered: string[] = [];
    const hook = (context: LevelHookContext): Promise<void> => {
      entered.push(context.level);
      return hang();
    };
    const degradation = new GracefulDegradation({
      clock,
      hooks: { reduced: { onEnter: hook }, minimal: { onEnter: hook }, emergency: { onEnter: hook } },
    });
    degradation.start();
    const transition = degradation.degrade('emergency');
    await new Promise((r) => setImmediate(r));
    expect(degradation.getCurrentState().level).toBe('reduced');
    degradation.stop();
    await new Promise((r) => setImmediate(r));
    await transition;
    expect(clock.pendingTimers).toBe(0);
    // The transition still reaches its target, calling (not awaiting) the remaining hooks.
    expect(degradation.getCurrentState().level).toBe('emergency');
    expect(entered).toEqual(['reduced', 'minimal', 'emergency']);
    expect(degradation.getStatistics().hookFailures).toBe(0);
  });

  it('after stop() mid-transition, a rejection of a hook no longer awaited is still reported', async () => {
    const warn = silenceWarnings();
    const clock = new VirtualClock();
    let rejectMinimal!: (error: Error) => void;
    const { d } = setup(
      {
        hooks: {
          reduced: { onEnter: () => new Promise<void>(() => undefined) },
          minimal: { onEnter: () => new Promise<void>((_, reject) => (rejectMinimal = reject)) },
        },
      },
      clock,
    );
    const errors: string[] = [];
    d.on('hookError', ({ level, hook, error }) => errors.push(`${level}.${hook}: ${(error as Error).message}`));
    const transition = d.degrade('minimal');
    d.stop();
    await transition;
    expect(d.getCurrentState().level).toBe('minimal');
    expect(clock.pendingTimers).toBe(0);
    rejectMinimal(new Error('late'));
    await new Promise((r) => setImmediate(r));
    expect(errors).toEqual(['minimal.onEnter: late']);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('awaits hooks again in a transition started after stop()', async () => {
    const clock = new VirtualClock();
    const { d } = setup({ hookTimeoutMs: 100, hooks: { reduced: { onEnter: () => new Promise<void>(() => undefined) } } }, clock);
    d.stop();
    const transition = d.degrade('minimal');
    expect(d.getCurrentState().level).toBe('reduced');
    expect(clock.pendingTimers).toBe(1);
    silenceWarnings();
    await clock.advanceAsync(100);
    await transition;
    expect(d.getCurrentState().level).toBe('minimal');
  });

  it('arms the hook timeout timer with keepAlive: false', () => {
    const clock = new VirtualClock();
    const options: (ScheduleOptions | undefined)[] = [];
    const spy: Clock = {
      now: () => clock.now(),
      schedule: (callback, delayMs, scheduleOptions) => {
        options.push(scheduleOptions);
        return clock.schedule(callback, delayMs, scheduleOptions);
      },
    };
    const d = new GracefulDegradation({ clock: spy, hooks: { reduced: { onEnter: () => new Promise<void>(() => undefined) } } });
    void d.degrade('reduced');
    expect(options).toEqual([{ keepAlive: false }]);
    d.stop();
  });

  it('refuses unknown levels and triggers', () => {
    const { d } = setup();
    expect(() => d.degrade('panic', 'x')).toThrow(RangeError);
    expect(() => d.setOverride('panic')).toThrow(/unknown level "panic"; levels are "full", "reduced", "minimal", "emergency"/);
    expect(() => d.degrade('minimal', 'x', 'robot' as 'manual')).toThrow(RangeError);
    expect(() => d.setHealthMonitor({} as HealthSource)).toThrow(TypeError);
    expect(d.getCurrentState().level).toBe('full');
  });
});

describe('GracefulDegradation automatic adjustment', () => {
  it('the most severe matching rule wins, whatever the rule order', async () => {
    const { d, health, steps } = setup({ rules: ladder });
    health.score = 25;
    const result = await d.evaluate();
    expect(result).toEqual({ action: 'degrade', from: 'full', to: 'emergency', rule: 'health_score < 30', metrics: { health_score: 25 } });
    expect(steps()).toEqual(['0: full -> reduced', '0: reduced -> minimal', '0: minimal -> emergency']);
    expect(d.getCurrentState()).toMatchObject({ level: 'emergency', trigger: 'automatic', reason: 'rule "health_score < 30" matched (health_score = 25)' });
  });

  it('evaluates every recoveryCheckInterval and recovers one level at a time after minDwellMs', () => {
    const { d, health, clock, steps } = setup({ rules: ladder, recoveryCheckInterval: 5_000, minDwellMs: 10_000 });
    d.start();
    expect(clock.pendingTimers).toBe(1);
    health.score = 45;
    clock.advance(4_999);
    expect(d.getCurrentState().level).toBe('full');
    clock.advance(1);
    expect(d.getCurrentState().level).toBe('minimal');
    health.score = 100;
    clock.advance(20_000);
    expect(steps()).toEqual(['5000: full -> reduced', '5000: reduced -> minimal', '15000: minimal -> reduced', '25000: reduced -> full']);
    d.stop();
    expect(clock.pendingTimers).toBe(0);
    clock.advance(50_000);
    expect(steps()).toHaveLength(4);
  });

  it('does not recover until the metric clears the threshold by the hysteresis margin', async () => {
    const { d, health, steps } = setup({ rules: [rule('<', 50, 'emergency')], hysteresis: 5, minDwellMs: 0 });
    health.score = 40;
    await d.evaluate();
    health.score = 52;
    expect(await d.evaluate()).toMatchObject({ action: 'hold', heldBy: 'hysteresis', rule: 'health_score < 50' });
    health.score = 54.9;
    expect(await d.evaluate()).toMatchObject({ action: 'hold', heldBy: 'hysteresis' });
    health.score = 55;
    expect(await d.evaluate()).toMatchObject({ action: 'recover', from: 'emergency', to: 'minimal' });
    expect(await d.evaluate()).toMatchObject({ action: 'recover', from: 'minimal', to: 'reduced' });
    expect(await d.evaluate()).toMatchObject({ action: 'recover', from: 'reduced', to: 'full' });
    expect(await d.evaluate()).toMatchObject({ action: 'hold', heldBy: 'steady' });
    expect(steps()).toHaveLength(6);
  });

  it('uses reported metrics and a rule’s own hysteresis over the instance’s', async () => {
    const { d, steps } = setup({ rules: [{ condition: { type: 'threshold', metric: 'error_rate', operator: '>', value: 0.1 }, targetLevel: 'minimal', hysteresis: 0.02 }], hysteresis: 5, minDwellMs: 0 });
    expect(await d.evaluate()).toMatchObject({ action: 'hold', heldBy: 'steady', metrics: { health_score: 100 } });
    d.reportMetric('error_rate', 0.15);
    expect(await d.evaluate()).toMatchObject({ action: 'degrade', to: 'minimal', metrics: { health_score: 100, error_rate: 0.15 } });
    d.reportMetric('error_rate', 0.09);
    expect(await d.evaluate()).toMatchObject({ action: 'hold', heldBy: 'hysteresis' });
    d.reportMetric('error_rate', 0.08);
    expect(await d.evaluate()).toMatchObject({ action: 'recover', to: 'reduced' });
    expect(steps()).toEqual(['0: full -> reduced', '0: reduced -> minimal', '0: minimal -> reduced']);
    expect(() => d.reportMetric('error_rate', Number.NaN)).toThrow(RangeError);
  });

  it('does not flap on an oscillating score, and recovers step by step once calm for minDwellMs', () => {
    const { d, health, clock, steps } = setup({ rules: [rule('<', 50, 'emergency')], recoveryCheckInterval: 5_000, minDwellMs: 30_000 });
    d.start();
    for (let k = 1; k <= 11; k++) {
      health.score = k % 2 === 1 ? 40 : 60;
      clock.advance(5_000);
    }
    expect(steps()).toEqual(['5000: full -> reduced', '5000: reduced -> minimal', '5000: minimal -> emergency']);
    health.score = 100; // last held at 55 000
    clock.advance(150_000);
    expect(steps().slice(3)).toEqual(['85000: emergency -> minimal', '115000: minimal -> reduced', '145000: reduced -> full']);
    d.stop();
  });

  it('holds even an immediate worsening until minDwellMs in the level (a fresh instance is not held)', async () => {
    const { d, health, clock, steps } = setup({ rules: ladder, minDwellMs: 10_000 });
    health.score = 70;
    expect(await d.evaluate()).toMatchObject({ action: 'degrade', to: 'reduced' });
    clock.advance(1_000);
    health.score = 20;
    expect(await d.evaluate()).toMatchObject({ action: 'hold', heldBy: 'dwell', rule: 'health_score < 30' });
    clock.advance(9_000);
    expect(await d.evaluate()).toMatchObject({ action: 'degrade', to: 'emergency' });
    expect(steps()).toEqual(['0: full -> reduced', '10000: reduced -> minimal', '10000: minimal -> emergency']);
  });

  it('leaves a manual level alone until minDwellMs has passed, then recovers automatically', async () => {
    const { d, clock } = setup({ rules: ladder, minDwellMs: 10_000 });
    void d.degrade('minimal', 'maintenance');
    clock.advance(9_999);
    expect(await d.evaluate()).toMatchObject({ action: 'hold', heldBy: 'dwell' });
    clock.advance(1);
    expect(await d.evaluate()).toMatchObject({ action: 'recover', to: 'reduced' });
    expect(d.getCurrentState()).toMatchObject({ trigger: 'automatic', reason: 'no rule matches' });
  });

  it('an override pins a level that evaluations leave alone', async () => {
    const { d, health, clock } = setup({ rules: [rule('<', 50, 'emergency')], minDwellMs: 0 });
    const overrides: (string | null)[] = [];
    d.on('overrideChange', ({ override }) => overrides.push(override));
    await d.setOverride('minimal');
    expect(d.getCurrentState()).toMatchObject({ level: 'minimal', override: 'minimal', reason: 'override: minimal', trigger: 'manual' });
    health.score = 10;
    expect(await d.evaluate()).toMatchObject({ action: 'none', heldBy: 'override' });
    await d.degrade('reduced', 'operator choice');
    expect(d.getCurrentState()).toMatchObject({ level: 'reduced', override: 'reduced' });
    clock.advance(1);
    await d.setOverride(null);
    expect(await d.evaluate()).toMatchObject({ action: 'degrade', from: 'reduced', to: 'emergency' });
    await d.setOverride('full');
    health.score = 0;
    expect(await d.evaluate()).toMatchObject({ action: 'none', heldBy: 'override', to: 'full' });
    await d.setOverride('emergency');
    await d.forceRecover();
    expect(d.getCurrentState()).toMatchObject({ level: 'full', override: null, reason: 'forced recovery' });
    expect(overrides).toEqual(['minimal', 'reduced', null, 'full', 'emergency', null]);
  });

  it('changes nothing when the health source fails, and reports it', async () => {
    const warn = silenceWarnings();
    const clock = new VirtualClock();
    const d = new GracefulDegradation({ clock, rules: ladder, minDwellMs: 0 });
    d.setHealthMonitor({ getSystemHealth: () => { throw new Error('monitor down'); } });
    await d.degrade('minimal');
    expect(await d.evaluate()).toMatchObject({ action: 'none', heldBy: 'source-error' });
    d.setHealthMonitor({ getSystemHealth: () => ({ score: Number.NaN, overall: 'unknown' }) });
    expect(await d.evaluate()).toMatchObject({ action: 'none', heldBy: 'source-error' });
    expect(d.getCurrentState().level).toBe('minimal');
    expect(warn.mock.calls.map((c) => c[0])).toEqual([
      'GracefulDegradation "degradation" health source getSystemHealth() threw: monitor down',
      'GracefulDegradation "degradation" health source getSystemHealth() threw: score is NaN, not a finite number',
    ]);
  });

  it('reads health_score from reportMetric without a monitor; a monitor wins', async () => {
    const d = new GracefulDegradation({ clock: new VirtualClock(), rules: ladder });
    d.reportMetric('health_score', 50);
    expect(await d.evaluate()).toMatchObject({ action: 'degrade', to: 'minimal' });
    const health = new FakeHealth();
    d.setHealthMonitor(health);
    expect((await d.evaluate()).metrics).toEqual({ health_score: 100 });
  });

  it('does nothing automatically when disabled or autoDegrade is false', async () => {
    for (const config of [{ enabled: false }, { autoDegrade: false }]) {
      const { d, health, clock } = setup({ rules: ladder, ...config });
      health.score = 0;
      expect(await d.evaluate()).toMatchObject({ action: 'none', heldBy: 'disabled' });
      d.start();
      expect(clock.pendingTimers).toBe(config.enabled === false ? 0 : 1);
      clock.advance(60_000);
      expect(d.getCurrentState().level).toBe('full');
      d.stop();
    }
  });

  it('skips an evaluation while a transition is in progress', async () => {
    const clock = new VirtualClock();
    const { d, health } = setup({ rules: ladder, minDwellMs: 0, hooks: { reduced: { onEnter: () => new Promise<void>((r) => clock.schedule(r, 10)) } } }, clock);
    void d.degrade('reduced');
    health.score = 0;
    expect(await d.evaluate()).toMatchObject({ action: 'none', heldBy: 'transition' });
    await clock.advanceAsync(10);
    expect(await d.evaluate()).toMatchObject({ action: 'degrade', to: 'emergency' });
  });
});

describe('GracefulDegradation features', () => {
  const features: GracefulDegradationConfig['features'] = [
    { name: 'advanced-analytics', enabled: true, degradationLevels: ['reduced'], priority: 10 },
    { name: 'recommendations', enabled: true, degradationLevels: ['minimal'], priority: 20 },
    { name: 'search', enabled: true, degradationLevels: ['emergency'], priority: 60 },
    { name: 'live-search', enabled: true, degradationLevels: [], priority: 95, dependencies: ['search'] },
    { name: 'checkout', enabled: true, degradationLevels: [], priority: 100 },
    { name: 'beta', enabled: false, degradationLevels: [], priority: 70 },
  ];
  const config: GracefulDegradationConfig = {
    features,
    minPriority: { emergency: 90 },
    rules: [rule('<', 50, 'minimal', { affectedFeatures: ['export-csv'] })],
  };
  const on = (d: GracefulDegradation) =>
    ['advanced-analytics', 'recommendations', 'search', 'live-search', 'checkout', 'beta', 'export-csv', 'undeclared'].filter((f) => d.isFeatureEnabled(f));

  it('turns features off by level (and every more severe one), priority floor, rule and dependency', async () => {
    const { d } = setup(config);
    expect(on(d)).toEqual(['advanced-analytics', 'recommendations', 'search', 'live-search', 'checkout', 'export-csv', 'undeclared']);
    await d.degrade('reduced');
    expect(on(d)).toEqual(['recommendations', 'search', 'live-search', 'checkout', 'export-csv', 'undeclared']);
    await d.degrade('minimal');
    expect(on(d)).toEqual(['search', 'live-search', 'checkout', 'undeclared']);
    await d.degrade('emergency');
    expect(on(d)).toEqual(['checkout']);
    expect(d.getStatistics().disabledFeatures).toEqual(['export-csv', 'advanced-analytics', 'recommendations', 'search', 'beta', 'live-search']);
  });

  it('emits featureChange after each step: turning off least important first, back on most important first', async () => {
    const { d } = setup(config);
    const log: string[] = [];
    d.on('levelChange', ({ to }) => log.push(`level ${to}`));
    d.on('featureChange', ({ feature, enabled }) => log.push(`${enabled ? '+' : '-'}${feature}`));
    await d.degrade('emergency');
    expect(log).toEqual([
      'level reduced', '-advanced-analytics',
      'level minimal', '-export-csv', '-recommendations',
      'level emergency', '-search', '-live-search',
    ]);
    log.length = 0;
    await d.forceRecover();
    expect(log).toEqual([
      'level minimal', '+live-search', '+search',
      'level reduced', '+recommendations', '+export-csv',
      'level full', '+advanced-analytics',
    ]);
  });

  it('feature flags: setFeatureEnabled switches a feature and its dependents', () => {
    const { d } = setup(config);
    const log: string[] = [];
    d.on('flagChange', ({ feature, enabled }) => log.push(`flag ${feature}=${enabled}`));
    d.on('featureChange', ({ feature, enabled }) => log.push(`${enabled ? '+' : '-'}${feature}`));
    d.setFeatureEnabled('search', false);
    d.setFeatureEnabled('search', false);
    d.setFeatureEnabled('search', true);
    d.setFeatureEnabled('beta', true);
    d.setFeatureEnabled('kill-switch', false);
    expect(log).toEqual([
      'flag search=false', '-search', '-live-search',
      'flag search=true', '+live-search', '+search',
      'flag beta=true', '+beta',
      'flag kill-switch=false',
    ]);
    expect(d.isFeatureEnabled('kill-switch')).toBe(false);
    expect(d.getCurrentState().flags).toMatchObject({ search: true, beta: true, 'kill-switch': false });
  });

  it('getFeatures lists every feature, most important first, with its effective levels', async () => {
    const { d } = setup(config);
    await d.degrade('minimal');
    const list = d.getFeatures();
    expect(list.map((f) => f.name)).toEqual(['checkout', 'live-search', 'beta', 'search', 'recommendations', 'advanced-analytics', 'export-csv']);
    expect(list.find((f) => f.name === 'advanced-analytics')).toEqual({
      name: 'advanced-analytics', enabled: true, available: false, priority: 10, degradationLevels: ['reduced', 'minimal', 'emergency'], dependencies: [],
    });
    expect(list.find((f) => f.name === 'export-csv')).toMatchObject({ priority: 0, available: false, degradationLevels: ['minimal', 'emergency'] });
    expect(list.find((f) => f.name === 'live-search')).toMatchObject({ degradationLevels: [], dependencies: ['search'] });
  });

  it('bounds the features and metrics it holds', () => {
    const d = new GracefulDegradation({ clock: new VirtualClock(), maxFeatures: 1, maxMetrics: 1 });
    d.setFeatureEnabled('a', true);
    expect(() => d.setFeatureEnabled('b', true)).toThrow(/maxFeatures \(1\)/);
    d.reportMetric('m', 1);
    d.reportMetric('m', 2);
    expect(() => d.reportMetric('n', 1)).toThrow(/maxMetrics \(1\)/);
  });
});

describe('GracefulDegradation capability levels', () => {
  it('uses the configured value, else the nearest less severe level’s, else the default curve; 0 when its feature is off', async () => {
    const { d } = setup({
      capabilities: { 'parallel-processing': { full: 100, reduced: 60, emergency: 10 }, batch: { full: 100, reduced: 50 } },
      features: [{ name: 'batch', enabled: true, degradationLevels: ['emergency'], priority: 1 }],
    });
    const read = () => [d.getCapabilityLevel('parallel-processing'), d.getCapabilityLevel('batch'), d.getCapabilityLevel('unknown')];
    expect(read()).toEqual([100, 100, 100]);
    await d.degrade('reduced');
    expect(read()).toEqual([60, 50, 75]);
    await d.degrade('minimal');
    expect(read()).toEqual([60, 50, 50]);
    await d.degrade('emergency');
    expect(read()).toEqual([10, 0, 25]);
  });

  it('spreads the default curve over any number of levels', async () => {
    const levels = ['l0', 'l1', 'l2', 'l3', 'l4'];
    const { d } = setup({ levels });
    const seen: number[] = [];
    for (const level of levels) {
      await d.degrade(level);
      seen.push(d.getCapabilityLevel('anything'));
    }
    expect(seen).toEqual([100, 80, 60, 40, 20]);
  });
});

describe('GracefulDegradation statistics', () => {
  it('counts time in each level, entries and transitions; history is bounded', async () => {
    const { d, clock } = setup({ historySize: 3 });
    clock.advance(1_000);
    await d.degrade('minimal', 'a');
    clock.advance(2_000);
    await d.degrade('emergency', 'b', 'automatic');
    clock.advance(500);
    await d.forceRecover();
    clock.advance(250);
    expect(d.getStatistics()).toEqual({
      currentLevel: 'full',
      timeInLevel: { full: 1_250, reduced: 0, minimal: 2_000, emergency: 500 },
      entries: { full: 2, reduced: 2, minimal: 2, emergency: 1 },
      transitions: 6,
      automaticTransitions: 1,
      manualTransitions: 5,
      degradedTime: 2_500,
      lastTransitionAt: 3_500,
      disabledFeatures: [],
      hookFailures: 0,
    });
    expect(d.getHistory().map((c) => `${c.at}: ${c.from} -> ${c.to}`)).toEqual(['3500: emergency -> minimal', '3500: minimal -> reduced', '3500: reduced -> full']);
  });
});

describe('GracefulDegradation restore', () => {
  it('starts from initialState: level, since, flags and override; dwell counts from since', async () => {
    const clock = new VirtualClock(100_000);
    const { d, steps } = setup(
      {
        rules: ladder,
        minDwellMs: 30_000,
        features: [{ name: 'recommendations', enabled: true, degradationLevels: ['emergency'], priority: 1 }],
        initialState: {
          level: 'minimal',
          since: 90_000,
          reason: 'saved',
          trigger: 'automatic',
          features: [{ name: 'recommendations', enabled: false }, { name: 'x-flag', enabled: false }],
          override: null,
        },
      },
      clock,
    );
    expect(d.getCurrentState()).toEqual({
      level: 'minimal',
      levelIndex: 2,
      since: 90_000,
      reason: 'saved',
      trigger: 'automatic',
      features: { recommendations: false, 'x-flag': false },
      flags: { recommendations: false, 'x-flag': false },
      override: null,
    });
    expect(await d.evaluate()).toMatchObject({ action: 'hold', heldBy: 'dwell' });
    clock.advance(20_000);
    expect(await d.evaluate()).toMatchObject({ action: 'recover', to: 'reduced' });
    expect(steps()).toEqual(['120000: minimal -> reduced']);
    expect(d.getStatistics().entries).toEqual({ full: 0, reduced: 1, minimal: 1, emergency: 0 });
  });

  it('round-trips getCurrentState() through initialState (flags, override; since clamped to now)', async () => {
    const clock = new VirtualClock(5_000);
    const first = new GracefulDegradation({ clock, features: [{ name: 'a', enabled: true, degradationLevels: ['reduced'], priority: 1 }] });
    await first.setOverride('reduced');
    first.setFeatureEnabled('b', false);
    const saved = first.getCurrentState();
    const second = new GracefulDegradation({ clock: new VirtualClock(1_000), features: [{ name: 'a', enabled: true, degradationLevels: ['reduced'], priority: 1 }], initialState: { ...saved, features: saved.flags } });
    expect(second.getCurrentState()).toEqual({ ...saved, since: 1_000 });
    expect(await second.evaluate()).toMatchObject({ heldBy: 'override' });
  });
});

describe('GracefulDegradation with the NestJS plan’s five levels', () => {
  it('walks down and back up the plan’s ladder with its feature switches and hooks', async () => {
    const calls: string[] = [];
    const levels = ['full-service', 'non-critical-off', 'cache-only', 'read-only', 'emergency-mode'];
    const { d, health, steps } = setup({
      levels,
      rules: [rule('<', 90, 'non-critical-off'), rule('<', 70, 'cache-only'), rule('<', 50, 'read-only'), rule('<', 30, 'emergency-mode')],
      features: [
        ...['recommendations', 'analytics', 'notifications'].map((name) => ({ name, enabled: true, degradationLevels: ['non-critical-off'], priority: 10 })),
        { name: 'real-time-pricing', enabled: true, degradationLevels: ['cache-only'], priority: 40 },
        { name: 'file-upload', enabled: true, degradationLevels: ['read-only'], priority: 50 },
        { name: 'writes', enabled: true, degradationLevels: ['read-only'], priority: 60 },
        { name: 'quote-search', enabled: true, degradationLevels: [], priority: 70 },
        { name: 'core-quote-view', enabled: true, degradationLevels: [], priority: 100 },
        { name: 'emergency-contact', enabled: true, degradationLevels: [], priority: 100 },
      ],
      minPriority: { 'emergency-mode': 100 },
      hooks: {
        'cache-only': { onEnter: () => void calls.push('cache.setAggressiveMode(true)'), onExit: () => void calls.push('cache.setAggressiveMode(false)') },
        'read-only': { onEnter: () => void calls.push('database.setReadOnly(true)', 'queue.pause(all)'), onExit: () => void calls.push('database.setReadOnly(false)', 'queue.resume(all)') },
      },
      hysteresis: 5,
      minDwellMs: 0,
    });
    const enabled = () => d.getFeatures().filter((f) => f.available).map((f) => f.name);
    const run = async (score: number) => {
      health.score = score;
      const r = await d.evaluate();
      return `${r.action} ${r.to}`;
    };
    expect(await run(95)).toBe('hold full-service');
    expect(await run(85)).toBe('degrade non-critical-off');
    expect(enabled()).toEqual(['core-quote-view', 'emergency-contact', 'quote-search', 'writes', 'file-upload', 'real-time-pricing']);
    expect(await run(45)).toBe('degrade read-only');
    expect(calls).toEqual(['cache.setAggressiveMode(true)', 'cache.setAggressiveMode(false)', 'database.setReadOnly(true)', 'queue.pause(all)']);
    expect(enabled()).toEqual(['core-quote-view', 'emergency-contact', 'quote-search']);
    expect(d.getCurrentState().levelIndex).toBe(3);
    expect(await run(25)).toBe('degrade emergency-mode');
    expect(enabled()).toEqual(['core-quote-view', 'emergency-contact']);
    expect(await run(33)).toBe('hold emergency-mode');
    expect(await run(40)).toBe('recover read-only');
    expect(await run(40)).toBe('hold read-only');
    calls.length = 0;
    expect(await run(80)).toBe('recover cache-only');
    expect(await run(80)).toBe('recover non-critical-off');
    expect(calls).toEqual(['database.setReadOnly(false)', 'queue.resume(all)', 'cache.setAggressiveMode(true)', 'cache.setAggressiveMode(false)']);
    expect(await run(80)).toBe('hold non-critical-off');
    expect(await run(96)).toBe('recover full-service');
    expect(enabled()).toHaveLength(9);
    expect(steps()).toEqual([
      '0: full-service -> non-critical-off',
      '0: non-critical-off -> cache-only',
      '0: cache-only -> read-only',
      '0: read-only -> emergency-mode',
      '0: emergency-mode -> read-only',
      '0: read-only -> cache-only',
      '0: cache-only -> non-critical-off',
      '0: non-critical-off -> full-service',
    ]);
  });
});

describe('GracefulDegradation seed events', () => {
  it('onEvent delivers level and feature changes in the seed shape', async () => {
    const clock = new VirtualClock(7);
    const d = new GracefulDegradation({ clock, name: 'api', features: [{ name: 'x', enabled: true, degradationLevels: ['reduced'], priority: 1 }] });
    const events: DegradationEvent[] = [];
    const off = d.onEvent((e) => events.push(e));
    await d.degrade('reduced', 'load');
    await d.forceRecover('ok');
    off();
    await d.degrade('reduced');
    expect(events).toEqual([
      { type: 'degradation-triggered', component: 'api', timestamp: new Date(7), data: { from: 'full', to: 'reduced', reason: 'load', trigger: 'manual' } },
      { type: 'feature-disabled', component: 'x', timestamp: new Date(7), data: { feature: 'x', enabled: false } },
      { type: 'degradation-recovered', component: 'api', timestamp: new Date(7), data: { from: 'reduced', to: 'full', reason: 'ok', trigger: 'manual' } },
      { type: 'feature-enabled', component: 'x', timestamp: new Date(7), data: { feature: 'x', enabled: true } },
    ]);
  });
});

describe('GracefulDegradation options', () => {
  it('names every bad field in one InvalidOptionsError', () => {
    let error: unknown;
    try {
      new GracefulDegradation({
        enabled: 'yes',
        autoDegrade: 1,
        recoveryCheckInterval: 0,
        hysteresis: -1,
        minDwellMs: -5,
        hookTimeoutMs: 0,
        maxFeatures: 0,
        maxMetrics: 1.5,
        historySize: 0,
        name: 3,
        clock: {},
        rules: [
          { condition: { type: 'range', metric: '', operator: '!=', value: Number.NaN }, targetLevel: 'full', affectedFeatures: [''], hysteresis: -1 },
          'x',
          {},
        ],
        features: [
          { name: 'a', enabled: 'no', priority: 'high', degradationLevels: ['nope'], dependencies: ['ghost'] },
          { name: 'a' },
          { name: 'b', dependencies: ['c'] },
          { name: 'c', dependencies: ['b'] },
        ],
        minPriority: { nope: 1, full: 'x' },
        capabilities: { cpu: { full: 101, nope: 5 }, mem: 3 },
        hooks: { nope: {}, full: { onEnter: 'x' } },
        initialState: { level: 'nope', since: 'x', features: { a: 'yes' }, override: 'nope' },
      } as unknown as GracefulDegradationConfig);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual([
      'enabled',
      'autoDegrade',
      'recoveryCheckInterval',
      'hysteresis',
      'minDwellMs',
      'hookTimeoutMs',
      'maxFeatures',
      'maxMetrics',
      'historySize',
      'name',
      'clock',
      'rules[0].condition.type',
      'rules[0].condition.metric',
      'rules[0].condition.operator',
      'rules[0].condition.value',
      'rules[0].targetLevel',
      'rules[0].affectedFeatures[0]',
      'rules[0].hysteresis',
      'rules[1]',
      'rules[2].condition',
      'rules[2].targetLevel',
      'features[0].enabled',
      'features[0].priority',
      'features[0].degradationLevels[0]',
      'features[1].name',
      'features[0].dependencies[0]',
      'features[2].dependencies[0]',
      'features[3].dependencies[0]',
      'minPriority.nope',
      'minPriority.full',
      'capabilities.cpu.full',
      'capabilities.cpu.nope',
      'capabilities.mem',
      'hooks.nope',
      'hooks.full.onEnter',
      'initialState.level',
      'initialState.since',
      'initialState.override',
      'initialState.features.a',
    ]);
  });

  it('skips level checks when the levels themselves are bad, and refuses a non-object config', () => {
    expect(() => new GracefulDegradation({ levels: ['a', 'a'], rules: [rule('<', 1, 'whatever')] })).toThrow(
      /levels: expected an array of at least 2 unique non-empty strings, received an array$/,
    );
    expect(() => new GracefulDegradation(null as unknown as GracefulDegradationConfig)).toThrow(/config: expected an object/);
  });
});

describe('seed README: Graceful Degradation (import path changed only)', () => {
  it('runs the Quick Start wiring and the Graceful Degradation / Degradation Not Recovering snippets', async () => {
    const clock = new VirtualClock();
    const ran: string[] = [];
    const runAdvancedAnalytics = async () => void ran.push('advanced');
    const runBasicAnalytics = async () => void ran.push('basic');
    // The seed's Configuration example, degradation section (plus a clock for the test).
    const degradationConfig = {
      enabled: true,
      autoDegrade: true,
      rules: [
        {
          condition: { type: 'threshold' as const, metric: 'health_score', operator: '<' as const, value: 50 },
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
      clock,
    };
    const healthMonitor = new HealthMonitor({ clock });
    const degradation = new GracefulDegradation(degradationConfig);
    degradation.setHealthMonitor(healthMonitor);
    healthMonitor.start();
    degradation.start();

    // --- Graceful Degradation snippet ---
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
    // --- end of snippet ---

    expect(ran).toEqual(['advanced']);
    expect(degradation.getCurrentState()).toMatchObject({ level: 'minimal', reason: 'High load detected', trigger: 'automatic' });
    expect([parallelismLevel, maxParallel]).toEqual([0, 0]);
    expect(degradation.isFeatureEnabled('analytics')).toBe(true);

    // A critical check failing drives the score to 0: once minDwellMs (default 30 s) in minimal has
    // passed, the next evaluation (every 5 s) takes the system to emergency.
    healthMonitor.registerCheck('database', () => false, { critical: true, intervalMs: 1_000 });
    await clock.advanceAsync(25_000);
    expect(degradation.getCurrentState().level).toBe('minimal');
    await clock.advanceAsync(5_000);
    expect(degradation.getCurrentState().level).toBe('emergency');
    expect(degradation.isFeatureEnabled('analytics')).toBe(false);

    // --- Degradation Not Recovering snippet ---
    const health = healthMonitor.getSystemHealth();
    expect(`Health score: ${health.score}`).toBe('Health score: 0');
    degradation.forceRecover();
    // --- end of snippet ---
    expect(degradation.getCurrentState().level).toBe('full');

    degradation.stop();
    healthMonitor.stop();
    expect(clock.pendingTimers).toBe(0);
  });
});
