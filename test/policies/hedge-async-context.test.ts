import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { Hedge } from '../../src/policies/hedge.js';
import { currentChaosScope, withChaosScope } from '../../src/chaos/chaos-scope.js';

describe('Hedge and async context', () => {
  it('a hedged attempt started by the shared timer keeps its caller async context (ALS, chaos scope)', async () => {
    const als = new AsyncLocalStorage<string>();
    const hedge = new Hedge({ delayMs: 5 }, { maxHedges: 1 });
    const seen: { user: string | undefined; tenant: string | undefined }[] = [];
    const call = (user: string, tenant: string): Promise<unknown> =>
      als.run(user, () =>
        withChaosScope({ tenant }, () =>
          hedge.execute(() => {
            seen.push({ user: als.getStore(), tenant: currentChaosScope()?.tenant });
            return new Promise((resolve) => setTimeout(() => resolve('ok'), seen.filter((s) => s.user === user).length === 1 ? 50 : 1));
          }),
        ),
      );
    // Two concurrent callers share the one scheduler timer: each hedge must run in its own caller's context.
    await Promise.all([call('req-1', 't1'), call('req-2', 't2')]);
    expect(seen.filter((s) => s.user === 'req-1').map((s) => s.tenant)).toEqual(['t1', 't1']);
    expect(seen.filter((s) => s.user === 'req-2').map((s) => s.tenant)).toEqual(['t2', 't2']);
    expect(seen).toHaveLength(4);
  });
});
