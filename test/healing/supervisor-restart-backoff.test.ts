import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { SupervisorRestartBackoff } from '../../src/healing/supervisor-restart-backoff.js';
import { Supervisor } from '../../src/healing/supervisor.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

describe('SupervisorRestartBackoff', () => {
  it('doubles per crash up to maxMs, per slot, and resets once a worker stayed up resetAfterMs', () => {
    const clock = new VirtualClock();
    const backoff = new SupervisorRestartBackoff({ initialMs: 300, maxMs: 1_000, resetAfterMs: 10_000 }, clock);
    expect([1, 2, 3, 4].map(() => backoff.crashed(0).delayMs)).toEqual([300, 600, 1_000, 1_000]);
    expect(backoff.crashed(1)).toEqual({ delayMs: 300, attempt: 1 });
    backoff.started(0);
    clock.advance(9_999);
    expect(backoff.crashed(0)).toEqual({ delayMs: 1_000, attempt: 5 }); // up 9.999 s: not long enough
    backoff.started(0);
    clock.advance(10_000);
    expect(backoff.crashed(0)).toEqual({ delayMs: 300, attempt: 1 });
  });
});

describe('Supervisor options', () => {
  it('names every bad option', () => {
    expect(() => new Supervisor({ exec: '', workers: 0, restartBackoff: { initialMs: 500, maxMs: 100 }, drainTimeoutMs: -1 })).toThrow(
      /exec[\s\S]*workers[\s\S]*restartBackoff\.maxMs[\s\S]*drainTimeoutMs/,
    );
  });
});
