import { describe, expect, it } from 'vitest';
import { OptionsValidator, type InvalidOptionsError } from '../../../src/core/options.js';
import { isWithinChaosWindow, isWithinChaosWindows } from '../../../src/chaos/experiments/index.js';
import { validateChaosWindows } from '../../../src/chaos/experiments/chaos-window.js';

const at = (iso: string): number => Date.parse(iso);

describe('chaos windows', () => {
  it('weekdays 10:00-16:00 in a timezone', () => {
    const window = { days: ['mon', 'tue', 'wed', 'thu', 'fri'] as const, startHour: 10, endHour: 16, timezone: 'Europe/Paris' };
    const w = { ...window, days: [...window.days] };
    expect(isWithinChaosWindow(w, at('2024-06-03T07:59:59Z'))).toBe(false); // Monday 09:59 in Paris (UTC+2)
    expect(isWithinChaosWindow(w, at('2024-06-03T08:00:00Z'))).toBe(true); // 10:00
    expect(isWithinChaosWindow(w, at('2024-06-03T13:59:59Z'))).toBe(true); // 15:59
    expect(isWithinChaosWindow(w, at('2024-06-03T14:00:00Z'))).toBe(false); // 16:00
    expect(isWithinChaosWindow(w, at('2024-06-01T09:00:00Z'))).toBe(false); // Saturday
    expect(isWithinChaosWindow({ ...w, timezone: 'UTC' }, at('2024-06-03T08:00:00Z'))).toBe(false); // 08:00 UTC
  });

  it('a window across midnight belongs to the day it starts on', () => {
    const w = { days: ['sun' as const], startHour: 22, endHour: 4 };
    expect(isWithinChaosWindow(w, at('2024-06-02T22:00:00Z'))).toBe(true); // Sunday 22:00
    expect(isWithinChaosWindow(w, at('2024-06-03T03:59:00Z'))).toBe(true); // Monday 03:59, from Sunday
    expect(isWithinChaosWindow(w, at('2024-06-03T04:00:00Z'))).toBe(false);
    expect(isWithinChaosWindow(w, at('2024-06-02T03:00:00Z'))).toBe(false); // Sunday 03:00 belongs to Saturday
    expect(isWithinChaosWindow(w, at('2024-06-03T22:30:00Z'))).toBe(false); // Monday night
  });

  it('no window means any time; several windows are alternatives', () => {
    expect(isWithinChaosWindows(undefined, 0)).toBe(true);
    expect(isWithinChaosWindows([], 0)).toBe(true);
    const windows = [{ startHour: 1, endHour: 2 }, { startHour: 5, endHour: 6 }];
    expect(isWithinChaosWindows(windows, at('2024-06-03T05:30:00Z'))).toBe(true);
    expect(isWithinChaosWindows(windows, at('2024-06-03T03:30:00Z'))).toBe(false);
  });

  it('validates windows, listing every problem', () => {
    const v = new OptionsValidator('test');
    validateChaosWindows(v, 'windows', [{ days: ['someday'], startHour: 24, endHour: 0, timezone: 'Mars/Olympus' }, { startHour: 3, endHour: 3 }, 'x']);
    let issues: string[] = [];
    try {
      v.throwIfInvalid();
    } catch (error) {
      issues = (error as InvalidOptionsError).issues.map((i) => i.path);
    }
    expect(issues).toEqual(['windows[0].days', 'windows[0].startHour', 'windows[0].endHour', 'windows[0].timezone', 'windows[1].endHour', 'windows[2]']);
  });
});
