/**
 * Keeps a free-form label (an experiment name, a health component) bounded: the first `max` distinct
 * values pass as they are, any later one is reported as {@link BoundedLabel.OVERFLOW}.
 * @internal
 */
export class BoundedLabel {
  /** What a value beyond the limit is reported as. */
  static readonly OVERFLOW = 'other';
  private readonly seen = new Set<string>();

  constructor(private readonly max: number) {}

  /** `value` if it is known or there is room for it, else {@link BoundedLabel.OVERFLOW}. */
  of(value: string): string {
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.max) return BoundedLabel.OVERFLOW;
    this.seen.add(value);
    return value;
  }
}
