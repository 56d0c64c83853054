import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { ChaosControl } from '../../../src/chaos/chaos-control.js';
import {
  ChaosExperiments,
  ChaosMonkey,
  type ChaosMonkeyOptions,
  type ExperimentRun,
  type GameDayReport,
} from '../../../src/chaos/experiments/index.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { track } from '../../support/promises.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

const SATURDAY = Date.parse('2024-06-01T12:00:00Z');

function setup(options: ChaosMonkeyOptions = {}, start = SATURDAY) {
  const clock = new VirtualClock(start);
  const control = new ChaosControl({ environment: 'test', enabled: true });
  const monkey = new ChaosMonkey({ control, clock, ...options });
  const log: string[] = [];
  /** A seed-style experiment (inject / rollback) logging what happens. */
  const seedStyle = (name: string, behaviour: { fails?: boolean; durationMs?: number } = {}) => ({
    name,
    description: `${name} experiment`,
    category: 'network',
    severity: 'low' as const,
    durationMs: behaviour.durationMs ?? 60_000,
    inject: async (options: Record<string, unknown>) => {
      log.push(`inject ${name} ${JSON.stringify(options.intensity ?? null)} at ${clock.now() - start}`);
      if (behaviour.fails) throw new Error(`${name} could not inject`);
    },
    rollback: async () => void log.push(`rollback ${name} at ${clock.now() - start}`),
  });
  return { clock, control, monkey, log, seedStyle };
}

describe('ChaosMonkey (seeds 000/001)', () => {
  it('registers and runs seed-style experiments, passing the options to inject and rollback', async () => {
    const { clock, monkey, log, seedStyle } = setup();
    monkey.registerExperiment(seedStyle('network-latency'));
    expect(monkey.getExperimentNames()).toEqual(['network-latency']);
    expect(monkey.isSafeToRunChaos()).toBe(true);
    const run = track(monkey.runExperiment('network-latency', { intensity: 'low', durationMs: 30_000 }));
    await clock.advanceAsync(30_000);
    expect(log).toEqual(['inject network-latency "low" at 0', 'rollback network-latency at 30000']);
    expect((run.value as ExperimentRun).status).toBe('succeeded');
    expect((run.value as ExperimentRun).faultType).toBe('network');
    expect(monkey.getHistory().map((r) => [r.name, r.status])).toEqual([['network-latency', 'succeeded']]);
  });

  it('always rolls back, even when the injection throws (the seed finally block)', async () => {
    const { clock, monkey, log, seedStyle } = setup();
    monkey.registerExperiment(seedStyle('redis-failure', { fails: true }));
    const run = track(monkey.runExperiment('redis-failure'));
    await clock.advanceAsync(0);
    expect(log).toEqual(['inject redis-failure null at 0', 'rollback redis-failure at 0']);
    expect((run.value as ExperimentRun).status).toBe('failed');
    await expect(monkey.runExperiment('unknown')).rejects.toThrow('Unknown experiment: unknown');
    expect(() => monkey.registerExperiment({ ...seedStyle('bad'), inject: undefined as never, severity: 'extreme' as never })).toThrow(InvalidOptionsError);
    try {
      monkey.registerExperiment({ ...seedStyle('bad'), inject: undefined as never, severity: 'extreme' as never });
    } catch (error) {
      expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual(['severity', 'inject']);
    }
  });

  it('checks allowedFaults against the category and runs templates registered as definitions', async () => {
    const { clock, monkey, seedStyle } = setup({ allowedFaults: ['latency'] });
    monkey.registerExperiment(seedStyle('network-latency'));
    monkey.registerExperiment(ChaosExperiments.latencySpike('api', 100, 1_000));
    expect(monkey.checkSafety('network-latency').reasons).toEqual(['fault kind "network" is not allowed (allowed: latency)']);
    expect(monkey.checkSafety('latency-api').safe).toBe(true);
    const run = track(monkey.runExperiment('latency-api'));
    await clock.advanceAsync(1_000);
    expect((run.value as ExperimentRun).status).toBe('succeeded');
  });
});

describe('ChaosMonkey game days', () => {
  it('runs the listed experiments one after the other and reports', async () => {
    const store = new MemoryStore();
    const { clock, monkey, log, seedStyle } = setup({ store });
    monkey.registerExperiment(seedStyle('a', { durationMs: 1_000 }));
    monkey.registerExperiment(seedStyle('b', { durationMs: 2_000 }));
    const report = track(monkey.scheduleGameDay(['a', 'missing', 'b']));
    await clock.runAllAsync();
    expect(log).toEqual(['inject a null at 0', 'rollback a at 1000', 'inject b null at 1000', 'rollback b at 3000']);
    const r = report.value as GameDayReport;
    expect(r).toMatchObject({ name: 'game-day', status: 'completed', startedAt: SATURDAY, endedAt: SATURDAY + 3_000 });
    expect(r.runs.map((x) => x.name)).toEqual(['a', 'b']);
    expect(r.skipped).toEqual([{ name: 'missing', reason: 'unknown experiment "missing"' }]);
    const [event] = await store.getChaosEvents({ experimentId: `game-day:${r.id}` });
    expect(event).toMatchObject({ type: 'game-day', data: { status: 'completed', runs: [{ name: 'a' }, { name: 'b' }] } });
  });

  it('runs only inside the allowed windows and only when it is safe', async () => {
    const { clock, control, monkey, log, seedStyle } = setup();
    monkey.registerExperiment(seedStyle('a', { durationMs: 1_000 }));
    const outside = await monkey.scheduleGameDay(['a'], { windows: [{ days: ['sun'], startHour: 2, endHour: 4 }] });
    expect(outside).toMatchObject({ status: 'skipped', reason: 'outside the allowed windows', skipped: [{ name: 'a', reason: 'outside the allowed windows' }] });
    control.disable();
    const unsafe = await monkey.scheduleGameDay(['a']);
    expect(unsafe).toMatchObject({ status: 'skipped', reason: 'not safe to run chaos: the chaos kill switch is off (ChaosControl not enabled)' });
    expect(log).toEqual([]);
    void clock;
  });

  it('stops after a failed experiment, and when the window closes', async () => {
    const { clock, monkey, log, seedStyle } = setup({}, Date.parse('2024-06-02T03:59:00Z'));
    monkey.registerExperiment(seedStyle('fails', { fails: true }));
    monkey.registerExperiment(seedStyle('long', { durationMs: 120_000 }));
    monkey.registerExperiment(seedStyle('later', { durationMs: 1_000 }));
    const failed = track(monkey.scheduleGameDay(['fails', 'later']));
    await clock.runAllAsync();
    expect(failed.value).toMatchObject({ status: 'stopped', reason: 'stopped after "fails" ended failed', skipped: [{ name: 'later' }] });
    log.length = 0;
    const windows = [{ days: ['sun' as const], startHour: 2, endHour: 4 }];
    const closing = track(monkey.scheduleGameDay(['long', 'later'], { windows }));
    await clock.runAllAsync();
    expect(closing.value).toMatchObject({ status: 'stopped', reason: 'the allowed window closed', skipped: [{ name: 'later', reason: 'the allowed window closed' }] });
    expect(log.map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(['inject long', 'rollback long']);
  });

  it('takes the fleet game-day lock for the whole game day, and skips when another instance holds it', async () => {
    const events: string[] = [];
    let held = false;
    const lock = {
      acquireGameDay: async (name: string) => {
        if (held) throw new Error('game day "other" is running on instance-2');
        held = true;
        events.push(`acquired ${name}`);
        return { signal: new AbortController().signal, release: async () => void ((held = false), events.push('released')) };
      },
    };
    const { clock, monkey, seedStyle } = setup({ gameDayLock: lock, maxConcurrentExperiments: 2 });
    monkey.registerExperiment(seedStyle('a', { durationMs: 1_000 }));
    const first = track(monkey.scheduleGameDay(['a'], { name: 'friday' }));
    await clock.advanceAsync(0);
    const second = await monkey.scheduleGameDay(['a']);
    expect(second).toMatchObject({ status: 'skipped', reason: 'could not take the game-day lock: Error: game day "other" is running on instance-2' });
    await clock.runAllAsync();
    expect((first.value as GameDayReport).status).toBe('completed');
    expect(events).toEqual(['acquired friday', 'released']);
  });

  it('runs game days on a cron schedule on the injected clock', async () => {
    let healthy = true;
    const reports: GameDayReport[] = [];
    const { clock, monkey, log, seedStyle } = setup({ health: { getSystemHealth: () => (healthy ? { overall: 'healthy', score: 100 } : { overall: 'unhealthy', score: 10 }) } });
    monkey.registerExperiment(seedStyle('a', { durationMs: 60_000 }));
    // Every Sunday at 2 AM (the seed's schedule), inside a Sunday 2-4 AM window.
    const schedule = monkey.scheduleGameDay(['a'], {
      cron: '0 2 * * 0',
      timezone: 'UTC',
      windows: [{ days: ['sun'], startHour: 2, endHour: 4 }],
      onReport: (r) => reports.push(r),
    });
    expect(schedule.running).toBe(true);
    const sunday2am = Date.parse('2024-06-02T02:00:00Z');
    expect(schedule.nextRunAt()).toBe(sunday2am);
    await clock.advanceAsync(sunday2am - SATURDAY - 1);
    expect(log).toEqual([]);
    await clock.advanceAsync(1);
    expect(log).toEqual([`inject a null at ${sunday2am - SATURDAY}`]);
    await clock.advanceAsync(60_000);
    expect(reports.map((r) => [r.status, r.startedAt])).toEqual([['completed', sunday2am]]);
    // The next Sunday the system is unhealthy: the game day is skipped.
    healthy = false;
    await clock.advanceAsync(7 * 24 * 3_600_000);
    expect(reports.map((r) => r.status)).toEqual(['completed', 'skipped']);
    expect(reports[1]?.reason).toBe('not safe to run chaos: system health is already unhealthy (score 10)');
    expect(schedule.reports()).toHaveLength(2);
    monkey.dispose();
    expect(schedule.running).toBe(false);
    expect(clock.pendingTimers).toBe(0);
    expect(() => monkey.scheduleGameDay(['a'], { cron: 'not a cron' })).toThrow(/cron: expected a valid cron pattern/);
  });
});
