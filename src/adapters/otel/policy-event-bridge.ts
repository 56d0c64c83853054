import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe } from 'node:diagnostics_channel';
import type { ExecutionRecord } from './execution-record.js';

/** A message published on an `antifragile:<source>:<event>` diagnostics channel. */
interface PolicyMessage<P> {
  name: string;
  event: string;
  payload: P;
}

/** The traced execution the current async context belongs to, if any. */
const storage = new AsyncLocalStorage<ExecutionRecord>();
let installed = false;

/**
 * Subscribes, once per process, one listener to each diagnostics channel the spans use. A message is
 * recorded on the {@link ExecutionRecord} of the async context it was published in, and ignored outside
 * a traced execution. Before the first `traced()` nothing is subscribed, so policies build no payloads.
 * @internal
 */
export function installPolicyEventBridge(): void {
  if (installed) return;
  installed = true;
  on<{ attempt: number; delayMs: number; error?: unknown; result?: unknown }>('retry:retry', (record, m) => record.retry(m.name, m.payload));
  on<{ name: string; state: string; retryAfterMs: number | undefined }>('circuit-breaker:rejected', (record, m) => record.rejected(m.payload));
  on<{ name: string; from: string; to: string; reason: string }>('circuit-breaker:stateChange', (record, m) => record.stateChange(m.payload));
  on<{ ms: number }>('timeout:timeout', (record, m) => record.timeout(m.name, m.payload));
  on<{ kind: 'error'; error: unknown } | { kind: 'result'; result: unknown }>('fallback:fallback', (record, m) => record.fallback(m.name, m.payload));
  on<{ dependency: string; id: string; kind: string }>('chaos-registry:injected', (record, m) => record.registryInjected(m.payload));
  on<{ name: string; kind: string }>('chaos:injected', (record, m) => record.strategyInjected(m.payload));
}

function on<P>(channel: string, handle: (record: ExecutionRecord, message: PolicyMessage<P>) => void): void {
  subscribe(`antifragile:${channel}`, (message) => {
    const record = storage.getStore();
    if (record !== undefined) handle(record, message as PolicyMessage<P>);
  });
}

/** Runs `fn` with `record` as the current traced execution. @internal */
export function runRecorded<R>(record: ExecutionRecord, fn: () => R): R {
  return storage.run(record, fn);
}

/**
 * Runs `fn(arg)` outside any traced execution: the user's function is not part of the pipeline, and policies
 * it runs itself (not traced) must not write to the pipeline's span. @internal
 */
export function runUnrecorded<A, R>(fn: (arg: A) => R, arg: A): R {
  return storage.exit(fn, arg);
}
