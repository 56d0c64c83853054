/**
 * How randomness spreads retry delays, as defined in the AWS Architecture Blog post
 * "Exponential Backoff And Jitter", with `d` the un-jittered delay capped at `maxMs`:
 * - `'none'`: `d`;
 * - `'full'`: `random_between(0, d)`;
 * - `'equal'`: `d / 2 + random_between(0, d / 2)`;
 * - `'decorrelated'`: `min(maxMs, random_between(initialMs, previous * 3))`, the growth coming from the
 *   previous delay rather than from the strategy's step or factor (see `backoff.decorrelated`).
 */
export type Jitter = 'none' | 'full' | 'equal' | 'decorrelated';

/** Every {@link Jitter} name, for validation. @internal */
export const jitterNames: readonly Jitter[] = ['none', 'full', 'equal', 'decorrelated'];

/** `ms` clamped to `0..maxMs`; NaN becomes 0. @internal */
export function clampDelay(ms: number, maxMs: number): number {
  return ms > 0 ? (ms < maxMs ? ms : maxMs) : 0;
}

/**
 * One draw of `random` clamped to `0..1`, so a misbehaving source cannot push a delay out of its range;
 * NaN counts as 0. @internal
 */
export function unitRandom(random: () => number): number {
  const r = random();
  return r > 0 ? (r < 1 ? r : 1) : 0;
}

/**
 * Applies `'none'`, `'full'` or `'equal'` jitter to `cappedMs` (already <= `maxMs`), clamped to `0..maxMs`.
 * @internal
 */
export function applyJitter(cappedMs: number, jitter: 'none' | 'full' | 'equal', random: () => number, maxMs: number): number {
  switch (jitter) {
    case 'none':
      return clampDelay(cappedMs, maxMs);
    case 'full':
      return clampDelay(cappedMs * unitRandom(random), maxMs);
    case 'equal': {
      // Clamped to half..capped: rounding (subnormal delays, say) must not step outside the range.
      const half = cappedMs / 2;
      const delay = half + half * unitRandom(random);
      return clampDelay(delay < half ? half : delay > cappedMs ? cappedMs : delay, maxMs);
    }
  }
}
