import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Inject, Injectable, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChaosModule, ChaosMonkeyService, type ChaosModuleSchedule } from '../../../src/adapters/nestjs/index.js';
import type { ExperimentRun, GameDayReport } from '../../../src/chaos/experiments/index.js';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

const HOUR = 3_600_000;
/** Saturday 2024-06-01, 00:00 UTC, minus 1 ms. */
const START = Date.parse('2024-06-01T00:00:00Z') - 1;
const iso = (ms: number): string => new Date(ms).toISOString();

/** What the app's experiments did, and the alerts the seed sends to ops. */
const log: string[] = [];
const alerts: { experiments: string[]; severity: string }[] = [];
let clock = new VirtualClock(START);

/** The app's own service registering the seed's experiments (in its onModuleInit, after the chaos module's). */
class ExperimentsService {
  constructor(private readonly chaos: ChaosMonkeyService) {}
  onModuleInit(): void {
    for (const [name, fails] of [
      ['network-latency', false],
      ['cpu-stress', false],
      ['random-service-failure', true],
    ] as const) {
      this.chaos.registerExperiment({
        name,
        category: 'network',
        severity: 'low',
        inject: (options) => {
          log.push(`inject ${name} at ${iso(clock.now())} intensity ${String(options.intensity)}`);
          if (fails) throw new Error(`${name}: the service did not survive`);
        },
        rollback: () => void log.push(`rollback ${name} at ${iso(clock.now())}`),
      });
    }
  }
}
Injectable()(ExperimentsService);
Inject(ChaosMonkeyService)(ExperimentsService, undefined, 0);

/** Reports of the module's schedules over HTTP. */
class ChaosReportsController {
  constructor(private readonly chaos: ChaosMonkeyService) {}
  reports(): { status: string; startedAt: string; runs: string[]; reason?: string }[] {
    return this.chaos
      .getModuleSchedules()
      .flatMap((s) => s.reports())
      .map((r) => ({ status: r.status, startedAt: iso(r.startedAt), runs: r.runs.map((run) => run.name), ...(r.reason === undefined ? {} : { reason: r.reason }) }));
  }
}
Controller('chaos')(ChaosReportsController);
Inject(ChaosMonkeyService)(ChaosReportsController, undefined, 0);
Get('reports')(ChaosReportsController.prototype, 'reports', Object.getOwnPropertyDescriptor(ChaosReportsController.prototype, 'reports') as PropertyDescriptor);

let apps: INestApplication[] = [];
afterEach(async () => {
  for (const app of apps.reverse()) await app.close();
  apps = [];
  log.length = 0;
  alerts.length = 0;
  vi.restoreAllMocks();
});

async function boot(chaos: DynamicModule): Promise<{ app: INestApplication; base: string }> {
  class AppModule {}
  const app = await NestFactory.create({ module: AppModule, imports: [chaos], controllers: [ChaosReportsController], providers: [ExperimentsService] }, { logger: false, abortOnError: false });
  apps.push(app);
  await app.listen(0, '127.0.0.1');
  return { app, base: `http://127.0.0.1:${(app.getHttpServer() as { address(): AddressInfo }).address().port}` };
}

/** The seed's ChaosSchedulerService as module options: every 4 hours, one experiment at random, in low traffic only. */
function seedSchedules(lowTraffic: () => boolean | Promise<boolean>, picks: number[]): ChaosModuleSchedule[] {
  return [
    {
      name: 'random-chaos',
      cron: '0 */4 * * *',
      experiments: ['network-latency', 'cpu-stress', 'random-service-failure'],
      pick: 'one-at-random',
      random: () => picks.shift() ?? 0,
      when: lowTraffic,
      experimentOptions: { durationMs: 60_000, intensity: 'low' },
      onFailure: (_report: GameDayReport, failures: ExperimentRun[]) => alerts.push({ experiments: failures.map((f) => f.name), severity: 'warning' }),
    },
    // The seed's Sunday 2 AM game day.
    { name: 'sunday', cron: '0 2 * * 0', experiments: ['network-latency', 'cpu-stress'], experimentOptions: { durationMs: 60_000, intensity: 'medium' } },
  ];
}

describe('ChaosModule schedules in a Nest application', () => {
  it('starts the schedules on init, fires them on the clock, alerts on failure, and stops them at app.close()', async () => {
    clock = new VirtualClock(START);
    // Low traffic except between 08:00 and 20:00 UTC.
    const lowTraffic = async (): Promise<boolean> => {
      const hour = new Date(clock.now()).getUTCHours();
      return hour < 8 || hour >= 20;
    };
    const { app, base } = await boot(
      ChaosModule.forRoot({ enabled: true, scheduleEnabled: true, safetyChecks: true, environment: 'test', clock, schedules: seedSchedules(lowTraffic, [0.5, 0.9, 0.1, 0.1]) }),
    );
    const chaos = app.get(ChaosMonkeyService);
    const [random, sunday] = chaos.getModuleSchedules();
    expect(random?.running).toBe(true);
    expect(sunday?.running).toBe(true);
    expect(random?.nextRunAt()).toBe(START + 1);
    expect(sunday?.nextRunAt()).toBe(Date.parse('2024-06-02T02:00:00Z'));

    await clock.advanceAsync(1 + 60_000);
    expect(log).toEqual(['inject cpu-stress at 2024-06-01T00:00:00.000Z intensity low', 'rollback cpu-stress at 2024-06-01T00:01:00.000Z']);
    // 04:00 the random pick is the failing experiment: ops are alerted.
    await clock.advanceAsync(4 * HOUR);
    expect(log.slice(2)).toEqual(['inject random-service-failure at 2024-06-01T04:00:00.000Z intensity low', 'rollback random-service-failure at 2024-06-01T04:00:00.000Z']);
    expect(alerts).toEqual([{ experiments: ['random-service-failure'], severity: 'warning' }]);
    // Up to Sunday 03:00: 08:00, 12:00 and 16:00 are skipped (traffic), 20:00 and 00:00 run; Sunday 02:00 runs the game day.
    await clock.advanceAsync(Date.parse('2024-06-02T03:00:00Z') - clock.now());
    const res = await fetch(`${base}/chaos/reports`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([
      { status: 'completed', startedAt: '2024-06-01T00:00:00.000Z', runs: ['cpu-stress'] },
      { status: 'stopped', startedAt: '2024-06-01T04:00:00.000Z', runs: ['random-service-failure'], reason: 'stopped after "random-service-failure" ended failed' },
      { status: 'skipped', startedAt: '2024-06-01T08:00:00.000Z', runs: [], reason: 'the when guard returned false' },
      { status: 'skipped', startedAt: '2024-06-01T12:00:00.000Z', runs: [], reason: 'the when guard returned false' },
      { status: 'skipped', startedAt: '2024-06-01T16:00:00.000Z', runs: [], reason: 'the when guard returned false' },
      { status: 'completed', startedAt: '2024-06-01T20:00:00.000Z', runs: ['network-latency'] },
      { status: 'completed', startedAt: '2024-06-02T00:00:00.000Z', runs: ['network-latency'] },
      { status: 'completed', startedAt: '2024-06-02T02:00:00.000Z', runs: ['network-latency', 'cpu-stress'] },
    ]);
    expect(log.filter((l) => l.includes('intensity medium'))).toEqual([
      'inject network-latency at 2024-06-02T02:00:00.000Z intensity medium',
      'inject cpu-stress at 2024-06-02T02:01:00.000Z intensity medium',
    ]);

    await app.close();
    apps = [];
    expect(random?.running).toBe(false);
    expect(sunday?.running).toBe(false);
    expect(chaos.getModuleSchedules()).toEqual([]);
    const before = log.length;
    await clock.advanceAsync(7 * 24 * HOUR);
    expect(log).toHaveLength(before);
    expect(random?.reports()).toHaveLength(7);
  });

  it('with forRootAsync too, the options coming from a factory', async () => {
    clock = new VirtualClock(START);
    const { app } = await boot(
      ChaosModule.forRootAsync({
        useFactory: async () => ({ enabled: true, scheduleEnabled: true, environment: 'test', clock, schedules: seedSchedules(() => true, [0]) }),
      }),
    );
    await clock.advanceAsync(1 + 60_000);
    expect(log).toEqual(['inject network-latency at 2024-06-01T00:00:00.000Z intensity low', 'rollback network-latency at 2024-06-01T00:01:00.000Z']);
    expect(app.get(ChaosMonkeyService).getModuleSchedules()).toHaveLength(2);
  });

  it('does not start the schedules when scheduleEnabled is false, and warns (the seed turns it off in production)', async () => {
    clock = new VirtualClock(START);
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const { app } = await boot(ChaosModule.forRoot({ enabled: true, scheduleEnabled: false, environment: 'test', clock, schedules: seedSchedules(() => true, []) }));
    const chaos = app.get(ChaosMonkeyService);
    expect(chaos.getModuleSchedules()).toEqual([]);
    expect(warn.mock.calls.map((c) => [c[0], (c[1] as { code?: string }).code])).toEqual([
      ['ChaosModule: 2 schedule(s) not started: scheduleEnabled is false', 'ANTIFRAGILE_CHAOS_SCHEDULES_OFF'],
    ]);
    await clock.advanceAsync(24 * HOUR);
    expect(log).toEqual([]);
    // A cron game day asked for in code is still refused, as before.
    expect(() => chaos.scheduleGameDay(['network-latency'], { cron: '0 */4 * * *' })).toThrow('Chaos refused: scheduled game days are off (ChaosModule scheduleEnabled is false)');
  });

  it('fails the application start for invalid schedules, naming each field (forRoot and forRootAsync)', async () => {
    const schedules = [
      { cron: 'every hour', experiments: ['a', 1] },
      { cron: '0 */4 * * *', experiments: [], pick: 'one-at-random', when: 'low traffic' },
      'nightly',
    ] as unknown as ChaosModuleSchedule[];
    const expected = ['schedules[0].experiments', 'schedules[0].cron', 'schedules[1].experiments', 'schedules[1].when', 'schedules[2]'];
    for (const module of [ChaosModule.forRoot({ schedules }), ChaosModule.forRootAsync({ useFactory: () => ({ schedules }) })]) {
      let error: unknown;
      try {
        await boot(module);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual(expected);
      expect((error as InvalidOptionsError).message).toMatch(/^Invalid ChaosModule options:/);
    }
    expect(() => new ChaosMonkeyService({ schedules: {} as never })).toThrow(/schedules: expected an array of schedules/);
  });
});
