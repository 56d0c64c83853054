import { describe, expect, it } from 'vitest';
import { formatScenarioDuration, parseScenarioDuration } from '../../src/scenario/scenario-duration.js';

describe('scenario durations', () => {
  it('parses words, abbreviations and compounds into milliseconds', () => {
    expect(parseScenarioDuration('2 hours')).toBe(7_200_000);
    expect(parseScenarioDuration('30 minutes')).toBe(1_800_000);
    expect(parseScenarioDuration('1 hour')).toBe(3_600_000);
    expect(parseScenarioDuration('90s')).toBe(90_000);
    expect(parseScenarioDuration('500ms')).toBe(500);
    expect(parseScenarioDuration('1.5s')).toBe(1_500);
    expect(parseScenarioDuration('1h30m')).toBe(5_400_000);
    expect(parseScenarioDuration('1 hour 30 minutes')).toBe(5_400_000);
    expect(parseScenarioDuration('2 days')).toBe(172_800_000);
    expect(parseScenarioDuration('0s')).toBe(0);
    for (const bad of ['', '10', 'soon', '10 parsecs', '-1s', '1s junk', 's']) expect(parseScenarioDuration(bad)).toBeUndefined();
  });

  it('formats milliseconds compactly', () => {
    expect(formatScenarioDuration(250)).toBe('250ms');
    expect(formatScenarioDuration(90_000)).toBe('1m30s');
    expect(formatScenarioDuration(7_200_000)).toBe('2h');
    expect(formatScenarioDuration(3_601_500)).toBe('1h1s500ms');
  });
});
