import type { OptionsValidator } from '../../core/options.js';

/** A day of the week, in a window's timezone. */
export type Weekday = 'sun' | 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat';

const WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/**
 * A recurring stretch of time in which chaos may run, e.g. weekdays 10:00-16:00 in Europe/Paris. A window
 * whose `endHour` is below its `startHour` spans midnight; it belongs to the day it starts on.
 */
export interface ChaosWindow {
  /** Days it opens on. @default every day */
  days?: readonly Weekday[];
  /** First hour inside it, 0..23. @default 0 */
  startHour?: number;
  /** Hour it closes (exclusive), 1..24; must differ from `startHour`. @default 24 */
  endHour?: number;
  /** IANA timezone of its days and hours. @default 'UTC' */
  timezone?: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const MAX_FORMATTERS = 64;

function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: timezone, weekday: 'short', hour: 'numeric', hourCycle: 'h23' });
    if (formatters.size >= MAX_FORMATTERS) formatters.clear();
    formatters.set(timezone, f);
  }
  return f;
}

/** Day (0 = Sunday) and hour of `atMs` in `timezone`. */
function dayAndHour(atMs: number, timezone: string): { day: number; hour: number } {
  let day = 0;
  let hour = 0;
  for (const part of formatter(timezone).formatToParts(new Date(atMs))) {
    if (part.type === 'weekday') day = WEEKDAYS.indexOf(part.value.slice(0, 3).toLowerCase() as Weekday);
    else if (part.type === 'hour') hour = Number(part.value) % 24;
  }
  return { day, hour };
}

/** Whether `atMs` (epoch ms) falls inside `window`. */
export function isWithinChaosWindow(window: ChaosWindow, atMs: number): boolean {
  const { day, hour } = dayAndHour(atMs, window.timezone ?? 'UTC');
  const start = window.startHour ?? 0;
  const end = window.endHour ?? 24;
  const opensOn = (d: number): boolean => window.days === undefined || window.days.includes(WEEKDAYS[d] as Weekday);
  if (start < end) return opensOn(day) && hour >= start && hour < end;
  return (hour >= start && opensOn(day)) || (hour < end && opensOn((day + 6) % 7));
}

/** Whether `atMs` falls inside any of `windows` (always true without windows). */
export function isWithinChaosWindows(windows: readonly ChaosWindow[] | undefined, atMs: number): boolean {
  return windows === undefined || windows.length === 0 || windows.some((w) => isWithinChaosWindow(w, atMs));
}

/** Checks windows into `v`, each reported under `path[i]`. @internal */
export function validateChaosWindows(v: OptionsValidator, path: string, windows: unknown): void {
  if (windows === undefined) return;
  if (!Array.isArray(windows)) {
    v.fail(path, 'an array of windows', windows);
    return;
  }
  windows.forEach((w: ChaosWindow, i) => {
    const p = `${path}[${i}]`;
    if (!v.object(p, w)) {
      if (w === undefined) v.fail(p, 'a window', w);
      return;
    }
    if (w.days !== undefined && (!Array.isArray(w.days) || w.days.some((d) => !WEEKDAYS.includes(d)))) {
      v.fail(`${p}.days`, `an array of ${WEEKDAYS.join(', ')}`, w.days);
    }
    v.number(`${p}.startHour`, w.startHour, { integer: true, min: 0, max: 23 });
    v.number(`${p}.endHour`, w.endHour, { integer: true, min: 1, max: 24 });
    if ((w.startHour ?? 0) === (w.endHour ?? 24)) {
      v.fail(`${p}.endHour`, 'an hour different from startHour', w.endHour);
    }
    if (typeof w.timezone === 'string') {
      try {
        formatter(w.timezone);
      } catch {
        v.fail(`${p}.timezone`, 'an IANA timezone', w.timezone);
      }
    } else if (w.timezone !== undefined) {
      v.fail(`${p}.timezone`, 'an IANA timezone', w.timezone);
    }
  });
}
