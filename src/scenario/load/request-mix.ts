import { OptionsValidator } from '../../core/options.js';
import type { LoadRequest } from './load-transport.js';

/**
 * The HTTP statuses a request of the mix counts as a success: a list (`[200, 404]`) or an inclusive range
 * (`{ min: 200, max: 299 }`).
 */
export type ExpectedStatus = readonly number[] | { readonly min: number; readonly max: number };

/** One kind of request in a load mix, picked in proportion to its `weight`. */
export interface RequestMixEntry {
  /** HTTP method. @default 'GET' */
  method?: string;
  /** Path (and query) appended to the target's base URL; starts with `/`. */
  path: string;
  /** Request headers. */
  headers?: Readonly<Record<string, string>>;
  /** Request body, sent as is (set `content-type` in `headers`). */
  body?: string;
  /** Relative share of this entry, > 0 (the weights need not add up to anything). @default 1 */
  weight?: number;
  /** Statuses counted as a success. @default { min: 200, max: 399 } */
  expect?: ExpectedStatus;
}

/** A {@link RequestMixEntry} with its defaults applied, ready to send. */
export class MixRequest implements LoadRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>> | undefined;
  readonly body: string | undefined;
  readonly weight: number;
  private readonly min: number;
  private readonly max: number;
  private readonly list: ReadonlySet<number> | undefined;

  /** @param entry a validated entry (see {@link RequestMix}). */
  constructor(entry: RequestMixEntry) {
    this.method = (entry.method ?? 'GET').toUpperCase();
    this.path = entry.path;
    this.headers = entry.headers;
    this.body = entry.body;
    this.weight = entry.weight ?? 1;
    const expect = entry.expect ?? { min: 200, max: 399 };
    if (isStatusList(expect)) {
      this.list = new Set(expect);
      this.min = 0;
      this.max = -1;
    } else {
      this.list = undefined;
      this.min = expect.min;
      this.max = expect.max;
    }
  }

  /** Whether `status` counts as a success for this request. */
  isSuccess(status: number): boolean {
    return this.list !== undefined ? this.list.has(status) : status >= this.min && status <= this.max;
  }
}

function isStatusList(expect: ExpectedStatus): expect is readonly number[] {
  return Array.isArray(expect);
}

/**
 * Checks a request mix, reporting each bad field under `path` (e.g. `mix[1].weight`) to `v`.
 * @internal
 */
export function validateRequestMix(v: OptionsValidator, path: string, entries: unknown): void {
  if (!Array.isArray(entries) || entries.length === 0) {
    v.fail(path, 'a non-empty array of { method?, path, headers?, body?, weight?, expect? }', entries);
    return;
  }
  entries.forEach((entry: unknown, i) => {
    const at = `${path}[${i}]`;
    if (!v.object(at, entry)) {
      if (entry === undefined) v.fail(at, 'an object', entry);
      return;
    }
    const e = entry as Record<string, unknown>;
    if (e.method !== undefined && (typeof e.method !== 'string' || !/^[A-Za-z]+$/.test(e.method))) {
      v.fail(`${at}.method`, 'an HTTP method such as "GET"', e.method);
    }
    if (typeof e.path !== 'string' || !e.path.startsWith('/')) v.fail(`${at}.path`, 'a string starting with "/"', e.path);
    if (v.object(`${at}.headers`, e.headers)) {
      for (const [name, value] of Object.entries(e.headers as object)) {
        if (typeof value !== 'string') v.fail(`${at}.headers.${name}`, 'a string', value);
      }
    }
    v.string(`${at}.body`, e.body);
    v.number(`${at}.weight`, e.weight, { minExclusive: 0 });
    validateExpect(v, `${at}.expect`, e.expect);
  });
}

function validateExpect(v: OptionsValidator, path: string, expect: unknown): void {
  if (expect === undefined) return;
  const isStatus = (s: unknown): boolean => typeof s === 'number' && Number.isInteger(s) && s >= 100 && s <= 599;
  if (Array.isArray(expect)) {
    if (expect.length === 0) v.fail(path, 'a non-empty list of HTTP statuses', expect);
    expect.forEach((s: unknown, i) => {
      if (!isStatus(s)) v.fail(`${path}[${i}]`, 'an HTTP status (an integer in 100..599)', s);
    });
    return;
  }
  if (!v.object(path, expect)) return;
  const { min, max } = expect as { min?: unknown; max?: unknown };
  if (!isStatus(min)) v.fail(`${path}.min`, 'an HTTP status (an integer in 100..599)', min);
  if (!isStatus(max)) v.fail(`${path}.max`, 'an HTTP status (an integer in 100..599)', max);
  if (isStatus(min) && isStatus(max) && (max as number) < (min as number)) v.fail(`${path}.max`, `>= min (${String(min)})`, max);
}

/**
 * A weighted set of requests: {@link pick} returns each entry with probability `weight / total weight`.
 *
 * @example
 * ```ts
 * const mix = new RequestMix([
 *   { method: 'GET', path: '/quotes/1', weight: 9 },
 *   { method: 'POST', path: '/quotes', body: '{"sku":"a"}', headers: { 'content-type': 'application/json' }, weight: 1, expect: [201] },
 * ]);
 * mix.pick(Math.random()); // the GET nine times in ten
 * ```
 */
export class RequestMix {
  /** The entries with their defaults applied, in the order given. */
  readonly requests: readonly MixRequest[];
  private readonly cumulative: Float64Array;
  private readonly total: number;

  /** @throws InvalidOptionsError listing every bad entry field. */
  constructor(entries: readonly RequestMixEntry[]) {
    const v = new OptionsValidator('RequestMix');
    validateRequestMix(v, 'mix', entries);
    v.throwIfInvalid();
    this.requests = entries.map((e) => new MixRequest(e));
    this.cumulative = new Float64Array(this.requests.length);
    let sum = 0;
    this.requests.forEach((r, i) => {
      sum += r.weight;
      this.cumulative[i] = sum;
    });
    this.total = sum;
  }

  /** The entry a uniform random number `r` in [0, 1) selects. */
  pick(r: number): MixRequest {
    const target = r * this.total;
    const n = this.requests.length;
    for (let i = 0; i < n - 1; i++) {
      if (target < (this.cumulative[i] as number)) return this.requests[i] as MixRequest;
    }
    return this.requests[n - 1] as MixRequest;
  }
}
