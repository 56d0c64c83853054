import { describe, expect, it } from 'vitest';
import { AdminAuth } from '../../../../src/adapters/http/admin/admin-auth.js';
import { VirtualClock } from '../../../../src/core/virtual-clock.js';
import { failOnUnhandledRejections } from '../../../support/no-unhandled-rejections.js';
import { TOKEN } from './admin-test-kit.js';

failOnUnhandledRejections();

function auth(clock: VirtualClock, ttlMs = 1_000): { auth: AdminAuth; ticket: () => string } {
  const a = new AdminAuth([{ name: 'admin', token: TOKEN }], clock, ttlMs);
  const credential = a.identify(`Bearer ${TOKEN}`);
  if (credential === undefined) throw new Error('the token was refused');
  return { auth: a, ticket: () => a.issueTicket(credential).ticket };
}

describe('AdminAuth tickets are single use', () => {
  it('accepts a ticket once, then refuses it until and after it expires', () => {
    const clock = new VirtualClock(0);
    const { auth: a, ticket } = auth(clock);
    const t = ticket();
    expect(a.verifyTicket(t)).toEqual({ who: 'admin', tokenId: 0, expiresAt: 1_000 });
    expect(a.verifyTicket(t)).toBeUndefined();
    clock.advance(999);
    expect(a.verifyTicket(t)).toBeUndefined();
    clock.advance(1);
    expect(a.verifyTicket(t)).toBeUndefined();
  });

  it('every ticket is distinct, even two issued in the same millisecond: using one leaves the other usable', () => {
    const clock = new VirtualClock(0);
    const { auth: a, ticket } = auth(clock);
    const [t1, t2] = [ticket(), ticket()];
    expect(t1).not.toBe(t2);
    clock.advance(500);
    expect(a.verifyTicket(t2)).toMatchObject({ who: 'admin' });
    expect(a.verifyTicket(t1)).toMatchObject({ who: 'admin' });
    expect(a.usedTickets).toBe(2);
  });

  it('cannot be replayed by re-encoding it (the used ticket is recognised by its signed contents)', () => {
    const clock = new VirtualClock(0);
    const { auth: a, ticket } = auth(clock);
    const t = ticket();
    expect(a.verifyTicket(t)).toBeDefined();
    const [payload, signature] = t.split('.') as [string, string];
    // Base64 padding decodes to the same signature bytes.
    expect(a.verifyTicket(`${payload}.${signature}=`)).toBeUndefined();
    expect(a.verifyTicket(`${payload}=.${signature}`)).toBeUndefined();
  });

  it('forgets used tickets once they expired, so the memory stays bounded', () => {
    const clock = new VirtualClock(0);
    const { auth: a, ticket } = auth(clock, 1_000);
    for (let i = 0; i < 10; i++) {
      expect(a.verifyTicket(ticket())).toBeDefined();
      clock.advance(100);
    }
    // Used at 0, 100, ..., 900, expiring at 1_000, 1_100, ..., 1_900; now 1_000.
    expect(a.usedTickets).toBe(10);
    expect(a.verifyTicket(ticket())).toBeDefined();
    expect(a.usedTickets).toBe(10);
    clock.advance(450);
    // Issuing forgets too: now 1_450, so those expiring up to 1_400 are gone.
    ticket();
    expect(a.usedTickets).toBe(6);
    clock.advance(2_000);
    ticket();
    expect(a.usedTickets).toBe(0);
    // A long run of streams keeps one lifetime's worth of used tickets at most.
    for (let i = 0; i < 1_000; i++) {
      expect(a.verifyTicket(ticket())).toBeDefined();
      clock.advance(50);
    }
    expect(a.usedTickets).toBeLessThanOrEqual(20);
  });
});
