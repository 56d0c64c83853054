import { systemClock } from '../../core/clock.js';
import type { Clock, TimerHandle } from '../../core/clock.js';
import { TimeoutError } from '../../core/errors.js';
import { EventEmitter } from '../../core/events.js';
import type { Unsubscribe } from '../../core/events.js';
import { OptionsValidator } from '../../core/options.js';
import { reportCallbackError } from '../../core/report-callback-error.js';
import type { LoadSummary, TimePoint } from '../journal.js';
import { HttpTransport } from './http-transport.js';
import { LoadRecorder } from './load-recorder.js';
import type { LoadTicket, RecentLoad } from './load-recorder.js';
import type { LoadTransport } from './load-transport.js';
import { RequestMix, validateRequestMix } from './request-mix.js';
import type { MixRequest, RequestMixEntry } from './request-mix.js';

/** Options of {@link LoadGenerator}. Give exactly one of `url` and `transport`. */
export interface LoadGeneratorOptions {
  /** Base URL of the service under load (`http://` or `https://`); requests go through a dedicated undici pool. */
  url?: string;
  /** A transport to send requests with instead of HTTP to `url`; the generator does not close it. */
  transport?: LoadTransport;
  /** The requests to send, picked by weight. */
  mix: readonly RequestMixEntry[];
  /** Arrival rate in requests per second, >= 0 (0 pauses); change it with {@link LoadGenerator.setRate}. */
  rate: number;
  /** Time a request may take from being sent before it is aborted and counted as `'timeout'`, in ms. @default 10000 */
  timeoutMs?: number;
  /**
   * Most requests in flight. A request due while this many are pending is not sent and counts as failed
   * with cause `'overload'`, so a stalled target cannot make the generator queue without bound.
   * @default 10000
   */
  maxInFlight?: number;
  /** Connections of the HTTP pool (with `url` only). @default min(maxInFlight, max(64, ceil(rate))) */
  connections?: number;
  /** Phase label of the first requests. @default 'load' */
  phase?: string;
  /** Names of the faults active at start. @default [] */
  activeFaults?: readonly string[];
  /** Seconds covered by the live figures of {@link LoadGenerator.snapshot}. @default 5 */
  recentSeconds?: number;
  /** Uniform random numbers in [0, 1) for picking requests from the mix. @default Math.random */
  random?: () => number;
  /** Source of time. @default systemClock */
  clock?: Clock;
  /** Name carried by diagnostics channel messages. @default 'load' */
  name?: string;
}

/** Events of {@link LoadGenerator}. */
export interface LoadGeneratorEvents {
  /** A second of the run was closed (every request intended in it finished). */
  second: TimePoint;
}

/** Live state of a {@link LoadGenerator}. */
export interface LoadSnapshot {
  /** Whether requests are being started (between `start()` and `stop()`). */
  running: boolean;
  /** Current phase label. */
  phase: string;
  /** Milliseconds since `start()` (frozen at `stop()`). */
  elapsedMs: number;
  /** Target arrival rate, requests per second. */
  rate: number;
  /** Requests sent and not finished. */
  inFlight: number;
  /** Faults currently active, as last set. */
  activeFaults: readonly string[];
  /** Requests started since `start()`. */
  sent: number;
  /** Requests finished with a success since `start()`. */
  ok: number;
  /** Requests finished with a failure since `start()`. */
  failed: number;
  /** Figures of the last few seconds. */
  recent: RecentLoad;
}

/** What {@link LoadGenerator.stop} returns. */
export interface LoadResult {
  /** Milliseconds from `start()` to `stop()`. */
  durationMs: number;
  /** Figures of the whole run. */
  totals: LoadSummary;
  /** Figures of each phase, by phase label, in order of first use. */
  phases: Record<string, LoadSummary>;
  /** One point per second of the run (the last one may be partial). */
  series: TimePoint[];
}

/** Options of {@link LoadGenerator.stop}. */
export interface LoadStopOptions {
  /**
   * Abort the requests in flight instead of waiting for them; they count as failed with cause `'aborted'`
   * and no latency (for an interrupted run).
   * @default false
   */
  abortInFlight?: boolean;
}

/** A request sent and not yet finished; a node of the in-flight list, which is in deadline order. */
class InFlight {
  prev: InFlight | undefined;
  next: InFlight | undefined;
  done = false;
  readonly controller = new AbortController();
  constructor(
    readonly ticket: LoadTicket,
    readonly request: MixRequest,
    readonly deadline: number,
  ) {}
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The failure cause recorded for a request that rejected with `error`. */
function errorKeyOf(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code !== 'string') return 'error';
  if (CONNECTION_CODES.has(code)) return 'connection';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'TIMEOUT') return 'timeout';
  return /^[A-Z][A-Z0-9_]{0,39}$/.test(code) ? code : 'error';
}

const emptyRecent: RecentLoad = { windowMs: 0, sent: 0, ok: 0, failed: 0, ratePerSec: 0, success: null, p50: 0, p95: 0, p99: 0 };

function validateRate(v: OptionsValidator, path: string, rate: unknown): void {
  v.number(path, rate, { min: 0 });
}

/**
 * An open-model HTTP load generator: requests start at their intended times `t0 + i / rate` whatever the
 * target does, and each request's latency is measured from its intended start, so a stalled target shows
 * as large latencies rather than as fewer samples (no coordinated omission). A rate change takes effect
 * at once. One timer drives everything: each tick starts every request that fell due, aborts the ones
 * past their timeout (`'timeout'`) and closes finished seconds; no timer per request.
 *
 * Requests are labelled with the phase current at their intended start; figures come per second
 * ({@link TimePoint}), per phase and in total ({@link LoadSummary}), latencies in log-linear histograms.
 *
 * @example
 * ```ts
 * const load = new LoadGenerator({ url: 'http://localhost:3000', rate: 100, mix: [{ path: '/quotes/1' }], phase: 'warm-up' });
 * load.start();
 * // ... 30 s later
 * load.setPhase('spike');
 * load.setRate(1_000);
 * load.setActiveFaults(['redis-down']);
 * // ...
 * const { totals, phases, series } = await load.stop();
 * ```
 */
export class LoadGenerator {
  /** Where requests go: an {@link HttpTransport} when built from `url`. */
  readonly transport: LoadTransport;
  private readonly ownsTransport: boolean;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly timeoutMs: number;
  private readonly maxInFlight: number;
  private readonly recentSeconds: number;
  private readonly events: EventEmitter<LoadGeneratorEvents>;
  private mix: RequestMix;
  private currentRate: number;
  private phaseName: string;
  private faults: readonly string[];
  private recorder: LoadRecorder | undefined;
  private state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  private origin = 0;
  private endAt: number | undefined;
  private nextDue = Infinity;
  private lastDue: number | undefined;
  private timer: TimerHandle | undefined;
  private armedAt = Infinity;
  private head: InFlight | undefined;
  private tail: InFlight | undefined;
  private pending = 0;
  private onDrained: (() => void) | undefined;
  private stopping: Promise<LoadResult> | undefined;
  private readonly onTick = (): void => this.tick();
  private readonly onPoint = (point: TimePoint): void => {
    if (this.events.wants('second')) this.events.emit('second', point);
  };

  /** @throws InvalidOptionsError listing every bad option. */
  constructor(options: LoadGeneratorOptions) {
    const v = new OptionsValidator('LoadGenerator');
    if (options.url === undefined && options.transport === undefined) v.fail('url', 'a URL (or a transport)', undefined);
    if (options.url !== undefined && options.transport !== undefined) v.fail('transport', 'absent when url is given', 'a transport');
    v.string('url', options.url);
    if (options.transport !== undefined) {
      const t = options.transport as Partial<LoadTransport> | null;
      if (typeof t !== 'object' || t === null || typeof t.send !== 'function' || typeof t.close !== 'function') {
        v.fail('transport', 'a LoadTransport with send() and close()', options.transport);
      }
    }
    validateRequestMix(v, 'mix', options.mix);
    if (v.required('rate', options.rate, 'a number >= 0 (requests per second)')) validateRate(v, 'rate', options.rate);
    v.duration('timeoutMs', options.timeoutMs, true);
    v.integer('maxInFlight', options.maxInFlight, 1);
    v.integer('connections', options.connections, 1);
    if (options.connections !== undefined && options.transport !== undefined) v.fail('connections', 'absent with a transport', options.connections);
    v.string('phase', options.phase);
    if (options.activeFaults !== undefined && (!Array.isArray(options.activeFaults) || options.activeFaults.some((f) => typeof f !== 'string'))) {
      v.fail('activeFaults', 'an array of strings', options.activeFaults);
    }
    v.integer('recentSeconds', options.recentSeconds, 1);
    v.func('random', options.random);
    v.clock('clock', options.clock);
    v.string('name', options.name);
    v.throwIfInvalid();

    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxInFlight = options.maxInFlight ?? 10_000;
    this.recentSeconds = options.recentSeconds ?? 5;
    this.mix = new RequestMix(options.mix);
    this.currentRate = options.rate;
    this.phaseName = options.phase ?? 'load';
    this.faults = [...(options.activeFaults ?? [])];
    this.events = new EventEmitter('load-generator', options.name ?? 'load');
    if (options.transport !== undefined) {
      this.transport = options.transport;
      this.ownsTransport = false;
    } else {
      const connections = options.connections ?? Math.min(this.maxInFlight, Math.max(64, Math.ceil(options.rate)));
      this.transport = new HttpTransport({ url: options.url as string, connections });
      this.ownsTransport = true;
    }
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof LoadGeneratorEvents>(event: K, listener: (payload: LoadGeneratorEvents[K]) => void): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** Target arrival rate, requests per second. */
  get rate(): number {
    return this.currentRate;
  }

  /** Current phase label. */
  get phase(): string {
    return this.phaseName;
  }

  /** Requests sent and not finished. */
  get inFlight(): number {
    return this.pending;
  }

  /** Whether requests are being started (between {@link start} and {@link stop}). */
  get running(): boolean {
    return this.state === 'running';
  }

  /** Clock reading at {@link start}: the origin of every time in the series (`t = 0`); 0 before start. */
  get originMs(): number {
    return this.origin;
  }

  /**
   * Starts sending: the first request is due at once (when the rate is > 0), the next ones every `1 / rate` s.
   * @throws Error when already started.
   */
  start(): void {
    if (this.state !== 'idle') throw new Error('LoadGenerator: start() was already called');
    const now = this.clock.now();
    this.origin = now;
    this.state = 'running';
    this.recorder = new LoadRecorder({ phase: this.phaseName, activeFaults: this.faults, recentSeconds: this.recentSeconds });
    this.nextDue = this.currentRate > 0 ? now : Infinity;
    this.wake();
  }

  /**
   * Changes the arrival rate now (0 pauses). The next request is due `1 / rate` after the previous one's
   * intended start, or at once if that moment has passed: no burst to make up for the past, no gap.
   * @throws InvalidOptionsError when `rate` is not a finite number >= 0.
   */
  setRate(rate: number): void {
    const v = new OptionsValidator('LoadGenerator.setRate');
    if (v.required('rate', rate, 'a number >= 0')) validateRate(v, 'rate', rate);
    v.throwIfInvalid();
    const now = this.clock.now();
    this.catchUp(now);
    this.currentRate = rate;
    if (this.state !== 'running') return;
    this.nextDue = rate === 0 ? Infinity : Math.max(now, this.lastDue === undefined ? now : this.lastDue + 1000 / rate);
    this.wake();
  }

  /**
   * Replaces the request mix for the requests started from now on.
   * @throws InvalidOptionsError listing every bad entry field.
   */
  setMix(mix: readonly RequestMixEntry[]): void {
    const next = new RequestMix(mix);
    this.catchUp(this.clock.now());
    this.mix = next;
  }

  /** Labels the requests intended from now on with phase `name`. */
  setPhase(name: string): void {
    if (typeof name !== 'string') {
      const v = new OptionsValidator('LoadGenerator.setPhase');
      v.fail('name', 'a string', name);
      v.throwIfInvalid();
    }
    const now = this.clock.now();
    this.catchUp(now);
    this.phaseName = name;
    if (this.state === 'running') this.recorder?.setPhase(name, now - this.origin);
  }

  /** Records that the faults named `names` are active from now on (shown in the series and live figures). */
  setActiveFaults(names: readonly string[]): void {
    this.faults = [...names];
    if (this.state === 'running' || this.state === 'stopping') this.recorder?.setActiveFaults(this.faults, this.clock.now() - this.origin);
  }

  /** Live figures (cheap enough to call a few times per second). */
  snapshot(): LoadSnapshot {
    const now = this.clock.now();
    const recorder = this.recorder;
    return {
      running: this.state === 'running',
      phase: this.phaseName,
      elapsedMs: recorder === undefined ? 0 : (this.endAt ?? now) - this.origin,
      rate: this.currentRate,
      inFlight: this.pending,
      activeFaults: this.faults,
      sent: recorder?.sent ?? 0,
      ok: recorder?.ok ?? 0,
      failed: recorder?.failed ?? 0,
      recent: recorder?.recent(now - this.origin) ?? emptyRecent,
    };
  }

  /**
   * Figures of phase `phase` (of the whole run when omitted) so far; final once {@link stop} resolved.
   * Requests still in flight count as sent, not yet as ok or failed. All zeros for an unknown phase.
   */
  summary(phase?: string): LoadSummary {
    const recorder = this.recorder ?? new LoadRecorder({ phase: this.phaseName });
    return recorder.summary(phase, this.clock.now() - this.origin);
  }

  /** The seconds closed so far (every second of the run once {@link stop} resolved). */
  series(): TimePoint[] {
    return [...(this.recorder?.series() ?? [])];
  }

  /** Phase labels seen so far, in order of first use. */
  phaseNames(): string[] {
    return this.recorder?.phaseNames() ?? [];
  }

  /**
   * Stops starting requests, waits for those in flight (each bounded by `timeoutMs`), closes the HTTP pool
   * it created and returns the figures of the run. Calling it again returns the same result.
   */
  stop(options?: LoadStopOptions): Promise<LoadResult> {
    this.stopping ??= this.finish(options?.abortInFlight === true);
    return this.stopping;
  }

  private async finish(abortInFlight: boolean): Promise<LoadResult> {
    const now = this.clock.now();
    if (this.state === 'idle') {
      this.origin = now;
      this.recorder = new LoadRecorder({ phase: this.phaseName, activeFaults: this.faults, recentSeconds: this.recentSeconds });
    } else {
      this.expire(now);
      this.dispatchDue(now, false);
    }
    const recorder = this.recorder as LoadRecorder;
    this.state = 'stopping';
    this.endAt = now;
    this.nextDue = Infinity;
    if (abortInFlight) this.abortAll();
    if (this.pending > 0) {
      const drained = new Promise<void>((resolve) => (this.onDrained = resolve));
      this.arm(now);
      await drained;
    }
    this.timer?.cancel();
    this.timer = undefined;
    recorder.end(this.endAt - this.origin, this.onPoint);
    this.state = 'stopped';
    if (this.ownsTransport) await this.transport.close();
    const phases: Record<string, LoadSummary> = {};
    for (const name of recorder.phaseNames()) phases[name] = this.summary(name);
    return { durationMs: this.endAt - this.origin, totals: this.summary(), phases, series: this.series() };
  }

  /** Starts the requests that fell due before `now` and the timer has not started yet, under the settings they were due with. */
  private catchUp(now: number): void {
    if (this.state === 'running') this.dispatchDue(now, false);
  }

  /** Runs a tick now, in place of the one armed. */
  private wake(): void {
    this.timer?.cancel();
    this.tick();
  }

  private tick(): void {
    this.timer = undefined;
    this.armedAt = Infinity;
    const now = this.clock.now();
    this.expire(now);
    if (this.state === 'running') this.dispatchDue(now, true);
    this.recorder?.flush(now - this.origin, this.onPoint);
    this.arm(now);
  }

  /** Arms the one timer for the next due request, the next timeout or the next second, whichever is first. */
  private arm(now: number): void {
    let next = this.head?.deadline ?? Infinity;
    if (this.state === 'running') next = Math.min(next, this.nextDue, now + 1000);
    if (next === Infinity) return;
    if (this.timer !== undefined) {
      if (this.armedAt <= next) return;
      this.timer.cancel();
    }
    this.armedAt = next;
    this.timer = this.clock.schedule(this.onTick, Math.max(0, next - now), { keepAlive: true });
  }

  /** Starts every request due by `now` (strictly before it unless `inclusive`). */
  private dispatchDue(now: number, inclusive: boolean): void {
    if (this.currentRate <= 0) return;
    const interval = 1000 / this.currentRate;
    while (inclusive ? this.nextDue <= now : this.nextDue < now) {
      this.dispatch(this.nextDue, now);
      this.lastDue = this.nextDue;
      this.nextDue += interval;
    }
  }

  private dispatch(due: number, now: number): void {
    const recorder = this.recorder as LoadRecorder;
    const ticket = recorder.start(due - this.origin, now - this.origin);
    if (this.pending >= this.maxInFlight) {
      recorder.finish(ticket, now - this.origin, 'overload', undefined);
      return;
    }
    const flight = new InFlight(ticket, this.mix.pick(this.nextRandom()), now + this.timeoutMs);
    this.append(flight);
    let sent: Promise<number>;
    try {
      sent = this.transport.send(flight.request, flight.controller.signal);
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent.then(
      (status) => this.settle(flight, status, undefined),
      (error: unknown) => this.settle(flight, 0, error),
    );
  }

  private nextRandom(): number {
    let r: number;
    try {
      r = this.random();
    } catch (error) {
      reportCallbackError(error, 'LoadGenerator option random');
      r = Math.random();
    }
    return r >= 0 && r < 1 ? r : Math.random();
  }

  private settle(flight: InFlight, status: number, error: unknown): void {
    if (flight.done) return;
    flight.done = true;
    this.unlink(flight);
    const t = this.clock.now() - this.origin;
    const cause = error !== undefined ? errorKeyOf(error) : flight.request.isSuccess(status) ? undefined : String(status);
    (this.recorder as LoadRecorder).finish(flight.ticket, t, cause, t - flight.ticket.intendedT);
    this.checkDrained();
  }

  /** Aborts and counts as `'timeout'` every request whose deadline passed. */
  private expire(now: number): void {
    let flight = this.head;
    if (flight === undefined || flight.deadline > now) return;
    const t = now - this.origin;
    while (flight !== undefined && flight.deadline <= now) {
      const next: InFlight | undefined = flight.next;
      flight.done = true;
      this.unlink(flight);
      flight.controller.abort(new TimeoutError(this.timeoutMs));
      (this.recorder as LoadRecorder).finish(flight.ticket, t, 'timeout', t - flight.ticket.intendedT);
      flight = next;
    }
    this.checkDrained();
  }

  private abortAll(): void {
    const t = this.clock.now() - this.origin;
    const reason = new Error('LoadGenerator stopped');
    for (let flight = this.head; flight !== undefined; ) {
      const next: InFlight | undefined = flight.next;
      flight.done = true;
      this.unlink(flight);
      flight.controller.abort(reason);
      (this.recorder as LoadRecorder).finish(flight.ticket, t, 'aborted', undefined);
      flight = next;
    }
  }

  private checkDrained(): void {
    if (this.pending === 0 && this.onDrained !== undefined) {
      const resolve = this.onDrained;
      this.onDrained = undefined;
      resolve();
    }
  }

  private append(flight: InFlight): void {
    flight.prev = this.tail;
    if (this.tail === undefined) this.head = flight;
    else this.tail.next = flight;
    this.tail = flight;
    this.pending++;
  }

  private unlink(flight: InFlight): void {
    if (flight.prev === undefined) this.head = flight.next;
    else flight.prev.next = flight.next;
    if (flight.next === undefined) this.tail = flight.prev;
    else flight.next.prev = flight.prev;
    flight.prev = undefined;
    flight.next = undefined;
    this.pending--;
  }
}
