/**
 * An entry in a {@link TimerHeap}: a callback due at an absolute time.
 * @internal
 */
export interface TimerEntry {
  /** Absolute due time in clock milliseconds. */
  at: number;
  /** Insertion order, so entries due at the same time fire first-in first-out. */
  seq: number;
  callback: () => void;
  /** Whether a pending entry keeps the process alive (an awaited timer). */
  keepAlive: boolean;
  /** Position in the heap array, -1 once removed or fired. */
  index: number;
}

/**
 * A binary min-heap of timer entries ordered by due time then insertion order, with O(log n) removal
 * of any entry (each entry knows its index), so a cancelled deadline leaves no garbage behind.
 * @internal
 */
export class TimerHeap {
  private readonly items: TimerEntry[] = [];
  private seq = 0;
  private keepAliveCount = 0;

  /** Number of pending entries. */
  get size(): number {
    return this.items.length;
  }

  /** Number of pending entries that keep the process alive. */
  get keepAlivePending(): number {
    return this.keepAliveCount;
  }

  /** The earliest entry, or undefined when empty. */
  peek(): TimerEntry | undefined {
    return this.items[0];
  }

  push(at: number, callback: () => void, keepAlive: boolean): TimerEntry {
    return this.insert({ at, seq: 0, callback, keepAlive, index: -1 });
  }

  /** Adds an entry built by the caller (its `seq` and `index` are assigned here). */
  insert<E extends TimerEntry>(entry: E): E {
    entry.seq = this.seq++;
    entry.index = this.items.length;
    this.items.push(entry);
    if (entry.keepAlive) this.keepAliveCount++;
    this.siftUp(entry.index);
    return entry;
  }

  /** Removes an entry if it is still pending; returns whether it was. */
  remove(entry: TimerEntry): boolean {
    const i = entry.index;
    if (i < 0 || this.items[i] !== entry) return false;
    this.detach(entry);
    const last = this.items.pop() as TimerEntry;
    if (i < this.items.length) {
      this.items[i] = last;
      last.index = i;
      this.siftDown(i);
      this.siftUp(last.index);
    }
    return true;
  }

  /** Removes and returns the earliest entry if it is due at or before `now`. */
  popDue(now: number): TimerEntry | undefined {
    const first = this.items[0];
    if (first === undefined || first.at > now) return undefined;
    this.remove(first);
    return first;
  }

  private detach(entry: TimerEntry): void {
    entry.index = -1;
    if (entry.keepAlive) this.keepAliveCount--;
  }

  private less(a: TimerEntry, b: TimerEntry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private siftUp(start: number): void {
    const items = this.items;
    let i = start;
    const entry = items[i] as TimerEntry;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = items[parentIndex] as TimerEntry;
      if (!this.less(entry, parent)) break;
      items[i] = parent;
      parent.index = i;
      i = parentIndex;
    }
    items[i] = entry;
    entry.index = i;
  }

  private siftDown(start: number): void {
    const items = this.items;
    const n = items.length;
    let i = start;
    const entry = items[i] as TimerEntry;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      if (right < n && this.less(items[right] as TimerEntry, items[left] as TimerEntry)) child = right;
      const childEntry = items[child] as TimerEntry;
      if (!this.less(childEntry, entry)) break;
      items[i] = childEntry;
      childEntry.index = i;
      i = child;
    }
    items[i] = entry;
    entry.index = i;
  }
}
