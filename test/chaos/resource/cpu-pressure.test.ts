import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { startCpuPressure } from '../../../src/chaos/resource/index.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU time (user + system, all threads of this process) and wall time spent in `ms` of real time, in ms. */
async function measure(ms: number): Promise<{ cpuMs: number; wallMs: number }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await realSleep(ms);
  const used = process.cpuUsage(cpu);
  return { cpuMs: (used.user + used.system) / 1_000, wallMs: performance.now() - start };
}

describe('startCpuPressure', () => {
  it('burns CPU in worker threads while running and stops burning once stopped', async () => {
    const pressure = await startCpuPressure({ percent: 100, threads: 1, durationMs: 10_000 });
    const during = await measure(500);
    await pressure.stop();
    expect(pressure.stopped).toBe(true);
    const after = await measure(300);
    // One thread at 100% of a core: even on a loaded 2-core machine it gets a good share of a core.
    expect(during.cpuMs).toBeGreaterThan(during.wallMs * 0.25);
    // Once stopped, the process is idle again.
    expect(after.cpuMs).toBeLessThan(after.wallMs * 0.2);
    expect(after.cpuMs).toBeLessThan(during.cpuMs / 2);
  });

  it('keeps each thread to its duty cycle', async () => {
    const pressure = await startCpuPressure({ percent: 25, threads: 1, durationMs: 10_000, periodMs: 20 });
    const during = await measure(500);
    await pressure.stop();
    // 25% of one core (load on the machine can only lower it).
    expect(during.cpuMs).toBeLessThan(during.wallMs * 0.55);
    expect(during.cpuMs).toBeGreaterThan(0);
  });

  it('ends by itself at its deadline, and stop() is safe to call twice', async () => {
    const pressure = await startCpuPressure({ percent: 50, threads: 2, durationMs: 150 });
    expect(pressure.threads).toBe(2);
    expect(pressure.stopped).toBe(false);
    await pressure.done;
    expect(pressure.stopped).toBe(true);
    await Promise.all([pressure.stop(), pressure.stop()]);
    await pressure.stop();
  });

  it('rejects invalid options, listing every field', async () => {
    const error = await startCpuPressure({ percent: 0, threads: 1.5, durationMs: 0, periodMs: 5 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual(['percent', 'threads', 'durationMs', 'periodMs']);
  });
});
