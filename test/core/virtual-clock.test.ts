import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/virtual-clock.js';

describe('VirtualClock', () => {
  it('fires timers in due order, ties first-in first-out, with now() at each due time', () => {
    const clock = new VirtualClock(100);
    const fired: string[] = [];
    clock.schedule(() => fired.push(`b@${clock.now()}`), 20);
    clock.schedule(() => fired.push(`a@${clock.now()}`), 10);
    clock.schedule(() => fired.push(`c@${clock.now()}`), 20);
    clock.advance(19);
    expect(fired).toEqual(['a@110']);
    clock.advance(1);
    expect(fired).toEqual(['a@110', 'b@120', 'c@120']);
    expect(clock.now()).toBe(120);
    expect(clock.pendingTimers).toBe(0);
  });

  it('cancels timers and reports the next due time', () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    const a = clock.schedule(() => fired.push(1), 5);
    clock.schedule(() => fired.push(2), 7);
    expect(clock.nextTimerAt()).toBe(5);
    a.cancel();
    a.cancel();
    expect(clock.nextTimerAt()).toBe(7);
    clock.advance(10);
    expect(fired).toEqual([2]);
  });

  it('advanceAsync lets promise continuations schedule further timers within the stretch', async () => {
    const clock = new VirtualClock();
    const wait = (ms: number): Promise<void> => new Promise((r) => clock.schedule(r, ms));
    const log: number[] = [];
    const chain = (async () => {
      await wait(10);
      log.push(clock.now());
      await wait(10);
      log.push(clock.now());
    })();
    await clock.advanceAsync(20);
    await chain;
    expect(log).toEqual([10, 20]);
  });

  it('runAllAsync drains every timer and refuses to loop forever', async () => {
    const clock = new VirtualClock();
    let n = 0;
    const again = (): void => {
      n++;
      clock.schedule(again, 1);
    };
    clock.schedule(again, 1);
    await expect(clock.runAllAsync(50)).rejects.toThrow(/more than 50 timers/);
    expect(n).toBeGreaterThanOrEqual(50);
  });

  it('rejects a negative advance', () => {
    expect(() => new VirtualClock().advance(-1)).toThrow(RangeError);
  });
});
