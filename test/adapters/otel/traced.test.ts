import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { traced } from '../../../src/adapters/otel/traced.js';
import { ChaosControl } from '../../../src/chaos/chaos-control.js';
import { ChaosRegistry } from '../../../src/chaos/chaos-registry.js';
import { BrokenCircuitError, InjectedFaultError, TimeoutError } from '../../../src/core/errors.js';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { backoff } from '../../../src/policies/backoff/index.js';
import { CircuitBreaker } from '../../../src/policies/circuit-breaker.js';
import { Fallback } from '../../../src/policies/fallback.js';
import { Hedge } from '../../../src/policies/hedge.js';
import { pipeline } from '../../../src/policies/pipeline.js';
import { Retry } from '../../../src/policies/retry.js';
import { Timeout } from '../../../src/policies/timeout.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';
import { AsyncLocalStorageContextManager } from './async-local-storage-context-manager.js';

failOnUnhandledRejections();

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('antifragile-test');

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});
afterAll(async () => {
  context.disable();
  await provider.shutdown();
});
afterEach(() => exporter.reset());

function onlySpan(): ReadableSpan {
  const spans = exporter.getFinishedSpans();
  expect(spans).toHaveLength(1);
  return spans[0] as ReadableSpan;
}

/** Events without their timestamps. */
function eventsOf(span: ReadableSpan): { name: string; attributes: unknown }[] {
  return span.events.map((e) => ({ name: e.name, attributes: e.attributes }));
}

/** A function that fails `failures` times with `boom <n>`, then returns 'ok'. */
function failingTimes(failures: number): () => Promise<string> {
  let calls = 0;
  return async () => {
    calls++;
    if (calls <= failures) throw new Error(`boom ${calls}`);
    return 'ok';
  };
}

/** A function that never settles on its own, rejecting with its signal's reason when it aborts. */
const hangs = ({ signal }: { signal: AbortSignal }): Promise<never> =>
  new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));

describe('traced', () => {
  it('records a successful call as one span, active while the function runs, child of the caller span', async () => {
    const breaker = new CircuitBreaker({ name: 'pricing-breaker' });
    const call = traced(pipeline(new Retry({ maxAttempts: 3 }), breaker), {
      tracer,
      name: 'pricing',
      kind: SpanKind.CLIENT,
      attributes: { 'peer.service': 'pricing' },
    });
    let seenInside: string | undefined;
    const outer = tracer.startSpan('request');
    const result = await context.with(trace.setSpan(context.active(), outer), () =>
      call.execute(async () => {
        await Promise.resolve();
        seenInside = trace.getActiveSpan()?.spanContext().spanId;
        return 42;
      }),
    );
    outer.end();
    expect(result).toBe(42);
    const span = exporter.getFinishedSpans().find((s) => s.name === 'antifragile pricing') as ReadableSpan;
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.parentSpanContext?.spanId).toBe(outer.spanContext().spanId);
    expect(seenInside).toBe(span.spanContext().spanId);
    expect(span.attributes).toEqual({
      'peer.service': 'pricing',
      'antifragile.pipeline.name': 'pricing',
      'antifragile.outcome': 'success',
      'antifragile.attempts': 1,
      'antifragile.circuit_breaker.name': 'pricing-breaker',
      'antifragile.circuit_breaker.state': 'closed',
    });
    expect(span.events).toEqual([]);
    expect(span.status).toEqual({ code: SpanStatusCode.UNSET });
  });

  it('records a retry then success: an antifragile.retry event and http.request.resend_count 1', async () => {
    const clock = new VirtualClock();
    const call = traced(pipeline(new Retry({ name: 'pricing-retry', maxAttempts: 3, backoff: backoff.constant({ delayMs: 100 }), clock })), {
      tracer,
      name: 'pricing',
    });
    const promise = call.execute(failingTimes(1));
    await clock.runAllAsync();
    await expect(promise).resolves.toBe('ok');
    const span = onlySpan();
    expect(span.name).toBe('antifragile pricing');
    expect(span.kind).toBe(SpanKind.INTERNAL);
    expect(eventsOf(span)).toEqual([
      {
        name: 'antifragile.retry',
        attributes: {
          'antifragile.retry.policy': 'pricing-retry',
          'antifragile.retry.attempt': 2,
          'antifragile.retry.delay_ms': 100,
          'antifragile.retry.reason': 'error',
          'antifragile.error.type': 'Error',
          'antifragile.error.message': 'boom 1',
        },
      },
    ]);
    expect(span.attributes).toEqual({
      'antifragile.pipeline.name': 'pricing',
      'antifragile.outcome': 'success',
      'antifragile.attempts': 2,
      'http.request.resend_count': 1,
    });
    expect(span.status).toEqual({ code: SpanStatusCode.UNSET });
  });

  it('records an open breaker rejection, the exception and status ERROR', async () => {
    const clock = new VirtualClock(1_000);
    const breaker = new CircuitBreaker({ name: 'pricing-breaker', openMs: 30_000, clock });
    breaker.open();
    const call = traced(pipeline(breaker), { tracer, name: 'pricing' });
    const error = await call.execute(() => 'never').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokenCircuitError);
    const span = onlySpan();
    expect(eventsOf(span)).toEqual([
      {
        name: 'antifragile.circuit_breaker.rejected',
        attributes: {
          'antifragile.circuit_breaker.name': 'pricing-breaker',
          'antifragile.circuit_breaker.state': 'open',
          'antifragile.circuit_breaker.retry_after_ms': 30_000,
        },
      },
      {
        name: 'exception',
        attributes: {
          // The SDK names an error with a `code` by its code.
          'exception.type': 'CIRCUIT_OPEN',
          'exception.message': 'Circuit "pricing-breaker" is open',
          'exception.stacktrace': (error as Error).stack,
        },
      },
    ]);
    expect(span.attributes).toEqual({
      'antifragile.pipeline.name': 'pricing',
      'antifragile.outcome': 'failure',
      'antifragile.attempts': 1,
      'antifragile.circuit_breaker.name': 'pricing-breaker',
      'antifragile.circuit_breaker.state': 'open',
      'error.type': 'BrokenCircuitError',
    });
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'Circuit "pricing-breaker" is open' });
  });

  it('records the breaker opening during the call and reports its state', async () => {
    const clock = new VirtualClock();
    const breaker = new CircuitBreaker({ name: 'b', window: { type: 'consecutive', failures: 1 }, clock });
    const call = traced(breaker, { tracer, name: 'pricing' });
    await expect(call.execute(failingTimes(1))).rejects.toThrow('boom 1');
    const span = onlySpan();
    expect(eventsOf(span)[0]).toEqual({
      name: 'antifragile.circuit_breaker.state_change',
      attributes: {
        'antifragile.circuit_breaker.name': 'b',
        'antifragile.circuit_breaker.from': 'closed',
        'antifragile.circuit_breaker.state': 'open',
        'antifragile.circuit_breaker.reason': 'consecutive-failures',
      },
    });
    expect(eventsOf(span).map((e) => e.name)).toEqual(['antifragile.circuit_breaker.state_change', 'exception']);
    expect(span.attributes['antifragile.circuit_breaker.state']).toBe('open');
    expect(span.attributes['error.type']).toBe('Error');
  });

  it('records a timeout of the whole call', async () => {
    const clock = new VirtualClock();
    const call = traced(new Timeout({ ms: 50, clock }), { tracer, name: 'pricing' });
    const promise = call.execute(hangs);
    const settled = promise.catch((e: unknown) => e);
    await clock.advanceAsync(50);
    const error = await settled;
    expect(error).toBeInstanceOf(TimeoutError);
    const span = onlySpan();
    expect(eventsOf(span).map((e) => e.name)).toEqual(['antifragile.timeout', 'exception']);
    expect(span.events[0]?.attributes).toEqual({ 'antifragile.timeout.policy': 'timeout', 'antifragile.timeout.ms': 50 });
    expect(span.attributes['antifragile.outcome']).toBe('failure');
    expect(span.attributes['error.type']).toBe('TimeoutError');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'Operation timed out after 50 ms' });
  });

  it('records a per-attempt timeout inside a retry on the right span, once, then the successful retry', async () => {
    const clock = new VirtualClock();
    let calls = 0;
    const call = traced(
      pipeline(new Retry({ name: 'r', maxAttempts: 2, backoff: backoff.constant({ delayMs: 10 }), clock }), new Timeout({ ms: 50, clock })),
      { tracer, name: 'pricing' },
    );
    const promise = call.execute((ctx) => (++calls === 1 ? hangs(ctx) : 'late ok'));
    await clock.runAllAsync();
    await expect(promise).resolves.toBe('late ok');
    const span = onlySpan();
    expect(eventsOf(span)).toEqual([
      { name: 'antifragile.timeout', attributes: { 'antifragile.timeout.policy': 'timeout', 'antifragile.timeout.ms': 50 } },
      {
        name: 'antifragile.retry',
        attributes: {
          'antifragile.retry.policy': 'r',
          'antifragile.retry.attempt': 2,
          'antifragile.retry.delay_ms': 10,
          'antifragile.retry.reason': 'error',
          'antifragile.error.type': 'TimeoutError',
          'antifragile.error.message': 'Operation timed out after 50 ms',
        },
      },
    ]);
    expect(span.attributes['http.request.resend_count']).toBe(1);
    expect(span.attributes['antifragile.outcome']).toBe('success');
    expect(span.status).toEqual({ code: SpanStatusCode.UNSET });
  });

  it('records a fallback: outcome fallback, status unset', async () => {
    const call = traced(pipeline(new Fallback({ name: 'cached-price', fallback: () => 7 })), { tracer, name: 'pricing' });
    await expect(call.execute(failingTimes(1))).resolves.toBe(7);
    const span = onlySpan();
    expect(eventsOf(span)).toEqual([
      {
        name: 'antifragile.fallback',
        attributes: {
          'antifragile.fallback.policy': 'cached-price',
          'antifragile.fallback.reason': 'error',
          'antifragile.error.type': 'Error',
          'antifragile.error.message': 'boom 1',
        },
      },
    ]);
    expect(span.attributes).toEqual({ 'antifragile.pipeline.name': 'pricing', 'antifragile.outcome': 'fallback', 'antifragile.attempts': 1 });
    expect(span.status).toEqual({ code: SpanStatusCode.UNSET });
  });

  it('records each fault injected by a ChaosRegistry injector once, with its dependency and id', async () => {
    const clock = new VirtualClock();
    const registry = new ChaosRegistry({ control: new ChaosControl({ enabled: true }), clock });
    const fault = registry.inject('pricing', { kind: 'error', message: 'chaos says no' });
    const call = traced(pipeline(new Retry({ name: 'r', maxAttempts: 2, backoff: backoff.constant({ delayMs: 0 }), clock }), registry.injector('pricing')), {
      tracer,
      name: 'pricing',
    });
    let ran = false;
    const promise = call.execute(() => (ran = true)).catch((e: unknown) => e);
    await clock.runAllAsync();
    const error = await promise;
    expect(error).toBeInstanceOf(InjectedFaultError);
    expect(ran).toBe(false);
    const span = onlySpan();
    const injected = {
      name: 'antifragile.chaos.injected',
      attributes: {
        'antifragile.chaos.strategy': 'pricing:error',
        'antifragile.chaos.kind': 'error',
        'antifragile.chaos.dependency': 'pricing',
        'antifragile.chaos.fault_id': fault.id,
      },
    };
    expect(eventsOf(span)).toEqual([
      injected,
      {
        name: 'antifragile.retry',
        attributes: {
          'antifragile.retry.policy': 'r',
          'antifragile.retry.attempt': 2,
          'antifragile.retry.delay_ms': 0,
          'antifragile.retry.reason': 'error',
          'antifragile.error.type': 'InjectedFaultError',
          'antifragile.error.message': 'chaos says no',
        },
      },
      injected,
      {
        name: 'exception',
        attributes: {
          'exception.type': 'INJECTED_FAULT',
          'exception.message': 'chaos says no',
          'exception.stacktrace': (error as Error).stack,
        },
      },
    ]);
    expect(span.attributes).toEqual({
      'antifragile.pipeline.name': 'pricing',
      'antifragile.outcome': 'failure',
      'antifragile.attempts': 2,
      'http.request.resend_count': 1,
      'error.type': 'InjectedFaultError',
    });
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('keeps concurrent executions apart across backoff timers, sharing one Retry instance', async () => {
    const clock = new VirtualClock();
    const retry = new Retry({ name: 'shared', maxAttempts: 4, backoff: backoff.linear({ initialMs: 10, stepMs: 10 }), clock });
    const a = traced(retry, { tracer, name: 'a' });
    const b = traced(retry, { tracer, name: 'b' });
    const pa = a.execute(failingTimes(2));
    const pb = b.execute(failingTimes(1));
    await clock.runAllAsync();
    await expect(Promise.all([pa, pb])).resolves.toEqual(['ok', 'ok']);
    const spans = exporter.getFinishedSpans();
    const byName = (name: string): ReadableSpan => spans.find((s) => s.name === name) as ReadableSpan;
    expect(byName('antifragile a').events.map((e) => e.attributes?.['antifragile.error.message'])).toEqual(['boom 1', 'boom 2']);
    expect(byName('antifragile a').attributes['http.request.resend_count']).toBe(2);
    expect(byName('antifragile b').events.map((e) => e.attributes?.['antifragile.error.message'])).toEqual(['boom 1']);
    expect(byName('antifragile b').attributes['http.request.resend_count']).toBe(1);
  });

  it('leaves policies the function runs itself out of the span; a nested traced call gets its own span', async () => {
    const inner = new Retry({ name: 'inner', maxAttempts: 2, backoff: backoff.constant({ delayMs: 0 }) });
    const innerTraced = traced(new Retry({ name: 'inner-traced', maxAttempts: 2, backoff: backoff.constant({ delayMs: 0 }) }), { tracer, name: 'inner' });
    const call = traced(new Retry({ name: 'outer', maxAttempts: 1 }), { tracer, name: 'outer' });
    await call.execute(async () => {
      await inner.execute(failingTimes(1));
      return innerTraced.execute(failingTimes(1));
    });
    const spans = exporter.getFinishedSpans();
    const outer = spans.find((s) => s.name === 'antifragile outer') as ReadableSpan;
    const nested = spans.find((s) => s.name === 'antifragile inner') as ReadableSpan;
    expect(outer.events).toEqual([]);
    expect(outer.attributes['antifragile.attempts']).toBe(1);
    expect(nested.parentSpanContext?.spanId).toBe(outer.spanContext().spanId);
    expect(eventsOf(nested).map((e) => e.attributes)).toEqual([expect.objectContaining({ 'antifragile.retry.policy': 'inner-traced' })]);
  });

  it('records nothing from untraced calls running while a traced span is open', async () => {
    const clock = new VirtualClock();
    const retry = new Retry({ name: 'shared', maxAttempts: 2, backoff: backoff.constant({ delayMs: 5 }), clock });
    const call = traced(new Timeout({ ms: 100, clock }), { tracer, name: 'slow' });
    let release: (value: string) => void = () => undefined;
    const tracedPromise = call.execute(() => new Promise<string>((resolve) => (release = resolve)));
    const untraced = retry.execute(failingTimes(1));
    await clock.advanceAsync(5);
    await expect(untraced).resolves.toBe('ok');
    release('done');
    await expect(tracedPromise).resolves.toBe('done');
    const span = onlySpan();
    expect(span.name).toBe('antifragile slow');
    expect(span.events).toEqual([]);
    expect(span.attributes['antifragile.attempts']).toBe(1);
  });

  it('runs an attempt started from a timer (a hedge) with the span active', async () => {
    const clock = new VirtualClock();
    const call = traced(new Hedge({ delayMs: 20 }, { clock }), { tracer, name: 'hedged' });
    const activeSpans: (string | undefined)[] = [];
    let calls = 0;
    const promise = call.execute(({ signal }) => {
      activeSpans.push(trace.getActiveSpan()?.spanContext().spanId);
      return ++calls === 1 ? hangs({ signal }) : 'second';
    });
    await clock.advanceAsync(20);
    await expect(promise).resolves.toBe('second');
    const span = onlySpan();
    expect(activeSpans).toEqual([span.spanContext().spanId, span.spanContext().spanId]);
  });

  it('rejects invalid arguments, listing every bad field', () => {
    const attempt = (): unknown => traced({} as never, { tracer: {} as never, name: 3 as never, kind: 9 as never, attributes: [] as never });
    expect(attempt).toThrow(InvalidOptionsError);
    expect(attempt).toThrow(/policy[\s\S]*tracer[\s\S]*name[\s\S]*kind[\s\S]*attributes/);
  });
});

describe('traced: timeouts are recorded when the deadline passes', () => {
  const timeoutEvent = (policy: string, ms: number): { name: string; attributes: unknown } => ({
    name: 'antifragile.timeout',
    attributes: { 'antifragile.timeout.policy': policy, 'antifragile.timeout.ms': ms },
  });
  const names = (span: ReadableSpan): string[] => span.events.map((e) => e.name);

  it('records one timeout event for an attempt that timed out and was retried successfully; the whole-call timeout that never fired adds none', async () => {
    const clock = new VirtualClock();
    let calls = 0;
    const call = traced(
      pipeline(
        new Timeout({ name: 'call', ms: 1_000, clock }),
        new Retry({ name: 'r', maxAttempts: 3, backoff: backoff.constant({ delayMs: 10 }), clock }),
        new Timeout({ name: 'attempt', ms: 50, clock }),
      ),
      { tracer, name: 'pricing' },
    );
    const promise = call.execute((ctx) => (++calls === 1 ? hangs(ctx) : 'ok'));
    await clock.runAllAsync();
    await expect(promise).resolves.toBe('ok');
    const span = onlySpan();
    expect(names(span)).toEqual(['antifragile.timeout', 'antifragile.retry']);
    expect(eventsOf(span)[0]).toEqual(timeoutEvent('attempt', 50));
    expect(span.attributes['antifragile.outcome']).toBe('success');
    expect(span.attributes['antifragile.attempts']).toBe(2);
    expect(span.status).toEqual({ code: SpanStatusCode.UNSET });
  });

  it('records a timeout answered by a fallback, then the fallback, with outcome fallback and no error', async () => {
    const clock = new VirtualClock();
    const call = traced(pipeline(new Fallback({ name: 'cached', fallback: () => 'stale' }), new Timeout({ name: 'attempt', ms: 30, clock })), {
      tracer,
      name: 'pricing',
    });
    const promise = call.execute(hangs);
    await clock.advanceAsync(30);
    await expect(promise).resolves.toBe('stale');
    const span = onlySpan();
    expect(eventsOf(span)).toEqual([
      timeoutEvent('attempt', 30),
      {
        name: 'antifragile.fallback',
        attributes: {
          'antifragile.fallback.policy': 'cached',
          'antifragile.fallback.reason': 'error',
          'antifragile.error.type': 'TimeoutError',
          'antifragile.error.message': 'Operation timed out after 30 ms',
        },
      },
    ]);
    expect(span.attributes['antifragile.outcome']).toBe('fallback');
    expect(span.status).toEqual({ code: SpanStatusCode.UNSET });
  });

  it('records a deadline that passed although the late value was used (cooperative): no error ever surfaces', async () => {
    const clock = new VirtualClock();
    const call = traced(new Timeout({ name: 'attempt', ms: 50, clock }), { tracer, name: 'pricing' });
    const promise = call.execute(() => new Promise<string>((resolve) => clock.schedule(() => resolve('late'), 80)));
    await clock.advanceAsync(80);
    await expect(promise).resolves.toBe('late');
    const span = onlySpan();
    expect(eventsOf(span)).toEqual([timeoutEvent('attempt', 50)]);
    expect(span.attributes['antifragile.outcome']).toBe('success');
  });

  it('gives two concurrent executions sharing one pipeline only their own timeouts, though both deadlines fire from one advance()', async () => {
    const clock = new VirtualClock();
    const shared = pipeline(
      new Retry({ name: 'r', maxAttempts: 3, backoff: backoff.constant({ delayMs: 10 }), clock }),
      new Timeout({ name: 'attempt', ms: 50, clock }),
    );
    const a = traced(shared, { tracer, name: 'a' });
    const b = traced(shared, { tracer, name: 'b' });
    let aCalls = 0;
    // a: two attempts time out, the third answers. b: one attempt, past its deadline, whose late value is used.
    const pa = a.execute((ctx) => (++aCalls <= 2 ? hangs(ctx) : 'a ok'));
    const pb = b.execute(() => new Promise<string>((resolve) => clock.schedule(() => resolve('b late'), 70)));
    await clock.runAllAsync();
    await expect(Promise.all([pa, pb])).resolves.toEqual(['a ok', 'b late']);
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(2);
    const byName = (name: string): ReadableSpan => spans.find((s) => s.name === name) as ReadableSpan;
    const spanA = byName('antifragile a');
    const spanB = byName('antifragile b');
    expect(names(spanA)).toEqual(['antifragile.timeout', 'antifragile.retry', 'antifragile.timeout', 'antifragile.retry']);
    expect(spanA.attributes['antifragile.attempts']).toBe(3);
    expect(eventsOf(spanB)).toEqual([timeoutEvent('attempt', 50)]);
    expect(spanB.attributes['antifragile.attempts']).toBe(1);
  });

  it('keeps concurrent executions apart on the system clock (the production scheduler) too', async () => {
    const shared = pipeline(new Retry({ name: 'r', maxAttempts: 2, backoff: backoff.constant({ delayMs: 0 }) }), new Timeout({ name: 'attempt', ms: 5 }));
    const a = traced(shared, { tracer, name: 'a' });
    const b = traced(shared, { tracer, name: 'b' });
    let aCalls = 0;
    const [ra, rb] = await Promise.all([a.execute((ctx) => (++aCalls === 1 ? hangs(ctx) : 'a ok')), b.execute(() => 'b ok')]);
    expect([ra, rb]).toEqual(['a ok', 'b ok']);
    const spans = exporter.getFinishedSpans();
    const byName = (name: string): ReadableSpan => spans.find((s) => s.name === name) as ReadableSpan;
    expect(names(byName('antifragile a'))).toEqual(['antifragile.timeout', 'antifragile.retry']);
    expect(byName('antifragile b').events).toEqual([]);
  });

  it('records no timeout for a Timeout the function runs itself, even when its TimeoutError rejects the call', async () => {
    const clock = new VirtualClock();
    const own = new Timeout({ name: 'own', ms: 20, clock });
    const call = traced(new Retry({ name: 'r', maxAttempts: 1, clock }), { tracer, name: 'outer' });
    const settled = call.execute(() => own.execute(hangs)).catch((e: unknown) => e);
    await clock.advanceAsync(20);
    expect(await settled).toBeInstanceOf(TimeoutError);
    const span = onlySpan();
    expect(names(span)).toEqual(['exception']);
    expect(span.attributes['error.type']).toBe('TimeoutError');
  });
});
