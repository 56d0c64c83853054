import { OptionsValidator } from '../../core/options.js';
import type { Unsubscribe } from '../../core/events.js';
import type { GracefulDegradation } from '../../degradation/graceful-degradation.js';
import { HttpError } from './http-error.js';

/** What the gate needs of a {@link GracefulDegradation}. */
export type DegradationSource = Pick<GracefulDegradation, 'getCurrentState' | 'getLevels' | 'on'>;

/**
 * Options of {@link DegradationGate}.
 *
 * Defaults by number of levels (level 0 is always full service, never read-only or emergency by default):
 *
 * | levels | read-only from | emergency from | `X-Service-Status` per level |
 * | --- | --- | --- | --- |
 * | 1 (`['normal']`) | none | none | `operational` |
 * | 2 (`['normal', 'degraded']`) | level 1 | none | `operational`, `read-only` |
 * | 3 (`['normal', 'degraded', 'critical']`) | level 1 | level 2 | `operational`, `read-only`, `emergency` |
 * | 4, the default (`['full', 'reduced', 'minimal', 'emergency']`) | `minimal` | `emergency` | `operational`, `degraded`, `read-only`, `emergency` |
 * | 5 (`['normal', 'reduced', 'read-only', 'minimal', 'emergency']`) | `read-only` | `emergency` | `operational`, `degraded`, `read-only`, `read-only`, `emergency` |
 *
 * `X-Service-Status` is `operational` at level 0, then `emergency` from the emergency level on, `read-only`
 * from the read-only level on, and `degraded` below it. With fewer than three levels there is no emergency
 * level unless `emergencyLevel` names one, so a degraded service keeps serving reads; and a defaulted
 * emergency level never falls on or before the read-only level (it is dropped instead: with
 * `['normal', 'degraded', 'read-only']` the last level refuses writes only).
 */
export interface DegradationGateOptions {
  /** The degradation whose level decides. */
  degradation: DegradationSource;
  /**
   * The least severe level at which writes are refused with 503 (that level and every more severe one); a
   * level after the first (the first is full service).
   * @default 'read-only' when a level after the first has that name, else the second most severe level but
   * never the first ('minimal' with the default levels; the second of two levels; none with one level); when
   * `emergencyLevel` is given and is less severe, that level (writes are refused in the emergency level too)
   */
  readOnlyLevel?: string;
  /**
   * The least severe level at which only `allowInEmergency` paths are served (that level and every more
   * severe one; writes stay refused); a level after the first (the first is full service).
   * @default the most severe level when there are at least 3 levels and it comes after the read-only level, else none
   */
  emergencyLevel?: string;
  /**
   * Paths served in the emergency level: exact paths, `:param` segments (`/quotes/:id`) and a trailing `*`
   * (`/health/*` matches `/health` and everything under it). @default ['/health/*']
   */
  allowInEmergency?: string[];
  /** Methods counted as writes. @default ['POST', 'PUT', 'PATCH', 'DELETE'] */
  writeMethods?: string[];
  /** `Retry-After` of refusals, in milliseconds (the seed answers 300 s). @default 300_000 */
  retryAfterMs?: number;
}

/** The gate's verdict on one request: headers to set, and the refusal when it is refused. */
export interface DegradationDecision {
  /** `X-Degradation-Level` (level index, 0 = full service) and `X-Service-Status`, to set on every answer. */
  headers: Readonly<Record<string, string>>;
  /** The same headers as flat `[name, value, name, value]`. */
  headerList: readonly string[];
  /** Set when the request is refused (503); answer it with `problemFromError`. */
  refusal: HttpError | undefined;
}

type Matcher = (path: string) => boolean;

function compile(pattern: string): Matcher {
  if (pattern.endsWith('/*') || pattern === '*') {
    const prefix = pattern.slice(0, -2);
    return (path) => path === prefix || path.startsWith(`${prefix}/`) || (prefix === '' && path.startsWith('/'));
  }
  if (!pattern.includes(':')) return (path) => path === pattern;
  const parts = pattern.split('/');
  return (path) => {
    const actual = path.split('/');
    if (actual.length !== parts.length) return false;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i] as string;
      const a = actual[i] as string;
      if (p.startsWith(':') ? a === '' : p !== a) return false;
    }
    return true;
  };
}

/**
 * The seed's graceful degradation middleware, framework-neutral: every answer carries `X-Degradation-Level`
 * and `X-Service-Status`; from the read-only level on, writes are refused with 503; in the emergency level
 * only allow-listed paths are served (writes stay refused). The level is followed through `levelChange`
 * events, so a request costs no state snapshot. Call {@link dispose} to unsubscribe.
 *
 * `X-Service-Status` is `operational` at the first level, `degraded` below the read-only level,
 * `read-only` from it, `emergency` from the emergency level (see {@link DegradationGateOptions} for the
 * defaults per number of levels).
 */
export class DegradationGate {
  private readonly levels: readonly string[];
  private readonly readOnlyIndex: number;
  private readonly emergencyIndex: number;
  private readonly matchers: readonly Matcher[];
  private readonly allowList: readonly string[];
  private readonly writes: ReadonlySet<string>;
  private readonly retryAfterMs: number;
  /** The decision to serve, per level (shared: a served request allocates nothing). */
  private readonly servedByLevel: readonly DegradationDecision[];
  private readonly unsubscribe: Unsubscribe;
  private index: number;

  constructor(options: DegradationGateOptions) {
    const v = new OptionsValidator('DegradationGate');
    if (typeof options !== 'object' || options === null) {
      v.fail('options', 'an object', options);
      v.throwIfInvalid();
    }
    const d = options.degradation as Partial<DegradationSource> | undefined;
    let levels: string[] = [];
    if (v.required('degradation', d, 'a GracefulDegradation')) {
      if (typeof d !== 'object' || d === null || typeof d.getCurrentState !== 'function' || typeof d.getLevels !== 'function' || typeof d.on !== 'function') {
        v.fail('degradation', 'a GracefulDegradation', d);
      } else levels = d.getLevels();
    }
    v.string('readOnlyLevel', options.readOnlyLevel);
    v.string('emergencyLevel', options.emergencyLevel);
    if (levels.length > 0) {
      for (const field of ['readOnlyLevel', 'emergencyLevel'] as const) {
        const value = options[field];
        if (typeof value !== 'string') continue;
        if (!levels.includes(value)) v.fail(field, `one of ${levels.join(', ')}`, value);
        // The first level is full service: refusing anything there would contradict X-Service-Status: operational.
        else if (value === levels[0]) v.fail(field, `a level more severe than ${levels[0]}`, value);
      }
    }
    for (const [name, list] of [['allowInEmergency', options.allowInEmergency], ['writeMethods', options.writeMethods]] as const) {
      if (list === undefined) continue;
      if (!Array.isArray(list)) v.fail(name, 'an array of strings', list);
      else list.forEach((p: unknown, i) => (typeof p !== 'string' || p === '' ? v.fail(`${name}[${i}]`, 'a non-empty string', p) : undefined));
    }
    v.duration('retryAfterMs', options.retryAfterMs);
    v.throwIfInvalid();

    const source = options.degradation;
    this.levels = levels;
    const n = levels.length;
    // n stands for "no such level": the level index never reaches it.
    const named = levels.indexOf('read-only');
    let readOnly = options.readOnlyLevel !== undefined ? levels.indexOf(options.readOnlyLevel) : named >= 1 ? named : Math.max(1, n - 2);
    let emergency = n;
    if (options.emergencyLevel !== undefined) {
      emergency = levels.indexOf(options.emergencyLevel);
      if (options.readOnlyLevel === undefined) readOnly = Math.min(readOnly, emergency);
    } else if (n >= 3 && n - 1 > readOnly) {
      emergency = n - 1;
    }
    this.readOnlyIndex = readOnly;
    this.emergencyIndex = emergency;
    this.allowList = options.allowInEmergency ?? ['/health/*'];
    this.matchers = this.allowList.map(compile);
    this.writes = new Set((options.writeMethods ?? ['POST', 'PUT', 'PATCH', 'DELETE']).map((m) => m.toUpperCase()));
    this.retryAfterMs = options.retryAfterMs ?? 300_000;
    this.servedByLevel = levels.map((_, i) => {
      const level = String(i);
      const status = this.statusOf(i);
      const headers = Object.freeze({ 'x-degradation-level': level, 'x-service-status': status });
      return Object.freeze({ headers, headerList: Object.freeze(['x-degradation-level', level, 'x-service-status', status]), refusal: undefined });
    });
    this.index = source.getCurrentState().levelIndex;
    this.unsubscribe = source.on('levelChange', ({ to }) => {
      const i = this.levels.indexOf(to);
      if (i >= 0) this.index = i;
    });
  }

  /** The level in force, as the gate last saw it. */
  get level(): string {
    return this.levels[this.index] as string;
  }

  /**
   * Decides on one request.
   * @param method HTTP method (any case).
   * @param path the URL path without the query string.
   */
  check(method: string, path: string): DegradationDecision {
    const i = this.index;
    const served = this.servedByLevel[i] as DegradationDecision;
    if (i >= this.readOnlyIndex && this.writes.has(method.toUpperCase())) {
      return { ...served, refusal: this.refuse('Service in read-only mode', 'READ_ONLY', {}) };
    }
    if (i >= this.emergencyIndex && !this.matchers.some((m) => m(path))) {
      return { ...served, refusal: this.refuse('Service in emergency mode', 'EMERGENCY_MODE', { availableEndpoints: [...this.allowList] }) };
    }
    return served;
  }

  /** Stops following the degradation's level. */
  dispose(): void {
    this.unsubscribe();
  }

  private refuse(detail: string, code: string, extra: Record<string, unknown>): HttpError {
    return new HttpError(503, 'Service Unavailable', detail, {
      code,
      retryAfterMs: this.retryAfterMs,
      extensions: { degradationLevel: this.index, degradationLevelName: this.levels[this.index], ...extra },
    });
  }

  private statusOf(i: number): string {
    if (i === 0) return 'operational';
    if (i >= this.emergencyIndex) return 'emergency';
    if (i >= this.readOnlyIndex) return 'read-only';
    return 'degraded';
  }
}
