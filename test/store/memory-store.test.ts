import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { InvalidOptionsError } from '../../src/core/options.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';
import { breakerState, describeStoreConformance } from './store-conformance.js';

failOnUnhandledRejections();

describeStoreConformance('MemoryStore', async (clock, options) => {
  const store = new MemoryStore({ clock, ...options });
  return { store, dispose: () => store.close() };
});

describe('MemoryStore', () => {
  it('keeps only the newest maxRows rows per table', async () => {
    const store = new MemoryStore({ clock: new VirtualClock(), maxRows: 3 });
    for (let i = 0; i < 10; i++) store.recordAudit({ who: String(i), action: 'a', target: 't' });
    expect((await store.getAuditLog()).map((a) => a.who)).toEqual(['9', '8', '7']);
    store.recordHealthCheck({ component: 'db', status: 'healthy', responseTimeMs: 1 });
    expect(await store.getHealthChecks()).toHaveLength(1);
  });

  it('keeps at most maxKeys states, dropping the least recently saved', async () => {
    const store = new MemoryStore({ clock: new VirtualClock(), maxKeys: 2 });
    store.saveBreakerState('a', breakerState('a', 'closed', 0));
    store.saveBreakerState('b', breakerState('b', 'closed', 0));
    store.saveBreakerState('a', breakerState('a', 'open', 1));
    store.saveBreakerState('c', breakerState('c', 'closed', 0));
    expect([...(await store.loadBreakerStates()).keys()].sort()).toEqual(['a', 'c']);
  });

  it('keeps copies: mutating a saved state or a loaded one changes nothing stored', async () => {
    const store = new MemoryStore({ clock: new VirtualClock() });
    const state = breakerState('a', 'closed', 0);
    store.saveBreakerState('a', state);
    state.totals.failures = 99;
    const loaded = await store.loadBreakerStates();
    (loaded.get('a') as typeof state).totals.calls = 1234;
    expect((await store.loadBreakerStates()).get('a')?.totals).toEqual(breakerState('a', 'closed', 0).totals);
  });

  it('stops its retention timer on close', async () => {
    const clock = new VirtualClock();
    const store = new MemoryStore({ clock, retentionMs: 1_000, cleanupIntervalMs: 100 });
    expect(clock.pendingTimers).toBe(1);
    await store.close();
    expect(clock.pendingTimers).toBe(0);
    const noRetention = new MemoryStore({ clock });
    expect(clock.pendingTimers).toBe(0);
    await noRetention.close();
  });

  it('validates its options eagerly, naming every bad field', () => {
    let error: unknown;
    try {
      new MemoryStore({ maxRows: 0, maxKeys: 1.5, retentionMs: -1, cleanupIntervalMs: 0, clock: {} as never });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path).sort()).toEqual(['cleanupIntervalMs', 'clock', 'maxKeys', 'maxRows', 'retentionMs']);
  });
});
