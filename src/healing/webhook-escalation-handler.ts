import { systemClock, type Clock } from '../core/clock.js';
import { TimeoutError } from '../core/errors.js';
import { OptionsValidator } from '../core/options.js';
import { messageOf, WebhookDeliveryError } from './errors.js';
import type { EscalationContext, EscalationHandler } from './escalation-recovery.js';

/** Options of {@link createWebhookEscalationHandler}. */
export interface WebhookEscalationHandlerOptions {
  /** The endpoint (http or https). */
  url: string | URL;
  /** Extra request headers (an auth token...); `content-type: application/json` is always sent. */
  headers?: Readonly<Record<string, string>>;
  /**
   * Time the endpoint has to answer, in milliseconds, > 0. The request is aborted then.
   * @default 5_000
   */
  timeoutMs?: number;
  /**
   * Builds the JSON body. Use {@link slackWebhookBody} for Slack, {@link pagerDutyWebhookBody} for PagerDuty.
   * @default {@link genericWebhookBody}
   */
  body?: (message: string, context: EscalationContext) => unknown;
  /**
   * Most deliveries in flight at once; one more fails at once with a {@link WebhookDeliveryError} rather
   * than piling requests onto a struggling endpoint.
   * @default 4
   */
  maxInFlight?: number;
  /** The `fetch` to use. @default globalThis.fetch (undici) */
  fetch?: typeof fetch;
  /** Source of time for the timeout. @default systemClock */
  clock?: Clock;
}

/** The default webhook body: the message as `text` plus the escalation's fields. */
export function genericWebhookBody(message: string, context: EscalationContext): unknown {
  return {
    text: message,
    level: context.escalationLevel,
    strategy: context.strategy,
    channel: context.channel,
    component: context.component,
    category: context.category,
    requiresManualIntervention: context.requiresManualIntervention,
    error: context.error instanceof Error ? { name: context.error.name, message: context.error.message } : { message: messageOf(context.error) },
    timestamp: new Date(context.timestamp).toISOString(),
  };
}

/** A Slack incoming-webhook body: `{ text }`. */
export function slackWebhookBody(message: string): unknown {
  return { text: message };
}

const PAGERDUTY_SEVERITY = { low: 'info', medium: 'warning', high: 'error', critical: 'critical' } as const;

/**
 * A body builder for the PagerDuty Events API v2 (`https://events.pagerduty.com/v2/enqueue`): a `trigger`
 * event with the message as summary, the component as source and the level mapped to PagerDuty's severity.
 */
export function pagerDutyWebhookBody(routingKey: string): (message: string, context: EscalationContext) => unknown {
  return (message, context) => ({
    routing_key: routingKey,
    event_action: 'trigger',
    payload: {
      summary: message.slice(0, 1024),
      source: typeof context.component === 'string' ? context.component : context.strategy,
      severity: PAGERDUTY_SEVERITY[context.escalationLevel],
      timestamp: new Date(context.timestamp).toISOString(),
    },
  });
}

/**
 * An {@link EscalationHandler} that POSTs a JSON body to a webhook with the global `fetch` (undici). One
 * request per escalation, never retried (an escalation that retries into a struggling endpoint becomes a
 * storm), bounded by `timeoutMs` and by the escalation's own signal, at most `maxInFlight` at once. Rejects
 * with a {@link WebhookDeliveryError} on a non-2xx answer, a timeout or a network error.
 *
 * @example
 * ```ts
 * escalation.registerHandler('slack', createWebhookEscalationHandler({ url: SLACK_URL, body: slackWebhookBody }));
 * escalation.registerHandler('pagerduty', createWebhookEscalationHandler({
 *   url: 'https://events.pagerduty.com/v2/enqueue', body: pagerDutyWebhookBody(ROUTING_KEY) }));
 * ```
 * @throws InvalidOptionsError listing every bad option.
 */
export function createWebhookEscalationHandler(options: WebhookEscalationHandlerOptions): EscalationHandler {
  const v = new OptionsValidator('createWebhookEscalationHandler');
  const o: Partial<WebhookEscalationHandlerOptions> | undefined = options;
  let url: URL | undefined;
  if (v.required('options', o, 'an object') && v.object('options', o)) {
    if (v.required('url', o.url, 'an http(s) URL')) {
      try {
        url = new URL(String(o.url));
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('protocol');
      } catch {
        v.fail('url', 'an http(s) URL', o.url);
      }
    }
    if (v.object('headers', o.headers)) {
      for (const [k, value] of Object.entries(o.headers as object)) v.string(`headers.${k}`, value);
    }
    v.duration('timeoutMs', o.timeoutMs, true);
    v.func('body', o.body);
    v.integer('maxInFlight', o.maxInFlight, 1);
    v.func('fetch', o.fetch);
    v.clock('clock', o.clock);
  }
  v.throwIfInvalid();
  const target = url as URL;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const body = options.body ?? genericWebhookBody;
  const maxInFlight = options.maxInFlight ?? 4;
  const doFetch = options.fetch ?? globalThis.fetch;
  const clock = options.clock ?? systemClock;
  const headers = { ...options.headers, 'content-type': 'application/json' };
  let inFlight = 0;

  return async (message, context) => {
    if (inFlight >= maxInFlight) {
      throw new WebhookDeliveryError(`Webhook ${target.host}: ${maxInFlight} deliveries already in flight`);
    }
    inFlight++;
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(context.signal.reason);
    if (context.signal.aborted) controller.abort(context.signal.reason);
    else context.signal.addEventListener('abort', onAbort, { once: true });
    const timer = clock.schedule(() => controller.abort(new TimeoutError(timeoutMs)), timeoutMs);
    try {
      const response = await doFetch(target, {
        method: 'POST',
        headers,
        body: JSON.stringify(body(message, context)),
        signal: controller.signal,
      });
      // Read the body so the connection returns to the pool.
      const text = await response.text();
      if (!response.ok) {
        throw new WebhookDeliveryError(`Webhook ${target.host} answered ${response.status}: ${text.slice(0, 200)}`, { status: response.status });
      }
    } catch (error) {
      if (error instanceof WebhookDeliveryError) throw error;
      const cause = controller.signal.aborted ? controller.signal.reason : error;
      throw new WebhookDeliveryError(`Webhook ${target.host} failed: ${messageOf(cause)}`, { cause });
    } finally {
      timer.cancel();
      context.signal.removeEventListener('abort', onAbort);
      inFlight--;
    }
  };
}
