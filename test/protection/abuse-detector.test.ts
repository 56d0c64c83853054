import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/core/options.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { AbuseDetector, DEFAULT_ABUSE_PATTERNS, type AbuseDetectorOptions } from '../../src/protection/abuse-detector.js';

function detector(options: AbuseDetectorOptions = {}): { clock: VirtualClock; abuse: AbuseDetector } {
  const clock = new VirtualClock();
  return { clock, abuse: new AbuseDetector({ clock, windowMs: 1_000, maxRequestsPerWindow: 10, blockMs: 5_000, ...options }) };
}

describe('AbuseDetector: request rate', () => {
  it('blocks a key at the request that reaches the rate, and unblocks it exactly blockMs later', () => {
    const { clock, abuse } = detector();
    const blocked: Array<{ key: string; untilMs: number; offence: number; reasons: readonly string[] }> = [];
    abuse.on('blocked', ({ key, untilMs, offence, reasons }) => blocked.push({ key, untilMs, offence, reasons }));
    clock.advance(1_000);
    for (let i = 1; i <= 5; i++) expect(abuse.inspect('ip', { path: '/' })).toMatchObject({ blocked: false, suspicious: false, score: i / 10 });
    expect(abuse.inspect('ip')).toMatchObject({ blocked: false, suspicious: true, score: 0.6, reasons: ['rate'] });
    for (let i = 7; i <= 9; i++) expect(abuse.inspect('ip').blocked).toBe(false);
    const tenth = abuse.inspect('ip');
    expect(tenth).toMatchObject({ blocked: true, score: 1, retryAfterMs: 5_000, reasons: ['rate'] });
    expect(blocked).toEqual([{ key: 'ip', untilMs: 6_000, offence: 1, reasons: ['rate'] }]);
    expect(abuse.inspect('other').blocked).toBe(false);

    clock.advance(4_999);
    expect(abuse.inspect('ip')).toMatchObject({ blocked: true, retryAfterMs: 1, score: 0, reasons: ['blocked'] });
    expect(abuse.isBlocked('ip')).toBe(true);
    clock.advance(1);
    expect(abuse.isBlocked('ip')).toBe(false);
    expect(abuse.blockRemainingMs('ip')).toBe(0);
    expect(abuse.inspect('ip')).toMatchObject({ blocked: false, score: 0.1 }); // a fresh start
  });

  it('estimates the rate as a sliding window, so a burst across a window edge counts', () => {
    const { clock, abuse } = detector();
    clock.advance(500);
    for (let i = 0; i < 8; i++) abuse.inspect('ip'); // the key's windows start at its first request: [500, 1500): 8
    clock.advance(1_250); // t = 1750: a quarter into [1500, 2500): 8 × 0.75 = 6 carried
    expect(abuse.inspect('ip').score).toBeCloseTo(0.7, 12);
    expect(abuse.inspect('ip').score).toBeCloseTo(0.8, 12);
    clock.advance(2_000); // two windows later nothing is carried
    expect(abuse.inspect('ip').score).toBeCloseTo(0.1, 12);
  });

  it('doubles each further block of a key up to maxBlockMs', () => {
    const { clock, abuse } = detector({ maxBlockMs: 12_000 });
    const blockOnce = (): number => {
      let verdict = abuse.inspect('ip');
      while (!verdict.blocked) verdict = abuse.inspect('ip');
      return verdict.retryAfterMs;
    };
    expect(blockOnce()).toBe(5_000);
    clock.advance(5_000);
    expect(blockOnce()).toBe(10_000);
    clock.advance(10_000);
    expect(blockOnce()).toBe(12_000);
    clock.advance(11_999);
    expect(abuse.isBlocked('ip')).toBe(true);
    clock.advance(1);
    expect(abuse.isBlocked('ip')).toBe(false);
  });
});

describe('AbuseDetector: payload and patterns', () => {
  it('adds points for oversized payloads and probing paths, which decay with their half-life', () => {
    const { clock, abuse } = detector({ maxRequestsPerWindow: 1_000_000, maxPayloadBytes: 100, pointsHalfLifeMs: 1_000 });
    const big = abuse.inspect('a', { path: '/upload', payloadBytes: 101 });
    expect(big).toMatchObject({ blocked: false, score: 0.5 + 1e-6 });
    clock.advance(1_000); // 0.5 → 0.25
    const probe = abuse.inspect('a', { path: '/../../etc/passwd' });
    expect(probe.score).toBeCloseTo(0.75 + 2e-6, 12);
    expect(probe).toMatchObject({ blocked: false, suspicious: true, reasons: ['path-traversal'] });
    const second = abuse.inspect('a', { path: '/.env' });
    expect(second).toMatchObject({ blocked: true, retryAfterMs: 5_000, reasons: ['dotfile'] });
    expect(abuse.inspect('b', { path: '/api/items?id=42', payloadBytes: 100 }).score).toBeCloseTo(1e-6, 12);
  });

  it('blocks on two probes at once, and knows the common probes', () => {
    const { abuse } = detector();
    expect(abuse.inspect('a', { path: "/wp-admin/?q=1' OR '1'='1" })).toMatchObject({ blocked: true, reasons: ['admin-probe', 'sql-injection'] });
    const hits = (path: string): string[] => DEFAULT_ABUSE_PATTERNS.filter((p) => p.pattern.test(path)).map((p) => p.name);
    expect(hits('/static/%2e%2e%2fsecret')).toEqual(['path-traversal']);
    expect(hits('/.git/config')).toEqual(['dotfile']);
    expect(hits('/search?q=<script>alert(1)</script>')).toEqual(['script-injection']);
    expect(hits('/items?q=union+select+password')).toEqual(['sql-injection']);
    expect(hits('/api/v1/users/42?sort=name')).toEqual([]);
    expect(hits('/environment/.envelope')).toEqual([]);
  });

  it('uses custom patterns and weights', () => {
    const { abuse } = detector({ maxRequestsPerWindow: 1_000, patterns: [{ name: 'login', pattern: /^\/login/, weight: 0.4 }] });
    expect(abuse.inspect('a', { path: '/login' }).blocked).toBe(false);
    expect(abuse.inspect('a', { path: '/login' }).blocked).toBe(false);
    expect(abuse.inspect('a', { path: '/login' })).toMatchObject({ blocked: true, reasons: ['login'] });
    expect(abuse.inspect('b', { path: '/.env' }).score).toBeCloseTo(0.001, 12); // the defaults are replaced
  });
});

describe('AbuseDetector: manual blocks and memory', () => {
  it('blocks and unblocks by hand', () => {
    const { clock, abuse } = detector();
    abuse.block('x', 2_000);
    clock.advance(1_999);
    expect(abuse.inspect('x')).toMatchObject({ blocked: true, retryAfterMs: 1 });
    abuse.unblock('x');
    expect(abuse.isBlocked('x')).toBe(false);
    expect(() => abuse.block('x', 0)).toThrow(RangeError);
  });

  it('stays bounded under 100k distinct keys, blocked or not', () => {
    const { abuse } = detector({ maxKeys: 1_000, maxBlocked: 500, maxRequestsPerWindow: 1 });
    for (let i = 0; i < 100_000; i++) expect(abuse.inspect(`ip:${i}`).blocked).toBe(true);
    expect(abuse.trackedKeys).toBe(1_000);
    expect(abuse.blockedKeys).toBe(500);
    expect(abuse.isBlocked('ip:99999')).toBe(true);
    expect(abuse.isBlocked('ip:0')).toBe(false);
  });

  it('reports every bad option with its path', () => {
    let error: unknown;
    try {
      new AbuseDetector({
        windowMs: 0,
        maxRequestsPerWindow: 0,
        patterns: [{ name: 'x', pattern: /x/g }, { pattern: /y/ } as never],
        blockThreshold: 1,
        suspiciousThreshold: 2,
        blockMs: 1_000,
        maxBlockMs: 10,
        maxKeys: 0,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual([
      'windowMs',
      'maxRequestsPerWindow',
      'patterns.0.pattern',
      'patterns.1.name',
      'suspiciousThreshold',
      'maxBlockMs',
      'maxKeys',
    ]);
  });
});
