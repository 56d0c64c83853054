/**
 * A fixed-capacity buffer keeping the newest `capacity` items; pushing into a full buffer drops the oldest.
 * @internal
 */
export class RingBuffer<T> {
  private items: (T | undefined)[];
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(Math.min(capacity, 1024));
  }

  get size(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.count < this.capacity) {
      if (this.count === this.items.length) this.grow();
      this.items[(this.start + this.count) % this.items.length] = item;
      this.count++;
      return;
    }
    this.items[this.start] = item;
    this.start = (this.start + 1) % this.items.length;
  }

  /** Items newest first, while `visit` returns true. */
  visitNewestFirst(visit: (item: T) => boolean): void {
    const length = this.items.length;
    for (let i = this.count - 1; i >= 0; i--) {
      if (!visit(this.items[(this.start + i) % length] as T)) return;
    }
  }

  /** Removes every item for which `drop` is true; returns how many were removed. */
  removeWhere(drop: (item: T) => boolean): number {
    const kept: (T | undefined)[] = [];
    const length = this.items.length;
    for (let i = 0; i < this.count; i++) {
      const item = this.items[(this.start + i) % length] as T;
      if (!drop(item)) kept.push(item);
    }
    const removed = this.count - kept.length;
    if (removed === 0) return 0;
    this.count = kept.length;
    this.start = 0;
    kept.length = Math.max(Math.min(this.capacity, 1024), kept.length);
    this.items = kept;
    return removed;
  }

  private grow(): void {
    const next = new Array<T | undefined>(Math.min(this.capacity, this.items.length * 2));
    for (let i = 0; i < this.count; i++) next[i] = this.items[(this.start + i) % this.items.length];
    this.items = next;
    this.start = 0;
  }
}
