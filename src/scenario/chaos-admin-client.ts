import type { TargetStatus } from '../adapters/http/chaos-admin-handler.js';
import type { ActiveFaultInfo } from '../chaos/chaos-registry.js';
import type { FaultSpec } from '../chaos/fault-spec.js';
import type { Clock } from '../core/clock.js';
import { jsonClientSettings, requestJson } from './json-request.js';

/** Options of {@link ChaosAdminClient}. */
export interface ChaosAdminClientOptions {
  /** URL of the admin endpoint itself, e.g. `http://localhost:3000/admin/chaos`. */
  url: string;
  /** The endpoint's bearer token. */
  token: string;
  /** Each request's time budget, ms. @default 5000 */
  timeoutMs?: number;
  /** Source of time for the deadlines. @default systemClock */
  clock?: Clock;
  /** The fetch implementation. @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** What `GET <base>/` tells about a service's chaos. */
export interface ChaosAdminState {
  enabled: boolean;
  permitted: boolean;
  environment: string;
  /** Dependencies faults can reach (those with an injector). */
  dependencies: string[];
  /** Active faults; `tag` is the one given when the fault was injected. */
  faults: (ActiveFaultInfo & { tag?: string })[];
  /** Running resource faults; `tag` is the one given when the fault was started. */
  resources: { id: string; kind: string; tag?: string }[];
}

/**
 * What a scenario run needs from a target service's chaos admin endpoint; {@link ChaosAdminClient} is the
 * HTTP implementation, tests may give an in-memory one.
 */
export interface ChaosAdminApi {
  state(signal?: AbortSignal): Promise<ChaosAdminState>;
  enable(signal?: AbortSignal): Promise<void>;
  disable(signal?: AbortSignal): Promise<void>;
  /**
   * Injects `fault` into the calls of `dependency`; returns the active fault (with its `id`). A `tag` is kept
   * with the fault and listed by {@link state}, so that the fault can be found (and removed) even when the
   * answer to this request is lost.
   */
  injectFault(dependency: string, fault: Exclude<FaultSpec, { kind: 'behavior' }>, signal?: AbortSignal, tag?: string): Promise<ActiveFaultInfo>;
  /** Removes fault `id`; `false` when it was no longer active (expired). */
  removeFault(id: string, signal?: AbortSignal): Promise<boolean>;
  /** Starts a resource fault (`{ kind: 'cpu', percent: 80 }`), tagged as {@link injectFault} does; returns its id. */
  startResource(spec: { kind: string } & Record<string, unknown>, signal?: AbortSignal, tag?: string): Promise<{ id: string; kind: string }>;
  /** Stops resource fault `id`; `false` when it was no longer running. */
  stopResource(id: string, signal?: AbortSignal): Promise<boolean>;
  status(signal?: AbortSignal): Promise<TargetStatus>;
}

/**
 * The client side of `createChaosAdminHandler` (the chaos admin endpoint a service mounts), over the global
 * `fetch`: every request carries the bearer token, errors come back as {@link TargetRequestError} with the
 * endpoint's `application/problem+json` detail.
 *
 * @example
 * const admin = new ChaosAdminClient({ url: 'http://localhost:3000/admin/chaos', token: process.env.ANTIFRAGILE_TOKEN! });
 * await admin.enable();
 * const fault = await admin.injectFault('payment', { kind: 'error', rate: 0.3 });
 * await admin.removeFault(fault.id);
 */
export class ChaosAdminClient implements ChaosAdminApi {
  /** The admin endpoint's URL, without a trailing slash. */
  readonly url: string;
  private readonly token: string;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private readonly fetch: typeof fetch;

  /** @throws InvalidOptionsError listing every bad option. */
  constructor(options: ChaosAdminClientOptions) {
    const settings = jsonClientSettings('ChaosAdminClient', options, true);
    this.url = settings.url;
    this.token = settings.token as string;
    this.timeoutMs = settings.timeoutMs;
    this.clock = settings.clock;
    this.fetch = settings.fetch;
  }

  async state(signal?: AbortSignal): Promise<ChaosAdminState> {
    return (await this.send('GET', '/', undefined, signal)).body as ChaosAdminState;
  }

  async enable(signal?: AbortSignal): Promise<void> {
    await this.send('POST', '/enable', undefined, signal);
  }

  async disable(signal?: AbortSignal): Promise<void> {
    await this.send('POST', '/disable', undefined, signal);
  }

  async injectFault(dependency: string, fault: Exclude<FaultSpec, { kind: 'behavior' }>, signal?: AbortSignal, tag?: string): Promise<ActiveFaultInfo> {
    return (await this.send('POST', '/faults', tag === undefined ? { dependency, fault } : { dependency, fault, tag }, signal)).body as ActiveFaultInfo;
  }

  async removeFault(id: string, signal?: AbortSignal): Promise<boolean> {
    return (await this.send('DELETE', `/faults/${encodeURIComponent(id)}`, undefined, signal, [404])).status !== 404;
  }

  /** Removes every fault (of `dependency` only, when given); returns how many. */
  async clearFaults(dependency?: string, signal?: AbortSignal): Promise<number> {
    const query = dependency === undefined ? '' : `?dependency=${encodeURIComponent(dependency)}`;
    const body = (await this.send('DELETE', `/faults${query}`, undefined, signal)).body as { removed?: number } | undefined;
    return body?.removed ?? 0;
  }

  async startResource(spec: { kind: string } & Record<string, unknown>, signal?: AbortSignal, tag?: string): Promise<{ id: string; kind: string }> {
    return (await this.send('POST', '/resources', tag === undefined ? spec : { ...spec, tag }, signal)).body as { id: string; kind: string };
  }

  async stopResource(id: string, signal?: AbortSignal): Promise<boolean> {
    return (await this.send('DELETE', `/resources/${encodeURIComponent(id)}`, undefined, signal, [404])).status !== 404;
  }

  async status(signal?: AbortSignal): Promise<TargetStatus> {
    const body = (await this.send('GET', '/status', undefined, signal)).body;
    return typeof body === 'object' && body !== null ? (body as TargetStatus) : {};
  }

  private send(method: 'GET' | 'POST' | 'DELETE', path: string, body: unknown, signal: AbortSignal | undefined, tolerate?: readonly number[]): Promise<{ status: number; body: unknown }> {
    return requestJson(path === '/' ? `${this.url}/` : `${this.url}${path}`, {
      method,
      body,
      token: this.token,
      timeoutMs: this.timeoutMs,
      clock: this.clock,
      fetch: this.fetch,
      ...(signal === undefined ? {} : { signal }),
      ...(tolerate === undefined ? {} : { tolerate }),
    });
  }
}
