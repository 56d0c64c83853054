import { LinkedAbortController } from '../core/abort.js';
import { systemClock, type Clock } from '../core/clock.js';
import { TimeoutError } from '../core/errors.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../core/events.js';
import { OptionsValidator } from '../core/options.js';
import { messageOf } from './errors.js';
import { failureSeverities, type FailureSeverity, type RecoveryContext, type RecoveryRequest, type RecoveryStrategy } from './recovery-strategy.js';

/** What an escalation handler receives besides the message. */
export interface EscalationContext extends EscalationDetails {
  /** Aborts when the handler's time (`handlerTimeoutMs`) is up or the escalation's own signal aborts. */
  signal: AbortSignal;
}

/** The fields of {@link EscalationContext} other than its signal. */
export interface EscalationDetails extends RecoveryContext {
  /** The escalated error. */
  error: unknown;
  /** The channel this handler was registered for. */
  channel: string;
  /** Name of the escalation strategy. */
  strategy: string;
  escalationLevel: FailureSeverity;
  requiresManualIntervention: boolean;
  /** When the escalation was raised, in clock milliseconds. */
  timestamp: number;
}

/** Delivers an escalation to one channel (Slack, PagerDuty, a log...). Resolves once delivered. */
export type EscalationHandler = (message: string, context: EscalationContext) => void | PromiseLike<void>;

/** Options of {@link EscalationRecovery}, in the seed's names. */
export interface EscalationRecoveryConfig {
  name: string;
  /**
   * How urgent the escalation is.
   * @default 'high'
   */
  escalationLevel?: FailureSeverity;
  /** Channels notified, each through the handler registered for it. */
  notificationChannels: readonly string[];
  /**
   * Whether a person must act: the message says so.
   * @default false
   */
  requiresManualIntervention?: boolean;
  /**
   * Time each handler has to deliver, in milliseconds, > 0; its `signal` aborts then and it counts as failed.
   * @default 10_000
   */
  handlerTimeoutMs?: number;
  /**
   * Builds the message from the error and context.
   * @default `[LEVEL] name: component: error message` (plus "manual intervention required")
   */
  formatMessage?: (error: unknown, context: RecoveryContext) => string;
  /** Source of time for timestamps and handler timeouts. @default systemClock */
  clock?: Clock;
}

/** What {@link EscalationRecovery.execute} reports. */
export interface EscalationResult {
  message: string;
  escalationLevel: FailureSeverity;
  requiresManualIntervention: boolean;
  /** Channels whose handler delivered. */
  notified: string[];
  /** Channels whose handler threw or timed out. */
  failed: { channel: string; error: unknown }[];
  /** Channels with no registered handler. */
  skipped: string[];
}

/** Events of {@link EscalationRecovery}. */
export interface EscalationRecoveryEvents {
  escalated: EscalationResult & { component: string | undefined };
  notificationFailed: { channel: string; error: unknown };
}

/**
 * Escalation to people as a recovery strategy: the seed's `createEscalation`. `registerHandler(channel, fn)`
 * connects a channel (use {@link createWebhookEscalationHandler} for Slack, PagerDuty or any webhook, and
 * {@link createLogEscalationHandler} for logs); `execute(error, context)` notifies every configured channel
 * in parallel, each bounded by `handlerTimeoutMs`, and resolves with who was notified. It never rejects
 * because a channel failed: failures are in the result and the `notificationFailed` event.
 *
 * @example
 * ```ts
 * const escalation = RecoveryStrategyFactory.createEscalation({ name: 'critical-alert', escalationLevel: 'critical',
 *   notificationChannels: ['pagerduty', 'slack'], requiresManualIntervention: true });
 * escalation.registerHandler('slack', createWebhookEscalationHandler({ url: process.env.SLACK_WEBHOOK!, body: slackWebhookBody }));
 * await escalation.execute(error, { component: 'payment-processor' });
 * ```
 */
export class EscalationRecovery implements RecoveryStrategy {
  readonly type = 'escalate' as const;
  readonly name: string;
  readonly escalationLevel: FailureSeverity;
  readonly notificationChannels: readonly string[];
  readonly requiresManualIntervention: boolean;
  private readonly handlerTimeoutMs: number;
  private readonly formatMessage: ((error: unknown, context: RecoveryContext) => string) | undefined;
  private readonly clock: Clock;
  private readonly handlers = new Map<string, EscalationHandler>();
  private readonly events: EventEmitter<EscalationRecoveryEvents>;

  /** @throws InvalidOptionsError listing every bad option. */
  constructor(config: EscalationRecoveryConfig) {
    const v = new OptionsValidator('EscalationRecovery');
    const c: Partial<EscalationRecoveryConfig> | undefined = config;
    if (v.required('config', c, 'an object') && v.object('config', c)) {
      if (v.required('name', c.name, 'a non-empty string')) v.string('name', c.name);
      v.oneOf('escalationLevel', c.escalationLevel, failureSeverities);
      if (
        v.required('notificationChannels', c.notificationChannels, 'an array of channel names') &&
        !(Array.isArray(c.notificationChannels) && c.notificationChannels.every((ch) => typeof ch === 'string' && ch.length > 0))
      ) {
        v.fail('notificationChannels', 'an array of channel names', c.notificationChannels);
      }
      v.boolean('requiresManualIntervention', c.requiresManualIntervention);
      v.duration('handlerTimeoutMs', c.handlerTimeoutMs, true);
      v.func('formatMessage', c.formatMessage);
      v.clock('clock', c.clock);
    }
    v.throwIfInvalid();
    this.name = config.name;
    this.escalationLevel = config.escalationLevel ?? 'high';
    this.notificationChannels = [...new Set(config.notificationChannels)];
    this.requiresManualIntervention = config.requiresManualIntervention ?? false;
    this.handlerTimeoutMs = config.handlerTimeoutMs ?? 10_000;
    this.formatMessage = config.formatMessage;
    this.clock = config.clock ?? systemClock;
    this.events = new EventEmitter('escalation-recovery', this.name);
  }

  /** Connects `channel` to `handler` (replacing any previous one); returns a function that disconnects it. */
  registerHandler(channel: string, handler: EscalationHandler): Unsubscribe {
    if (typeof handler !== 'function') throw new TypeError(`EscalationRecovery.registerHandler: handler for "${channel}" must be a function`);
    this.handlers.set(channel, handler);
    return () => {
      if (this.handlers.get(channel) === handler) this.handlers.delete(channel);
    };
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof EscalationRecoveryEvents>(event: K, listener: Listener<EscalationRecoveryEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /**
   * Notifies every configured channel that has a handler; resolves with who was notified. `options.signal`
   * cancels the escalation: every handler's signal aborts, its deadline timer is cancelled and the promise
   * rejects with the signal's reason.
   */
  async execute(error: unknown, context: RecoveryContext = {}, options: { signal?: AbortSignal } = {}): Promise<EscalationResult> {
    const signal = options.signal;
    if (signal?.aborted) throw signal.reason;
    const message = this.message(error, context);
    const timestamp = this.clock.now();
    const result: EscalationResult = {
      message,
      escalationLevel: this.escalationLevel,
      requiresManualIntervention: this.requiresManualIntervention,
      notified: [],
      failed: [],
      skipped: [],
    };
    const deliveries: Promise<void>[] = [];
    for (const channel of this.notificationChannels) {
      const handler = this.handlers.get(channel);
      if (handler === undefined) {
        result.skipped.push(channel);
        continue;
      }
      deliveries.push(
        this.deliver(handler, message, {
          ...context,
          error,
          channel,
          strategy: this.name,
          escalationLevel: this.escalationLevel,
          requiresManualIntervention: this.requiresManualIntervention,
          timestamp,
        }, signal).then(
          () => void result.notified.push(channel),
          (deliveryError: unknown) => {
            result.failed.push({ channel, error: deliveryError });
            this.events.emit('notificationFailed', { channel, error: deliveryError });
          },
        ),
      );
    }
    await Promise.all(deliveries);
    if (signal?.aborted) throw signal.reason;
    const order = (a: string, b: string): number => this.notificationChannels.indexOf(a) - this.notificationChannels.indexOf(b);
    result.notified.sort(order);
    result.failed.sort((a, b) => order(a.channel, b.channel));
    this.events.emit('escalated', { ...result, component: typeof context.component === 'string' ? context.component : undefined });
    return result;
  }

  /**
   * Escalates `request.error`; resolves with the {@link EscalationResult} (the healer does not count it as
   * recovered). `request.signal` cancels the deliveries (see {@link execute}).
   */
  recover(request: RecoveryRequest): Promise<EscalationResult> {
    return this.execute(request.error, request.context, request.signal === undefined ? {} : { signal: request.signal });
  }

  private message(error: unknown, context: RecoveryContext): string {
    if (this.formatMessage !== undefined) return this.formatMessage(error, context);
    const where = typeof context.component === 'string' ? `${context.component}: ` : '';
    const manual = this.requiresManualIntervention ? ' (manual intervention required)' : '';
    return `[${this.escalationLevel.toUpperCase()}] ${this.name}: ${where}${messageOf(error)}${manual}`;
  }

  /**
   * Runs one handler with its own deadline, linked to `signal`; a handler that ignores its signal is
   * abandoned at the deadline or when `signal` aborts (its timer is then cancelled: nothing outlives it).
   */
  private deliver(handler: EscalationHandler, message: string, context: EscalationDetails, signal: AbortSignal | undefined): Promise<void> {
    const controller = new LinkedAbortController(signal);
    const ms = this.handlerTimeoutMs;
    return new Promise<void>((resolve, reject) => {
      const timer = this.clock.schedule(() => controller.abort(new TimeoutError(ms)), ms, { keepAlive: false });
      const onAbort = (): void => {
        timer.cancel();
        controller.dispose();
        reject(controller.signal.reason);
      };
      if (controller.signal.aborted) onAbort();
      else controller.signal.addEventListener('abort', onAbort, { once: true });
      const done = (): void => {
        timer.cancel();
        controller.signal.removeEventListener('abort', onAbort);
        controller.dispose();
      };
      let pending: void | PromiseLike<void>;
      try {
        const full: EscalationContext = { ...context, signal: controller.signal };
        pending = handler(message, full);
      } catch (error) {
        pending = Promise.reject(error);
      }
      Promise.resolve(pending).then(
        () => {
          done();
          resolve();
        },
        (error: unknown) => {
          done();
          reject(error);
        },
      );
    });
  }
}
