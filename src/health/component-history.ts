import { statusScore, type HealthCheckResult } from './health-check.js';

/** Direction of a component's health over its recent results. */
export type HealthTrend = 'improving' | 'stable' | 'declining';

/**
 * The bounded history of one component: a ring buffer of results (oldest first) with running counts, so
 * availability, error rate and mean response time cost O(1) to read.
 * @internal
 */
export class ComponentHistory {
  private readonly items: (HealthCheckResult | undefined)[];
  private head = 0;
  private size = 0;
  private healthy = 0;
  private unhealthy = 0;
  private responseTimeSum = 0;
  /** Unhealthy results in a row at the newest end. */
  consecutiveFailures = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<HealthCheckResult | undefined>(capacity);
  }

  get length(): number {
    return this.size;
  }

  push(result: HealthCheckResult): void {
    if (this.size === this.capacity) this.shift();
    this.items[(this.head + this.size) % this.capacity] = result;
    this.size++;
    this.count(result, 1);
    this.consecutiveFailures = result.status === 'unhealthy' ? this.consecutiveFailures + 1 : 0;
  }

  /** Drops entries whose `lastChecked` is before `cutoffMs`. */
  prune(cutoffMs: number): void {
    while (this.size > 0 && (this.items[this.head] as HealthCheckResult).lastChecked.getTime() < cutoffMs) this.shift();
    if (this.consecutiveFailures > this.size) this.consecutiveFailures = this.size;
  }

  clear(): void {
    this.items.fill(undefined);
    this.head = 0;
    this.size = 0;
    this.healthy = 0;
    this.unhealthy = 0;
    this.responseTimeSum = 0;
    this.consecutiveFailures = 0;
  }

  /** Results oldest first; the newest `limit` when given. */
  toArray(limit = this.size): HealthCheckResult[] {
    const n = Math.max(0, Math.min(limit, this.size));
    const out = new Array<HealthCheckResult>(n);
    for (let i = 0; i < n; i++) out[i] = this.at(this.size - n + i);
    return out;
  }

  /** Percentage (0..100) of healthy results; undefined when empty. */
  availability(): number | undefined {
    return this.size === 0 ? undefined : (this.healthy / this.size) * 100;
  }

  /** Percentage (0..100) of unhealthy results; undefined when empty. */
  errorRate(): number | undefined {
    return this.size === 0 ? undefined : (this.unhealthy / this.size) * 100;
  }

  /** Mean response time in milliseconds; undefined when empty. */
  meanResponseTime(): number | undefined {
    return this.size === 0 ? undefined : this.responseTimeSum / this.size;
  }

  /**
   * Trend over the newest `window` results: the mean score (healthy 100, degraded 50, unhealthy 0) of the
   * newer half minus that of the older half (both halves `floor(n / 2)` results; the middle one of an odd
   * count is left out). Above `+sensitivity` is improving, below `-sensitivity` declining, else stable;
   * fewer than 4 results are stable.
   */
  trend(window: number, sensitivity: number): HealthTrend {
    const n = Math.min(window, this.size);
    if (n < 4) return 'stable';
    const half = Math.floor(n / 2);
    const start = this.size - n;
    let older = 0;
    let newer = 0;
    for (let i = 0; i < half; i++) {
      older += statusScore(this.at(start + i).status);
      newer += statusScore(this.at(this.size - half + i).status);
    }
    const delta = (newer - older) / half;
    if (delta > sensitivity) return 'improving';
    if (delta < -sensitivity) return 'declining';
    return 'stable';
  }

  private at(index: number): HealthCheckResult {
    return this.items[(this.head + index) % this.capacity] as HealthCheckResult;
  }

  private shift(): void {
    const oldest = this.items[this.head] as HealthCheckResult;
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.size--;
    this.count(oldest, -1);
  }

  private count(result: HealthCheckResult, sign: 1 | -1): void {
    if (result.status === 'healthy') this.healthy += sign;
    else if (result.status === 'unhealthy') this.unhealthy += sign;
    this.responseTimeSum += sign * result.responseTime;
    if (this.size === 0) this.responseTimeSum = 0;
  }
}
