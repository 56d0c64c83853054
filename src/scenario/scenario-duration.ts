const UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  millisecond: 1,
  milliseconds: 1,
  s: 1_000,
  sec: 1_000,
  secs: 1_000,
  second: 1_000,
  seconds: 1_000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
};
const PART = /\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*,?/iy;

/** How a scenario duration is written, for error messages. */
export const SCENARIO_DURATION_EXAMPLES = 'a duration such as "500ms", "90s", "30 minutes", "2 hours" or "1h30m"';

/**
 * Parses a scenario duration into milliseconds: a number and a unit, optionally separated by a space, one
 * or more times: `'500ms'`, `'90s'`, `'1.5s'`, `'30 minutes'`, `'2 hours'`, `'1h30m'`, `'1 hour 30 minutes'`.
 * Units: ms, s/sec/second(s), m/min/minute(s), h/hr/hour(s), d/day(s). Returns undefined when the text is
 * not a duration (a bare number has no unit and is refused). Fractions of a millisecond are rounded.
 *
 * @example parseScenarioDuration('2 hours') // 7_200_000
 */
export function parseScenarioDuration(text: string): number | undefined {
  const input = text.trim();
  if (input === '') return undefined;
  PART.lastIndex = 0;
  let total = 0;
  while (PART.lastIndex < input.length) {
    const match = PART.exec(input);
    if (match === null) return undefined;
    const unit = UNITS[(match[2] ?? '').toLowerCase()];
    if (unit === undefined) return undefined;
    total += Number(match[1]) * unit;
  }
  const ms = Math.round(total);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** Renders milliseconds compactly for humans: `1h30m`, `90s` → `1m30s`, `250ms`. */
export function formatScenarioDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  const parts: string[] = [];
  let rest = Math.round(ms);
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) {
    const amount = Math.floor(rest / size);
    if (amount > 0) parts.push(`${amount}${unit}`);
    rest -= amount * size;
  }
  if (rest > 0) parts.push(`${rest}ms`);
  return parts.join('');
}
