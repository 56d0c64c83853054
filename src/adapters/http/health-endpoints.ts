import { OptionsValidator } from '../../core/options.js';
import { reportCallbackError } from '../../core/report-callback-error.js';
import type { HealthReport, HealthReportView } from '../../health/health-report.js';
import { HEALTH_JSON_CONTENT_TYPE, healthReportHttpStatus } from '../../health/health-report.js';
import type { HttpReply } from './http-reply.js';
import type { Readiness } from './readiness.js';

/** Where the `antifragility` block of `/health` comes from; each source is optional. */
export interface AntifragilitySources {
  /** Breaker metrics (a `CircuitBreakerManager`). */
  breakers?: { getAllMetrics(): Record<string, unknown> };
  /** Cache counters (a `MultiLayerCache`). */
  cache?: { getMetrics(): unknown };
  /** Chaos experiment history (a `ChaosEngineering`, `ChaosMonkeyService` or experiment runner). */
  chaos?: { getHistory(): readonly unknown[] };
}

/** Options of {@link HealthEndpoints}. */
export interface HealthEndpointsOptions extends AntifragilitySources {
  /** The monitor whose `report(view)` answers each probe; without one every probe passes with no checks. */
  monitor?: { report(view?: HealthReportView): HealthReport };
  /** Readiness switch: while draining `/health/ready` fails. */
  readiness?: Readiness;
  /** Path prefix. @default '/health' */
  basePath?: string;
  /** Newest chaos runs put in the block (integer >= 0). @default 20 */
  chaosHistoryLimit?: number;
}

/** `/health` body: a health report plus the seed's `antifragility` block. */
export interface AntifragileHealthReport extends HealthReport {
  antifragility: { circuitBreakers?: Record<string, unknown>; cacheMetrics?: unknown; chaosHistory?: unknown[] };
}

/**
 * The health endpoints, framework-neutral: `<base>/live`, `<base>/ready`, `<base>/startup` and `<base>`
 * answer `application/health+json`, 200 for `pass`/`warn` and 503 for `fail`. `<base>` adds the seed's
 * `antifragility` block (breaker metrics, cache metrics, recent chaos history). Readiness fails while the
 * {@link Readiness} switch drains. A source that throws is reported and left out of the block.
 */
export class HealthEndpoints {
  private readonly options: HealthEndpointsOptions;
  private readonly base: string;
  private readonly limit: number;

  constructor(options: HealthEndpointsOptions = {}) {
    const v = new OptionsValidator('HealthEndpoints');
    if (typeof options !== 'object' || options === null) {
      v.fail('options', 'an object', options);
      v.throwIfInvalid();
    }
    const method = (path: string, value: unknown, name: string): void => {
      if (value !== undefined && (typeof value !== 'object' || value === null || typeof (value as Record<string, unknown>)[name] !== 'function')) {
        v.fail(path, `an object with ${name}()`, value);
      }
    };
    method('monitor', options.monitor, 'report');
    method('breakers', options.breakers, 'getAllMetrics');
    method('cache', options.cache, 'getMetrics');
    method('chaos', options.chaos, 'getHistory');
    method('readiness', options.readiness, 'drain');
    v.string('basePath', options.basePath);
    if (typeof options.basePath === 'string' && !options.basePath.startsWith('/')) v.fail('basePath', 'a path starting with /', options.basePath);
    v.integer('chaosHistoryLimit', options.chaosHistoryLimit, 0);
    v.throwIfInvalid();
    this.options = options;
    this.base = (options.basePath ?? '/health').replace(/\/+$/, '') || '/';
    this.limit = options.chaosHistoryLimit ?? 20;
  }

  /** The path prefix in force. */
  get basePath(): string {
    return this.base;
  }

  /** Which view `path` (without query string) asks for, or undefined when it is not a health path. */
  viewOf(path: string): HealthReportView | undefined {
    if (path === this.base) return 'health';
    const prefix = this.base === '/' ? '/' : `${this.base}/`;
    if (!path.startsWith(prefix)) return undefined;
    const rest = path.slice(prefix.length);
    return rest === 'live' || rest === 'ready' || rest === 'startup' ? rest : undefined;
  }

  /** The report of one view (with the `antifragility` block for `'health'`). */
  report(view: HealthReportView): HealthReport | AntifragileHealthReport {
    const report: HealthReport = this.options.monitor !== undefined ? this.options.monitor.report(view) : { status: 'pass', notes: [`view: ${view}`], checks: {} };
    const readiness = this.options.readiness;
    if (view === 'ready' && readiness?.draining === true) {
      report.status = 'fail';
      report.output = report.output === undefined ? `draining: ${readiness.reason ?? ''}` : `draining: ${readiness.reason ?? ''}; ${report.output}`;
    }
    if (view !== 'health') return report;
    return { ...report, antifragility: this.antifragility() };
  }

  /** The HTTP answer to a health path, or undefined when `path` is not one. */
  respond(path: string): HttpReply | undefined {
    const view = this.viewOf(path);
    if (view === undefined) return undefined;
    const report = this.report(view);
    return {
      status: healthReportHttpStatus(report),
      headers: { 'content-type': HEALTH_JSON_CONTENT_TYPE, 'cache-control': 'no-store' },
      body: JSON.stringify(report),
    };
  }

  private antifragility(): AntifragileHealthReport['antifragility'] {
    const o = this.options;
    const block: AntifragileHealthReport['antifragility'] = {};
    const read = <T>(what: string, fn: () => T): T | undefined => {
      try {
        return fn();
      } catch (error) {
        reportCallbackError(error, `HealthEndpoints source ${what}`);
        return undefined;
      }
    };
    if (o.breakers !== undefined) {
      const breakers = o.breakers;
      const m = read('breakers.getAllMetrics', () => breakers.getAllMetrics());
      if (m !== undefined) block.circuitBreakers = m;
    }
    if (o.cache !== undefined) {
      const cache = o.cache;
      const m = read('cache.getMetrics', () => cache.getMetrics());
      if (m !== undefined) block.cacheMetrics = m;
    }
    if (o.chaos !== undefined) {
      const chaos = o.chaos;
      const h = read('chaos.getHistory', () => chaos.getHistory());
      if (h !== undefined) block.chaosHistory = this.limit === 0 ? [] : h.slice(-this.limit);
    }
    return block;
  }
}
