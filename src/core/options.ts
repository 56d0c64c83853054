/** One problem found in an options object. */
export interface OptionIssue {
  /** Dotted path of the option, e.g. `halfOpen.maxCalls`. */
  path: string;
  /** What was expected, e.g. `a number in 0..1`. */
  expected: string;
  /** What was received, rendered for humans. */
  received: string;
}

/**
 * Raised when options are invalid. Lists every bad field at once, each with its path and what was expected.
 */
export class InvalidOptionsError extends RangeError {
  override readonly name: string = 'InvalidOptionsError';
  readonly issues: readonly OptionIssue[];
  constructor(component: string, issues: OptionIssue[]) {
    super(
      `Invalid ${component} options:\n` +
        issues.map((i) => `  - ${i.path}: expected ${i.expected}, received ${i.received}`).join('\n'),
    );
    this.issues = issues;
  }
}

function render(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

/**
 * Collects option problems and throws them together. Each check skips `undefined` (the default applies).
 * @internal
 */
export class OptionsValidator {
  private readonly issues: OptionIssue[] = [];
  constructor(private readonly component: string) {}

  fail(path: string, expected: string, value: unknown): void {
    this.issues.push({ path, expected, received: render(value) });
  }

  number(path: string, value: unknown, check: { min?: number; max?: number; integer?: boolean; minExclusive?: number; allowInfinity?: boolean }): void {
    if (value === undefined) return;
    const parts: string[] = [check.integer ? 'an integer' : 'a number'];
    if (check.minExclusive !== undefined) parts.push(`> ${check.minExclusive}`);
    if (check.min !== undefined && check.max !== undefined) parts.push(`in ${check.min}..${check.max}`);
    else if (check.min !== undefined) parts.push(`>= ${check.min}`);
    else if (check.max !== undefined) parts.push(`<= ${check.max}`);
    const expected = parts.join(' ');
    if (typeof value !== 'number' || Number.isNaN(value)) return this.fail(path, expected, value);
    if (!Number.isFinite(value) && !(check.allowInfinity && value === Infinity)) return this.fail(path, expected, value);
    if (check.integer && Number.isFinite(value) && !Number.isInteger(value)) return this.fail(path, expected, value);
    if (check.min !== undefined && value < check.min) return this.fail(path, expected, value);
    if (check.max !== undefined && value > check.max) return this.fail(path, expected, value);
    if (check.minExclusive !== undefined && value <= check.minExclusive) return this.fail(path, expected, value);
  }

  /** A duration in milliseconds, >= 0 (or > 0 when `positive`). */
  duration(path: string, value: unknown, positive = false): void {
    this.number(path, value, positive ? { minExclusive: 0 } : { min: 0 });
  }

  rate(path: string, value: unknown): void {
    this.number(path, value, { min: 0, max: 1 });
  }

  integer(path: string, value: unknown, min: number, allowInfinity = false): void {
    this.number(path, value, { integer: true, min, allowInfinity });
  }

  func(path: string, value: unknown): void {
    if (value !== undefined && typeof value !== 'function') this.fail(path, 'a function', value);
  }

  oneOf(path: string, value: unknown, choices: readonly string[]): void {
    if (value !== undefined && !choices.includes(value as string)) {
      this.fail(path, `one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`, value);
    }
  }

  /** A boolean. */
  boolean(path: string, value: unknown): void {
    if (value !== undefined && typeof value !== 'boolean') this.fail(path, 'a boolean', value);
  }

  /** A string. */
  string(path: string, value: unknown): void {
    if (value !== undefined && typeof value !== 'string') this.fail(path, 'a string', value);
  }

  /** A `Clock`: an object with `now()` and `schedule()` functions. */
  clock(path: string, value: unknown): void {
    if (value === undefined) return;
    const c = value as { now?: unknown; schedule?: unknown } | null;
    const holder = (typeof c === 'object' && c !== null) || typeof c === 'function';
    if (!holder || typeof c.now !== 'function' || typeof c.schedule !== 'function') {
      this.fail(path, 'a Clock with now() and schedule()', value);
    }
  }

  /**
   * A value that has no default: reports `undefined` as missing, with `expected` as what was expected.
   * Returns whether the value is present, so the other checks of it may follow.
   */
  required<T>(path: string, value: T, expected: string): value is Exclude<T, undefined> {
    if (value !== undefined) return true;
    this.fail(path, expected, value);
    return false;
  }

  /** A plain object (not null, not an array); returns whether it is one, so its fields may be checked. */
  object(path: string, value: unknown): boolean {
    if (value === undefined) return false;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(path, 'an object', value);
      return false;
    }
    return true;
  }

  /** Throws an {@link InvalidOptionsError} listing every problem found, if any. */
  throwIfInvalid(): void {
    if (this.issues.length > 0) throw new InvalidOptionsError(this.component, this.issues);
  }
}
