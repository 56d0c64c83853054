import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChaosControl } from '../../../src/chaos/chaos-control.js';
import { ChaosMonkey, type ExperimentRun, type GameDayReport, type GameDaySchedule, type GameDayScheduleOptions } from '../../../src/chaos/experiments/index.js';
import type { InvalidOptionsError } from '../../../src/core/options.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

const HOUR = 3_600_000;
/** Saturday 2024-06-01, 00:00 UTC. */
const MIDNIGHT = Date.parse('2024-06-01T00:00:00Z');

/** A small seeded generator (mulberry32), so the random picks are reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

let monkeys: ChaosMonkey[] = [];
afterEach(() => {
  for (const m of monkeys) m.dispose();
  monkeys = [];
  vi.restoreAllMocks();
});

function setup(start = MIDNIGHT - 1) {
  const clock = new VirtualClock(start);
  const store = new MemoryStore();
  const monkey = new ChaosMonkey({ control: new ChaosControl({ environment: 'test', enabled: true }), clock, store, maxConcurrentExperiments: 5 });
  monkeys.push(monkey);
  const log: string[] = [];
  const register = (name: string, behaviour: { fails?: boolean; durationMs?: number } = {}): void =>
    monkey.registerExperiment({
      name,
      category: 'network',
      severity: 'low',
      durationMs: behaviour.durationMs ?? 1_000,
      inject: (options: Record<string, unknown>) => {
        log.push(`inject ${name} at ${new Date(clock.now()).toISOString()}${options.intensity === undefined ? '' : ` intensity ${String(options.intensity)}`}`);
        if (behaviour.fails) throw new Error(`${name} could not inject`);
      },
      rollback: () => void log.push(`rollback ${name} at ${new Date(clock.now()).toISOString()}`),
    });
  const reports: GameDayReport[] = [];
  const schedule = (names: string[], options: Omit<GameDayScheduleOptions, 'cron'> & { cron?: string }): GameDaySchedule =>
    monkey.scheduleGameDay(names, { cron: '0 */4 * * *', onReport: (r) => reports.push(r), ...options });
  return { clock, store, monkey, log, register, reports, schedule };
}

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    return (error as InvalidOptionsError).issues.map((issue) => issue.path);
  }
  throw new Error('expected an InvalidOptionsError');
}

describe('GameDaySchedule timing', () => {
  it("fires '0 */4 * * *' at exactly 00, 04, 08, 12, 16 and 20 UTC across a day, and not in between", async () => {
    const { clock, log, register, reports, schedule } = setup();
    register('network-latency');
    const s = schedule(['network-latency'], {});
    expect(s.nextRunAt()).toBe(MIDNIGHT);
    const injected = (): string[] => log.filter((l) => l.startsWith('inject'));
    for (let h = 0; h < 24; h += 4) {
      // One millisecond before the firing: nothing yet.
      await clock.advanceAsync(MIDNIGHT + h * HOUR - 1 - clock.now());
      expect(injected()).toHaveLength(h / 4);
      await clock.advanceAsync(1);
      expect(injected()).toHaveLength(h / 4 + 1);
      expect(s.nextRunAt()).toBe(MIDNIGHT + (h + 4) * HOUR);
    }
    await clock.advanceAsync(MIDNIGHT + 24 * HOUR - 1 - clock.now());
    expect(injected()).toEqual(['00', '04', '08', '12', '16', '20'].map((hh) => `inject network-latency at 2024-06-01T${hh}:00:00.000Z`));
    expect(reports.map((r) => [r.status, new Date(r.startedAt).toISOString(), r.endedAt - r.startedAt])).toEqual(
      ['00', '04', '08', '12', '16', '20'].map((hh) => ['completed', `2024-06-01T${hh}:00:00.000Z`, 1_000]),
    );
    await clock.advanceAsync(1);
    expect(injected().at(-1)).toBe('inject network-latency at 2024-06-02T00:00:00.000Z');
  });

  it('follows the timezone of the pattern', async () => {
    const { clock, register, reports, schedule } = setup();
    register('a');
    schedule(['a'], { cron: '0 2 * * *', timezone: 'Europe/Paris' });
    await clock.advanceAsync(24 * HOUR);
    // 02:00 in Paris (summer time, UTC+2) is 00:00 UTC.
    expect(reports.map((r) => new Date(r.startedAt).toISOString())).toEqual(['2024-06-01T00:00:00.000Z']);
  });
});

describe('GameDaySchedule pick', () => {
  it("'all' (the default) runs every listed experiment at each firing", async () => {
    const { clock, register, reports, schedule } = setup();
    register('a');
    register('b');
    schedule(['a', 'b'], {});
    await clock.advanceAsync(1 + 2_000);
    expect(reports.map((r) => r.runs.map((run) => run.name))).toEqual([['a', 'b']]);
  });

  it("'one-at-random' runs one of the names per firing, chosen with the given random", async () => {
    const { clock, log, register, reports, schedule } = setup();
    for (const name of ['network-latency', 'cpu-stress', 'random-service-failure']) register(name);
    const values = [0, 0.34, 0.999, 0.5, 0.2, 0.7];
    schedule(['network-latency', 'cpu-stress', 'random-service-failure'], { pick: 'one-at-random', random: () => values.shift() as number });
    await clock.advanceAsync(24 * HOUR);
    expect(reports.map((r) => r.runs.map((run) => run.name))).toEqual([
      ['network-latency'],
      ['cpu-stress'],
      ['random-service-failure'],
      ['cpu-stress'],
      ['network-latency'],
      ['random-service-failure'],
    ]);
    expect(log.filter((l) => l.startsWith('inject'))).toEqual([
      'inject network-latency at 2024-06-01T00:00:00.000Z',
      'inject cpu-stress at 2024-06-01T04:00:00.000Z',
      'inject random-service-failure at 2024-06-01T08:00:00.000Z',
      'inject cpu-stress at 2024-06-01T12:00:00.000Z',
      'inject network-latency at 2024-06-01T16:00:00.000Z',
      'inject random-service-failure at 2024-06-01T20:00:00.000Z',
    ]);
  });

  it('is reproducible with a seeded random, and reaches every experiment over time', async () => {
    const names = ['network-latency', 'cpu-stress', 'random-service-failure'];
    const picksWith = async (seed: number): Promise<string[]> => {
      const { clock, register, reports, schedule } = setup();
      for (const name of names) register(name);
      schedule(names, { pick: 'one-at-random', random: seeded(seed) });
      await clock.advanceAsync(4 * 24 * HOUR);
      expect(reports.every((r) => r.status === 'completed' && r.runs.length === 1)).toBe(true);
      return reports.map((r) => r.runs[0]?.name as string);
    };
    const first = await picksWith(42);
    expect(first).toHaveLength(24);
    expect(await picksWith(42)).toEqual(first);
    const expected = seeded(42);
    expect(first).toEqual(Array.from({ length: 24 }, () => names[Math.floor(expected() * 3)]));
    expect(new Set(first)).toEqual(new Set(names));
    expect(await picksWith(7)).not.toEqual(first);
  });

  it('skips a firing, with a warning, when random throws or returns a value outside [0, 1)', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const { clock, log, register, reports, schedule } = setup();
    register('a');
    const values: (() => number)[] = [
      () => {
        throw new Error('no entropy');
      },
      () => 1,
      () => 0.1,
    ];
    schedule(['a', 'b'], { pick: 'one-at-random', random: () => (values.shift() as () => number)() });
    await clock.advanceAsync(8 * HOUR + 1_001);
    expect(reports.map((r) => [r.status, r.reason])).toEqual([
      ['skipped', 'option random threw: Error: no entropy'],
      ['skipped', 'option random returned 1, expected a number in [0, 1)'],
      ['completed', undefined],
    ]);
    expect(reports[0]?.skipped).toEqual([
      { name: 'a', reason: 'option random threw: Error: no entropy' },
      { name: 'b', reason: 'option random threw: Error: no entropy' },
    ]);
    expect(log).toEqual(['inject a at 2024-06-01T08:00:00.000Z', 'rollback a at 2024-06-01T08:00:01.000Z']);
    expect(warn.mock.calls.map((c) => c[0])).toEqual([
      'GameDaySchedule option random threw: no entropy',
      'GameDaySchedule option random threw: returned 1, expected a number in [0, 1)',
    ]);
  });
});

describe('GameDaySchedule when guard', () => {
  it('skips the firing when the guard returns false, and says so in the report and the store', async () => {
    const { clock, store, log, register, reports, schedule } = setup();
    register('a');
    let lowTraffic = false;
    schedule(['a'], { when: () => lowTraffic });
    await clock.advanceAsync(1);
    expect(log).toEqual([]);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ status: 'skipped', reason: 'the when guard returned false', runs: [], skipped: [{ name: 'a', reason: 'the when guard returned false' }] });
    expect(reports[0]?.startedAt).toBe(MIDNIGHT);
    const [event] = await store.getChaosEvents({ experimentId: `game-day:${reports[0]?.id}` });
    expect(event).toMatchObject({ type: 'game-day', at: MIDNIGHT, data: { status: 'skipped', reason: 'the when guard returned false' } });
    lowTraffic = true;
    await clock.advanceAsync(4 * HOUR + 1_000);
    expect(reports.map((r) => r.status)).toEqual(['skipped', 'completed']);
    expect(log).toEqual(['inject a at 2024-06-01T04:00:00.000Z', 'rollback a at 2024-06-01T04:00:01.000Z']);
  });

  it('skips the firing when the guard throws (sync or async), reporting the error as a warning', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const { clock, log, register, reports, schedule } = setup();
    register('a');
    const guards: (() => boolean | Promise<boolean>)[] = [
      () => {
        throw new Error('metrics down');
      },
      () => Promise.reject(new TypeError('no traffic data')),
    ];
    schedule(['a'], { when: () => (guards.shift() as () => boolean | Promise<boolean>)() });
    await clock.advanceAsync(4 * HOUR + 1);
    expect(reports.map((r) => [r.status, r.reason])).toEqual([
      ['skipped', 'the when guard threw: Error: metrics down'],
      ['skipped', 'the when guard threw: TypeError: no traffic data'],
    ]);
    expect(log).toEqual([]);
    expect(warn.mock.calls.map((c) => [c[0], (c[1] as { code?: string }).code])).toEqual([
      ['GameDaySchedule option when threw: metrics down', 'ANTIFRAGILE_CALLBACK_ERROR'],
      ['GameDaySchedule option when threw: no traffic data', 'ANTIFRAGILE_CALLBACK_ERROR'],
    ]);
  });

  it('waits for an async guard: true runs the game day, false skips it; a non-boolean answer skips', async () => {
    const { clock, log, register, reports, schedule } = setup();
    register('a');
    const answers: unknown[] = [true, false, 'yes'];
    schedule(['a'], {
      when: () =>
        new Promise<boolean>((resolve) => {
          const answer = answers.shift() as boolean;
          // The traffic check takes 50 ms.
          clock.schedule(() => resolve(answer), 50);
        }),
    });
    await clock.advanceAsync(1 + 49);
    expect(log).toEqual([]);
    await clock.advanceAsync(1);
    expect(log).toEqual(['inject a at 2024-06-01T00:00:00.050Z']);
    await clock.advanceAsync(8 * HOUR);
    expect(reports.map((r) => [r.status, r.reason])).toEqual([
      ['completed', undefined],
      ['skipped', 'the when guard returned false'],
      ['skipped', 'the when guard returned yes'],
    ]);
    expect(reports[0]?.startedAt).toBe(MIDNIGHT + 50);
    expect(reports[1]?.startedAt).toBe(MIDNIGHT + 4 * HOUR + 50);
  });

  it('checks the guard before the windows and the kill switch, which still apply after it', async () => {
    const { clock, monkey, register, reports, schedule } = setup();
    register('a');
    const guard = vi.fn(() => true);
    schedule(['a'], { when: guard, windows: [{ startHour: 4, endHour: 5 }] });
    await clock.advanceAsync(1);
    expect(guard).toHaveBeenCalledTimes(1);
    expect(reports.map((r) => [r.status, r.reason])).toEqual([['skipped', 'outside the allowed windows']]);
    monkey.runner.control?.disable();
    await clock.advanceAsync(4 * HOUR);
    expect(guard).toHaveBeenCalledTimes(2);
    expect(reports[1]).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/^not safe to run chaos: the chaos kill switch is off/) });
  });
});

describe('GameDaySchedule overlapping firings', () => {
  it('skips a firing while the previous game day still runs, with a report saying so', async () => {
    const { clock, log, register, reports, schedule } = setup();
    register('long', { durationMs: 90_000 });
    // Every minute, for an experiment of 90 s: the firing at 00:01 comes while it runs.
    const s = schedule(['long'], { cron: '* * * * *' });
    await clock.advanceAsync(1);
    expect(s.busy).toBe(true);
    await clock.advanceAsync(60_000);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({
      status: 'skipped',
      reason: 'the previous game day is still running',
      startedAt: MIDNIGHT + 60_000,
      skipped: [{ name: 'long', reason: 'the previous game day is still running' }],
    });
    await clock.advanceAsync(30_000);
    expect(s.busy).toBe(false);
    expect(reports.map((r) => [r.status, new Date(r.startedAt).toISOString(), new Date(r.endedAt).toISOString()])).toEqual([
      ['skipped', '2024-06-01T00:01:00.000Z', '2024-06-01T00:01:00.000Z'],
      ['completed', '2024-06-01T00:00:00.000Z', '2024-06-01T00:01:30.000Z'],
    ]);
    await clock.advanceAsync(30_000);
    expect(log.filter((l) => l.startsWith('inject'))).toEqual(['inject long at 2024-06-01T00:00:00.000Z', 'inject long at 2024-06-01T00:02:00.000Z']);
  });

  it('counts a pending guard as the game day in progress', async () => {
    const { clock, register, reports, schedule } = setup();
    register('a');
    let release: (ok: boolean) => void = () => undefined;
    const guard = vi.fn(() => new Promise<boolean>((resolve) => (release = resolve)));
    schedule(['a'], { when: guard, whenTimeoutMs: 5 * HOUR });
    await clock.advanceAsync(1 + 4 * HOUR);
    expect(guard).toHaveBeenCalledTimes(1);
    expect(reports.map((r) => r.reason)).toEqual(['the previous game day is still running']);
    release(false);
    await clock.advanceAsync(0);
    expect(reports.map((r) => r.reason)).toEqual(['the previous game day is still running', 'the when guard returned false']);
  });
});

describe('GameDaySchedule guard bounded by stop and whenTimeoutMs', () => {
  it('runs nothing when the guard answers true after stop(), and reports the firing as skipped because stopped', async () => {
    const { clock, store, log, register, reports, schedule } = setup();
    register('a');
    let release: (ok: boolean) => void = () => undefined;
    const s = schedule(['a'], { when: () => new Promise<boolean>((resolve) => (release = resolve)) });
    await clock.advanceAsync(1);
    expect(s.busy).toBe(true);
    s.stop();
    await clock.advanceAsync(0);
    expect(reports.map((r) => [r.status, r.reason, r.startedAt])).toEqual([['skipped', 'the schedule was stopped', MIDNIGHT]]);
    expect(reports[0]?.skipped).toEqual([{ name: 'a', reason: 'the schedule was stopped' }]);
    expect(s.busy).toBe(false);
    expect(clock.pendingTimers).toBe(0);
    // The guard's late "yes" changes nothing.
    release(true);
    await clock.advanceAsync(2_000);
    expect(log).toEqual([]);
    expect(reports).toHaveLength(1);
    const [event] = await store.getChaosEvents({ experimentId: `game-day:${reports[0]?.id}` });
    expect(event).toMatchObject({ type: 'game-day', data: { status: 'skipped', reason: 'the schedule was stopped' } });
  });

  it('runs nothing when the monkey is disposed (Nest onModuleDestroy) while the guard is pending', async () => {
    const { clock, monkey, log, register, reports, schedule } = setup();
    register('a');
    schedule(['a'], { when: () => new Promise<boolean>((resolve) => clock.schedule(() => resolve(true), 50)) });
    await clock.advanceAsync(10);
    monkey.dispose();
    await clock.advanceAsync(1_000);
    expect(log).toEqual([]);
    expect(reports.map((r) => [r.status, r.reason])).toEqual([['skipped', 'the schedule was stopped']]);
  });

  it('skips the firing when the guard does not settle within whenTimeoutMs (default 30 s), and later firings run', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const { clock, log, register, reports, schedule } = setup();
    register('a');
    const guards: (() => Promise<boolean>)[] = [() => new Promise<boolean>(() => undefined), () => Promise.resolve(true)];
    const s = schedule(['a'], { when: () => (guards.shift() as () => Promise<boolean>)() });
    await clock.advanceAsync(1 + 29_999);
    expect(reports).toEqual([]);
    expect(s.busy).toBe(true);
    await clock.advanceAsync(1);
    expect(reports.map((r) => [r.status, r.reason, r.startedAt])).toEqual([['skipped', 'the when guard did not answer within 30000 ms', MIDNIGHT + 30_000]]);
    expect(s.busy).toBe(false);
    await clock.advanceAsync(4 * HOUR);
    expect(reports.map((r) => r.status)).toEqual(['skipped', 'completed']);
    expect(log).toEqual(['inject a at 2024-06-01T04:00:00.000Z', 'rollback a at 2024-06-01T04:00:01.000Z']);
    expect(warn).not.toHaveBeenCalled();
  });

  it('honours a custom whenTimeoutMs and ignores a late answer', async () => {
    const { clock, log, register, reports, schedule } = setup();
    register('a');
    schedule(['a'], { whenTimeoutMs: 100, when: () => new Promise<boolean>((resolve) => clock.schedule(() => resolve(true), 150)) });
    await clock.advanceAsync(100);
    expect(reports).toEqual([]);
    await clock.advanceAsync(1);
    expect(reports.map((r) => r.reason)).toEqual(['the when guard did not answer within 100 ms']);
    await clock.advanceAsync(5_000);
    expect(log).toEqual([]);
    expect(reports).toHaveLength(1);
  });

  it('leaves no timer once a guard answered in time', async () => {
    const { clock, register, reports, schedule } = setup();
    register('a');
    schedule(['a'], { when: () => false });
    await clock.advanceAsync(1);
    expect(reports.map((r) => r.reason)).toEqual(['the when guard returned false']);
    // Only the cron timer is left.
    expect(clock.pendingTimers).toBe(1);
  });

  it('rejects a whenTimeoutMs that is not a positive duration', () => {
    const { monkey } = setup();
    expect(issuesOf(() => monkey.scheduleGameDay(['a'], { cron: '0 */4 * * *', whenTimeoutMs: 0 }))).toEqual(['whenTimeoutMs']);
    expect(issuesOf(() => monkey.scheduleGameDay(['a'], { cron: '0 */4 * * *', whenTimeoutMs: '30s' as never }))).toEqual(['whenTimeoutMs']);
  });
});

describe('GameDaySchedule experimentOptions and onFailure (the seed alerting ops)', () => {
  it('runs each experiment with the given duration and options, and calls onFailure only when the system failed', async () => {
    const { clock, log, register, reports, schedule } = setup();
    register('network-latency', { durationMs: 5_000 });
    register('random-service-failure', { fails: true });
    const alerts: { experiment: string[]; status: GameDayReport['status'] }[] = [];
    const picks = [0, 0.9];
    schedule(['network-latency', 'random-service-failure'], {
      pick: 'one-at-random',
      random: () => picks.shift() as number,
      experimentOptions: { durationMs: 60_000, intensity: 'low' },
      onFailure: (report, failures: ExperimentRun[]) => alerts.push({ experiment: failures.map((f) => f.name), status: report.status }),
    });
    await clock.advanceAsync(1 + 60_000);
    expect(log).toEqual(['inject network-latency at 2024-06-01T00:00:00.000Z intensity low', 'rollback network-latency at 2024-06-01T00:01:00.000Z']);
    expect(alerts).toEqual([]);
    await clock.advanceAsync(4 * HOUR);
    expect(reports.map((r) => r.runs.map((run) => run.status))).toEqual([['succeeded'], ['failed']]);
    expect(alerts).toEqual([{ experiment: ['random-service-failure'], status: 'stopped' }]);
  });

  it('reports a throwing onReport or onFailure as a warning and keeps scheduling', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const { clock, register, schedule } = setup();
    register('fails', { fails: true });
    const s = schedule(['fails'], {
      onReport: () => {
        throw new Error('report sink down');
      },
      onFailure: () => {
        throw new Error('pager down');
      },
    });
    await clock.advanceAsync(4 * HOUR + 1);
    expect(s.reports()).toHaveLength(2);
    expect(warn.mock.calls.map((c) => c[0])).toEqual([
      'GameDaySchedule option onReport threw: report sink down',
      'GameDaySchedule option onFailure threw: pager down',
      'GameDaySchedule option onReport threw: report sink down',
      'GameDaySchedule option onFailure threw: pager down',
    ]);
  });
});

describe('GameDaySchedule options', () => {
  it('reports every invalid new option by name', () => {
    const { monkey } = setup();
    expect(
      issuesOf(() =>
        monkey.scheduleGameDay(['a'], {
          cron: '0 */4 * * *',
          pick: 'some' as never,
          random: 0.5 as never,
          when: true as never,
          onFailure: 'alert' as never,
          experimentOptions: { durationMs: 0 },
        }),
      ),
    ).toEqual(['pick', 'random', 'when', 'onFailure', 'experimentOptions.durationMs']);
    expect(issuesOf(() => monkey.scheduleGameDay([], { cron: '0 */4 * * *', pick: 'one-at-random' }))).toEqual(['names']);
    expect(issuesOf(() => monkey.scheduleGameDay(['a'], { cron: '0 */4 * * *', experimentOptions: 'low' as never }))).toEqual(['experimentOptions']);
    expect(issuesOf(() => monkey.scheduleGameDay(['a'], { cron: '0 */4 * * *', experimentOptions: { signal: new AbortController().signal } }))).toEqual([
      'experimentOptions.signal',
    ]);
    expect(issuesOf(() => monkey.scheduleGameDay(['a'], { cron: '0 */4 * * *', timezone: 'Mars/Olympus' }))).toEqual(['cron']);
  });

  it('stops firing once stopped, leaving no timer', async () => {
    const { clock, register, reports, schedule } = setup();
    register('a');
    const s = schedule(['a'], {});
    await clock.advanceAsync(1_001);
    s.stop();
    expect(clock.pendingTimers).toBe(0);
    await clock.advanceAsync(24 * HOUR);
    expect(reports).toHaveLength(1);
  });
});
