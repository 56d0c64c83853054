/**
 * A cheap, slightly stale reading of a real clock for hot-path bookkeeping (which bucket of a rolling
 * window a call lands in). Reading the real time costs 40-60 ns on common hosts, as much as the rest of a
 * closed circuit breaker's work; this returns a cached value refreshed by one shared, unref'd ticker that
 * runs only while readings are being taken and stops by itself after one idle tick.
 * @internal
 */
export class CoarseTime {
  private value = 0;
  private running = false;
  private readSinceTick = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly onTick = (): void => this.tick();

  /**
   * @param read the exact time source.
   * @param resolutionMs how stale a reading may be while ticking, in ms.
   */
  constructor(
    private readonly read: () => number,
    readonly resolutionMs: number,
  ) {}

  /** The time, at most `resolutionMs` old (plus any event-loop stall since the last tick). */
  now(): number {
    if (this.running) {
      this.readSinceTick = true;
      return this.value;
    }
    this.value = this.read();
    this.running = true;
    this.readSinceTick = false;
    this.timer = setInterval(this.onTick, this.resolutionMs);
    this.timer.unref();
    return this.value;
  }

  private tick(): void {
    if (!this.readSinceTick) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.running = false;
      return;
    }
    this.readSinceTick = false;
    this.value = this.read();
  }
}
