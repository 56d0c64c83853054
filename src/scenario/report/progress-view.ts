import { systemClock } from '../../core/clock.js';
import type { Clock, TimerHandle } from '../../core/clock.js';
import { OptionsValidator } from '../../core/options.js';
import { reportCallbackError } from '../../core/report-callback-error.js';
import { formatClock, formatMs } from './svg-charts.js';

/**
 * What the progress line shows. A `LoadSnapshot` of the load generator has every field but `totalMs`
 * and `label`: `view.update({ ...load.snapshot(), totalMs })`.
 */
export interface ProgressStatus {
  /** Current phase. */
  phase: string;
  /** Milliseconds since the run started. */
  elapsedMs: number;
  /** Planned length of the run, ms, when known. */
  totalMs?: number;
  /** Target arrival rate, requests per second. */
  rate: number;
  /** Requests in flight. */
  inFlight?: number;
  /** Names of the faults active now. */
  activeFaults: readonly string[];
  /** Figures of the last few seconds: achieved rate, success ratio 0..1 (`null` when nothing finished), p95 in ms. */
  recent: { ratePerSec: number; success: number | null; p95: number };
  /** A prefix such as `baseline`. */
  label?: string;
}

/** A writable stream, possibly a terminal. */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Options of {@link ProgressView}. */
export interface ProgressViewOptions {
  /** Where to write. @default process.stderr */
  stream?: ProgressStream;
  /** Redraw one line in place with ANSI codes; otherwise print a plain line every `plainIntervalMs`. @default stream.isTTY === true */
  tty?: boolean;
  /** Print nothing at all. @default false */
  silent?: boolean;
  /** Color the success figure and faults (TTY only). @default true unless the NO_COLOR environment variable is set */
  color?: boolean;
  /** Least time between two redraws on a TTY, and the polling period of {@link ProgressView.start} there, ms. @default 250 */
  refreshMs?: number;
  /** Least time between two plain lines when not on a TTY (CI logs), ms. @default 10000 */
  plainIntervalMs?: number;
  /** Source of time. @default systemClock */
  clock?: Clock;
}

interface Part {
  text: string;
  color?: string;
}

const ANSI = { green: '\x1b[32m', yellow: '\x1b[33m', red: '\x1b[31m', magenta: '\x1b[35m', dim: '\x1b[2m', reset: '\x1b[0m' };

function parts(s: ProgressStatus): Part[] {
  const out: Part[] = [];
  out.push({ text: `${s.label !== undefined ? `${s.label} ` : ''}[${s.phase}] ` });
  out.push({ text: `${formatClock(s.elapsedMs)}${s.totalMs !== undefined ? ` / ${formatClock(s.totalMs)}` : ''}` });
  out.push({ text: ` · ${Math.round(s.recent.ratePerSec)}/${Number(s.rate.toFixed(1))} req/s`, color: ANSI.dim });
  const success = s.recent.success;
  const successColor = success === null ? undefined : success >= 0.99 ? ANSI.green : success >= 0.95 ? ANSI.yellow : ANSI.red;
  const successText = success === null ? 'ok —' : `ok ${(Math.floor(success * 1000) / 10).toFixed(1)}%`;
  out.push({ text: ' · ' }, successColor === undefined ? { text: successText } : { text: successText, color: successColor });
  out.push({ text: ` · p95 ${formatMs(s.recent.p95)}` });
  if (s.inFlight !== undefined) out.push({ text: ` · in flight ${s.inFlight}` });
  out.push(s.activeFaults.length > 0 ? { text: ` · faults: ${s.activeFaults.join(', ')}`, color: ANSI.magenta } : { text: ' · no fault' });
  return out;
}

/**
 * One status line for `status`: phase, elapsed / total, achieved / target rate, success %, p95, requests in
 * flight and active faults. With `color`, ANSI colors; with `width`, cut to that many visible characters.
 */
export function formatProgressLine(status: ProgressStatus, options: { color?: boolean; width?: number } = {}): string {
  let room = options.width ?? Infinity;
  let out = '';
  for (const part of parts(status)) {
    if (room <= 0) break;
    let text = part.text.replace(/\p{Cc}/gu, ' ');
    if (text.length > room) text = `${text.slice(0, Math.max(0, room - 1))}…`;
    room -= text.length;
    out += options.color === true && part.color !== undefined ? `${part.color}${text}${ANSI.reset}` : text;
  }
  return out;
}

/**
 * A live progress view of a run. On a terminal it redraws one line in place (at most every `refreshMs`);
 * elsewhere (CI logs) it prints a plain line at most every `plainIntervalMs`. {@link log} prints a message
 * above the status line without garbling it. Feed it with {@link update}, or let it poll with {@link start}.
 *
 * @example
 * ```ts
 * const view = new ProgressView();
 * view.start(() => ({ ...load.snapshot(), totalMs: 120_000 }));
 * view.log('fault redis-down injected');
 * // ...
 * view.stop({ ...load.snapshot(), totalMs: 120_000 });
 * ```
 */
export class ProgressView {
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly silent: boolean;
  private readonly color: boolean;
  private readonly refreshMs: number;
  private readonly plainIntervalMs: number;
  private readonly clock: Clock;
  private last: ProgressStatus | undefined;
  private lastWriteAt = -Infinity;
  private drawn = false;
  private provider: (() => ProgressStatus) | undefined;
  private timer: TimerHandle | undefined;
  private readonly onPoll = (): void => this.poll();

  /** @throws InvalidOptionsError listing every bad option. */
  constructor(options: ProgressViewOptions = {}) {
    const v = new OptionsValidator('ProgressView');
    if (options.stream !== undefined && typeof (options.stream as { write?: unknown }).write !== 'function') {
      v.fail('stream', 'a writable stream', options.stream);
    }
    v.boolean('tty', options.tty);
    v.boolean('silent', options.silent);
    v.boolean('color', options.color);
    v.duration('refreshMs', options.refreshMs, true);
    v.duration('plainIntervalMs', options.plainIntervalMs);
    v.clock('clock', options.clock);
    v.throwIfInvalid();
    this.stream = options.stream ?? process.stderr;
    this.tty = options.tty ?? this.stream.isTTY === true;
    this.silent = options.silent ?? false;
    this.color = this.tty && (options.color ?? process.env['NO_COLOR'] === undefined);
    this.refreshMs = options.refreshMs ?? 250;
    this.plainIntervalMs = options.plainIntervalMs ?? 10_000;
    this.clock = options.clock ?? systemClock;
  }

  /** Shows `status` now if the last output is older than the refresh period (TTY) or the plain interval. */
  update(status: ProgressStatus): void {
    this.last = status;
    if (this.silent) return;
    const now = this.clock.now();
    if (now - this.lastWriteAt < (this.tty ? this.refreshMs : this.plainIntervalMs)) return;
    this.lastWriteAt = now;
    this.draw(status);
  }

  /** Prints `message` on its own line (above the status line on a TTY, which is then redrawn). */
  log(message: string): void {
    if (this.silent) return;
    if (this.tty) {
      this.write(`\r\x1b[2K${message}\n`);
      if (this.drawn && this.last !== undefined) this.draw(this.last);
    } else {
      this.write(`${message}\n`);
    }
  }

  /**
   * Polls `provider` for the status every `refreshMs` on a TTY (every `plainIntervalMs` otherwise) until
   * {@link stop}. Its timer does not keep the process alive; a provider that throws is reported and skipped.
   */
  start(provider: () => ProgressStatus): void {
    this.provider = provider;
    this.timer?.cancel();
    this.poll();
  }

  /** Stops polling, shows `final` (or the last status) whatever the throttling, and ends the line. */
  stop(final?: ProgressStatus): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.provider = undefined;
    const status = final ?? this.last;
    if (this.silent || status === undefined) return;
    this.last = status;
    this.draw(status);
    if (this.tty) this.write('\n');
    this.drawn = false;
  }

  private poll(): void {
    const provider = this.provider;
    if (provider === undefined) return;
    try {
      this.update(provider());
    } catch (error) {
      reportCallbackError(error, 'ProgressView status provider');
    }
    this.timer = this.clock.schedule(this.onPoll, this.tty ? this.refreshMs : this.plainIntervalMs, { keepAlive: false });
  }

  private draw(status: ProgressStatus): void {
    if (this.tty) {
      const width = Math.max(20, (this.stream.columns ?? 120) - 1);
      this.write(`\r\x1b[2K${formatProgressLine(status, { color: this.color, width })}`);
      this.drawn = true;
    } else {
      this.write(`${formatProgressLine(status)}\n`);
    }
  }

  private write(text: string): void {
    try {
      this.stream.write(text);
    } catch {
      // a closed terminal or pipe must not break the run
    }
  }
}
