import { Registry } from 'prom-client';
import { OptionsValidator } from '../../core/options.js';
import type { HttpRequestObserver } from '../http/http-request-observer.js';

/** Options of {@link HttpServerMetrics}. Every field is optional. */
export interface HttpServerMetricsOptions {
  /** Where the histogram is registered. @default a new Registry */
  registry?: Registry;
  /** Name of the histogram family (letters, digits, `_` and `:`). @default 'http_server_request_duration_seconds' */
  name?: string;
  /**
   * Upper bounds of the buckets, in seconds, ascending.
   * @default [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] (OpenTelemetry's advice)
   */
  buckets?: number[];
  /** Most distinct `route` values (integer >= 1); later routes are counted as `other`. @default 200 */
  maxRoutes?: number;
}

/** One label set's histogram: per-bucket counts (not cumulative), sum and count. */
interface Series {
  readonly labels: Readonly<Record<string, string>>;
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** A value as prom-client's Registry prints it. */
interface ExportedValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE', '_OTHER'] as const;
const METHOD_INDEX: Readonly<Record<string, number>> = Object.freeze(Object.fromEntries(METHODS.map((m, i) => [m, i])));
const OTHER_METHOD = METHODS.length - 1;
const OTHER_ROUTE = 'other';
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * The HTTP server request histogram, fed by `HttpResilience` (`metrics` option) for node:http, Express and
 * Fastify: `http_server_request_duration_seconds{method, route, status_code}` with `_bucket`, `_sum` and
 * `_count` (the request count, so no separate counter is needed). `method` is one of the standard methods or
 * `_OTHER`; `route` is the route template (`/quotes/:id`, absent on plain node:http) and at most `maxRoutes`
 * distinct values; `status_code` is the answer's status.
 *
 * It is a collector in prom-client's Registry (scraped, merged and reset like any other metric), but keeps its
 * own counts: a request costs two map lookups and a bucket search, where prom-client's `observe()` hashes and
 * validates the label object on every call, which is most of a hello-world route's budget.
 *
 * @example
 * ```ts
 * const metrics = new HttpServerMetrics({ registry });
 * const resilience = new HttpResilience({ metrics, degradation: gate, rateLimit });
 * ```
 */
export class HttpServerMetrics implements HttpRequestObserver {
  /** The registry the histogram is registered in. */
  readonly registry: Registry;
  /** Histogram family name. */
  readonly name: string;
  private readonly bounds: readonly number[];
  private readonly maxRoutes: number;
  /** route ('' when unknown) → (method index × 1000 + status) → series. */
  private readonly routes = new Map<string, Map<number, Series>>();

  /** @throws InvalidOptionsError listing every invalid field. */
  constructor(options: HttpServerMetricsOptions = {}) {
    const v = new OptionsValidator('HttpServerMetrics');
    if (v.object('options', options)) {
      if (options.registry !== undefined && !(options.registry instanceof Registry)) v.fail('registry', 'a prom-client Registry', options.registry);
      if (options.name !== undefined && (typeof options.name !== 'string' || !NAME.test(options.name))) v.fail('name', 'a metric name (letters, digits, _ and :)', options.name);
      if (options.buckets !== undefined) {
        const b = options.buckets as unknown;
        const ok = Array.isArray(b) && b.length > 0 && b.every((x: unknown, i) => typeof x === 'number' && Number.isFinite(x) && x > 0 && (i === 0 || x > (b[i - 1] as number)));
        if (!ok) v.fail('buckets', 'a non-empty ascending array of positive finite numbers', b);
      }
      v.integer('maxRoutes', options.maxRoutes, 1);
    }
    v.throwIfInvalid();
    this.registry = options.registry ?? new Registry();
    this.name = options.name ?? 'http_server_request_duration_seconds';
    this.bounds = [...(options.buckets ?? DEFAULT_BUCKETS)];
    this.maxRoutes = options.maxRoutes ?? 200;
    const collector = {
      name: this.name,
      help: 'Duration of HTTP server requests, by method, route template and status code.',
      type: 'histogram',
      aggregator: 'sum',
      get: () => Promise.resolve({ name: this.name, help: collector.help, type: 'histogram', aggregator: 'sum', values: this.export() }),
      reset: () => this.routes.clear(),
    };
    // prom-client's Registry takes any object with its metric shape; its types only name its own classes.
    this.registry.registerMetric(collector as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** Records one finished request (called by `HttpResilience`; safe to call directly). */
  observeRequest(method: string, route: string | undefined, statusCode: number, durationSeconds: number): void {
    const byRoute = this.routes.get(route ?? '') ?? this.addRoute(route ?? '');
    const key = (METHOD_INDEX[method] ?? OTHER_METHOD) * 1000 + statusCode;
    const series = byRoute.get(key) ?? this.addSeries(byRoute, route, method, statusCode, key);
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && durationSeconds > (bounds[i] as number)) i++;
    if (i < bounds.length) series.counts[i]! += 1;
    series.count += 1;
    series.sum += durationSeconds;
  }

  private addRoute(route: string): Map<number, Series> {
    if (route !== '' && this.routes.size >= this.maxRoutes) {
      const other = this.routes.get(OTHER_ROUTE);
      if (other !== undefined) return other;
      route = OTHER_ROUTE;
    }
    const byRoute = new Map<number, Series>();
    this.routes.set(route, byRoute);
    return byRoute;
  }

  private addSeries(byRoute: Map<number, Series>, route: string | undefined, method: string, statusCode: number, key: number): Series {
    const labels: Record<string, string> = { method: METHOD_INDEX[method] !== undefined ? method : '_OTHER' };
    if (route !== undefined && route !== '') labels.route = this.routes.get(route) === byRoute ? route : OTHER_ROUTE;
    labels.status_code = String(statusCode);
    const series: Series = { labels: Object.freeze(labels), counts: new Float64Array(this.bounds.length), sum: 0, count: 0 };
    byRoute.set(key, series);
    return series;
  }

  private export(): ExportedValue[] {
    const values: ExportedValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const byRoute of this.routes.values()) {
      for (const s of byRoute.values()) {
        let cumulative = 0;
        this.bounds.forEach((le, i) => {
          cumulative += s.counts[i] as number;
          values.push({ metricName: bucket, labels: { ...s.labels, le }, value: cumulative });
        });
        values.push({ metricName: bucket, labels: { ...s.labels, le: '+Inf' }, value: s.count });
        values.push({ metricName: `${this.name}_sum`, labels: { ...s.labels }, value: s.sum });
        values.push({ metricName: `${this.name}_count`, labels: { ...s.labels }, value: s.count });
      }
    }
    return values;
  }
}
