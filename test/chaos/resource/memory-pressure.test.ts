import { freemem } from 'node:os';
import { describe, expect, it } from 'vitest';
import { isChaosRefusedError } from '../../../src/core/errors.js';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { startMemoryPressure } from '../../../src/chaos/resource/index.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

const MB = 1024 * 1024;
const rssMb = (): number => process.memoryUsage().rss / MB;
const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `predicate` holds (a hang guard of `ms`, not a timing assertion). */
async function eventually(predicate: () => boolean, ms = 1_500): Promise<boolean> {
  const until = performance.now() + ms;
  while (!predicate()) {
    if (performance.now() > until) return false;
    await realSleep(20);
  }
  return true;
}

describe('startMemoryPressure', () => {
  it('raises the resident memory by about the size asked for, and releases it on stop', async () => {
    const before = rssMb();
    const pressure = await startMemoryPressure({ mb: 200, chunkMb: 50, durationMs: 10_000 });
    const held = rssMb();
    expect(held - before).toBeGreaterThan(150);
    await pressure.stop();
    expect(pressure.stopped).toBe(true);
    expect(await eventually(() => rssMb() < held - 100)).toBe(true);
    await pressure.stop();
  });

  it('releases the memory by itself at its deadline', async () => {
    const pressure = await startMemoryPressure({ mb: 120, durationMs: 100 });
    const held = rssMb();
    await pressure.done;
    expect(pressure.stopped).toBe(true);
    expect(await eventually(() => rssMb() < held - 60)).toBe(true);
  });

  it('refuses more than its share of the free memory', async () => {
    const tooMuch = Math.ceil((freemem() * 0.5) / MB) + 64;
    const error = await startMemoryPressure({ mb: tooMuch }).catch((e: unknown) => e);
    expect(isChaosRefusedError(error)).toBe(true);
    expect(String((error as Error).message)).toMatch(/above 50% of the free memory/);
    const none = await startMemoryPressure({ mb: 1, maxShareOfFreeMemory: 0 }).catch((e: unknown) => e);
    expect(isChaosRefusedError(none)).toBe(true);
  });

  it('rejects invalid options, listing every field', async () => {
    const error = await startMemoryPressure({ mb: 0, chunkMb: 0, durationMs: -1, maxShareOfFreeMemory: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual(['mb', 'chunkMb', 'durationMs', 'maxShareOfFreeMemory']);
  });
});
