import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { blockEventLoop, startEventLoopBlock } from '../../../src/chaos/resource/index.js';

describe('event-loop blocking', () => {
  it('delays a timer falling due during the block by about the block', async () => {
    const handle = startEventLoopBlock({ blockMs: 200 });
    const scheduled = performance.now();
    // Due 20 ms from now, that is while the loop is blocked: it can only run once the block is over.
    const fired = new Promise<number>((resolve) => setTimeout(() => resolve(performance.now()), 20));
    const lateness = (await fired) - scheduled - 20;
    await handle.done;
    expect(handle.blocks).toBe(1);
    expect(handle.blockedMs).toBeGreaterThanOrEqual(200);
    expect(lateness).toBeGreaterThanOrEqual(150);
    expect(handle.stopped).toBe(true);
  });

  it('caps a block at maxMs', () => {
    const blocked = blockEventLoop(10_000, 30);
    expect(blocked).toBeGreaterThanOrEqual(30);
    expect(blocked).toBeLessThan(1_000);
  });

  it('blocks on a fixed cadence until its duration, on the injected clock', async () => {
    const clock = new VirtualClock();
    const handle = startEventLoopBlock({ blockMs: 2, intervalMs: 100, durationMs: 350, clock });
    clock.advance(0);
    expect(handle.blocks).toBe(1);
    clock.advance(99);
    expect(handle.blocks).toBe(1);
    clock.advance(1);
    expect(handle.blocks).toBe(2);
    clock.advance(250);
    expect(handle.blocks).toBe(4);
    expect(handle.stopped).toBe(true);
    expect(clock.pendingTimers).toBe(0);
    await handle.done;
  });

  it('stop() cancels the next blocks and is safe to call twice', async () => {
    const clock = new VirtualClock();
    const handle = startEventLoopBlock({ blockMs: 1, intervalMs: 50, durationMs: 10_000, clock });
    clock.advance(0);
    await handle.stop();
    await handle.stop();
    clock.advance(1_000);
    expect(handle.blocks).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects invalid options, a block above the cap included', () => {
    const error = (() => {
      try {
        startEventLoopBlock({ blockMs: 6_000, intervalMs: 10, durationMs: 0 });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual(['blockMs', 'intervalMs', 'durationMs']);
    expect(() => startEventLoopBlock({ blockMs: 50, intervalMs: 20 })).toThrow(/intervalMs/);
  });
});
