import { sleep } from '../../core/abort.js';
import type { Clock } from '../../core/clock.js';
import { InjectedFaultError } from '../../core/errors.js';
import type { Unsubscribe } from '../../core/events.js';
import { OptionsValidator } from '../../core/options.js';
import { startCpuPressure } from '../resource/cpu-pressure.js';
import { startEventLoopBlock } from '../resource/event-loop-block.js';
import { startMemoryPressure } from '../resource/memory-pressure.js';
import {
  CHAOS_FAULT_TYPES,
  EXPERIMENT_SEVERITIES,
  type ChaosFaultType,
  type ExperimentAction,
  type ExperimentContext,
  type ExperimentDefinition,
  type ExperimentSeverity,
  type Rollback,
} from './experiment-definition.js';
import type { ProxyLike, StoppableService, SupervisorLike } from './experiment-targets.js';

/** What every template accepts on top of its own parameters. */
export interface TemplateOptions {
  /** @default `<fault-type>-<target>` */
  name?: string;
  description?: string;
  /** @default per template: `low` for latency, `high` for outages, kills and disruptions, else `medium` */
  severity?: ExperimentSeverity;
  steadyState?: ExperimentDefinition['steadyState'];
  probes?: ExperimentDefinition['probes'];
  probeIntervalMs?: number;
  traffic?: ExperimentDefinition['traffic'];
  recovery?: ExperimentDefinition['recovery'];
}

/** The configuration of each fault type (what `ChaosEngineering.runExperiment` takes as `config`). */
export interface ChaosFaultConfigs {
  /** Calls wait `latencyMs` (+ up to `jitterMs`) before running; `rate` of them (0..1, default 1). */
  latency: { latencyMs: number; jitterMs?: number; rate?: number };
  /** `rate` of the calls (0..1, default 1) fail with an `InjectedFaultError`. */
  error: { rate?: number; message?: string };
  /** Calls hang for `hangMs` (default 30_000), until their signal aborts or the rollback releases them: only a timeout frees the caller. */
  timeout: { hangMs?: number; rate?: number };
  /** Every call fails: the dependency is down. */
  'dependency-outage': { message?: string };
  /** Calls wait `acquireTimeoutMs` (default 1_000) for a resource that never frees up, then fail. */
  'resource-exhaustion': { acquireTimeoutMs?: number; rate?: number };
  /** One ready worker of the supervisor is killed (`signal`, default SIGKILL); its replacement is awaited on rollback. */
  'process-kill': { supervisor: SupervisorLike; slot?: number; signal?: NodeJS.Signals; recoveryTimeoutMs?: number };
  /** A latency toxic on the proxy in front of the dependency. */
  'network-latency': { proxy: ProxyLike; latencyMs: number; jitterMs?: number; stream?: 'upstream' | 'downstream'; toxicity?: number };
  /** Worker threads each burning `percent` (default 80) of a core; `threads` default 1. */
  'cpu-pressure': { percent?: number; threads?: number };
  /** A worker thread holding `mb` megabytes. */
  'memory-pressure': { mb: number; chunkMb?: number; maxShareOfFreeMemory?: number };
  /** The main thread blocked `blockMs`, once or every `intervalMs`. */
  'event-loop-block': { blockMs: number; intervalMs?: number; maxBlockMs?: number };
  /** The dependency stopped (or its proxy disabled: connections refused), started again on rollback. */
  'service-disruption': { service: StoppableService | ProxyLike };
  /** The proxy's upstream name stops resolving (`host`, default `chaos-dns-failure.invalid`); restored on rollback. */
  'dns-failure': { proxy: ProxyLike; host?: string };
  /** The proxy sends connections to `decoyUpstream`, a TLS server with an expired or untrusted certificate. */
  'tls-failure': { proxy: ProxyLike; decoyUpstream: string };
}

/**
 * An experiment built by {@link ChaosExperiments}: a full definition plus the seed's fields (`faultType`,
 * `target`, `config`, `duration`) so that `chaos.runExperiment(t.name, t.faultType, t.target, t.config, t.duration)` works.
 */
export interface ExperimentTemplate extends ExperimentDefinition {
  faultType: ChaosFaultType;
  target: string;
  /** The fault's configuration, as given (it may hold the proxy, supervisor or service acted on). */
  config: Readonly<Record<string, unknown>>;
  category: string;
  severity: ExperimentSeverity;
  durationMs: number;
  /** The seed's name of `durationMs`. */
  duration: number;
}

const CATEGORY: Record<ChaosFaultType, string> = {
  latency: 'dependency',
  error: 'dependency',
  timeout: 'dependency',
  'dependency-outage': 'dependency',
  'resource-exhaustion': 'dependency',
  'process-kill': 'process',
  'network-latency': 'network',
  'cpu-pressure': 'resource',
  'memory-pressure': 'resource',
  'event-loop-block': 'resource',
  'service-disruption': 'service',
  'dns-failure': 'network',
  'tls-failure': 'network',
};

const SEVERITY: Record<ChaosFaultType, ExperimentSeverity> = {
  latency: 'low',
  error: 'medium',
  timeout: 'medium',
  'dependency-outage': 'high',
  'resource-exhaustion': 'medium',
  'process-kill': 'high',
  'network-latency': 'low',
  'cpu-pressure': 'medium',
  'memory-pressure': 'medium',
  'event-loop-block': 'medium',
  'service-disruption': 'high',
  'dns-failure': 'medium',
  'tls-failure': 'medium',
};

const DESCRIPTION: Record<ChaosFaultType, string> = {
  latency: 'Calls to the dependency are slowed down',
  error: 'A share of the calls to the dependency fail',
  timeout: 'Calls to the dependency hang until the caller gives up',
  'dependency-outage': 'The dependency is down: every call fails',
  'resource-exhaustion': 'The dependency has no free connection: calls wait, then fail',
  'process-kill': 'A worker process is killed; the supervisor must replace it',
  'network-latency': 'Network latency between the service and the dependency (fault proxy)',
  'cpu-pressure': 'CPU is burned in worker threads',
  'memory-pressure': 'Memory is held by a worker thread',
  'event-loop-block': 'The event loop is blocked',
  'service-disruption': 'The dependency is stopped, then started again',
  'dns-failure': "The dependency's name no longer resolves (fault proxy)",
  'tls-failure': 'The dependency presents a bad TLS certificate (fault proxy)',
};

/** Slack between an experiment's end and the self-deadline of a resource fault (rollback stops it first). */
const RESOURCE_SLACK_MS = 60_000;
const MAX_RESOURCE_MS = 3_600_000;

/**
 * Ready-made experiments (the seed's `ChaosExperiments`, plus the Go chaos script's scenarios done in Node).
 * Dependency faults go through the runner's {@link ChaosRegistry} (put `registry.injector(target)` in the
 * dependency's pipeline); network faults through a fault proxy; resource faults in worker threads or the
 * main thread, always released by their rollback (and by their own deadline).
 *
 * @example
 * const t = ChaosExperiments.latencySpike('api-service', 2_000, 60_000);
 * const run = await chaos.runExperiment(t.name, t.faultType, t.target, t.config, t.duration);
 */
export class ChaosExperiments {
  private constructor() {}

  /** Calls to `target` take `latencyMs` longer for `durationMs`. */
  static latencySpike(target: string, latencyMs: number, durationMs: number, options: TemplateOptions & { jitterMs?: number; rate?: number } = {}): ExperimentTemplate {
    const { jitterMs, rate, ...rest } = options;
    return ChaosExperiments.build('latency', target, { latencyMs, ...opt('jitterMs', jitterMs), ...opt('rate', rate) }, durationMs, rest);
  }

  /** `rate` (0..1) of the calls to `target` fail for `durationMs`. */
  static errorBurst(target: string, rate: number, durationMs: number, options: TemplateOptions & { message?: string } = {}): ExperimentTemplate {
    const { message, ...rest } = options;
    return ChaosExperiments.build('error', target, { rate, ...opt('message', message) }, durationMs, rest);
  }

  /** Every call to `target` fails for `durationMs`. */
  static dependencyOutage(target: string, durationMs: number, options: TemplateOptions & { message?: string } = {}): ExperimentTemplate {
    const { message, ...rest } = options;
    return ChaosExperiments.build('dependency-outage', target, { ...opt('message', message) }, durationMs, rest);
  }

  /** Calls to `target` hang (`hangMs`, default 30 s) for `durationMs`: only the caller's timeout ends them. */
  static timeout(target: string, durationMs: number, options: TemplateOptions & { hangMs?: number; rate?: number } = {}): ExperimentTemplate {
    const { hangMs, rate, ...rest } = options;
    return ChaosExperiments.build('timeout', target, { ...opt('hangMs', hangMs), ...opt('rate', rate) }, durationMs, rest);
  }

  /** Calls to `target` wait `acquireTimeoutMs` for a pooled resource, then fail, for `durationMs`. */
  static resourceExhaustion(
    target: string,
    durationMs: number,
    options: TemplateOptions & { acquireTimeoutMs?: number; rate?: number } = {},
  ): ExperimentTemplate {
    const { acquireTimeoutMs, rate, ...rest } = options;
    return ChaosExperiments.build('resource-exhaustion', target, { ...opt('acquireTimeoutMs', acquireTimeoutMs), ...opt('rate', rate) }, durationMs, rest);
  }

  /** Kills one ready worker of `supervisor` (a random one, or `slot`); the rollback waits for its replacement. */
  static processKill(
    supervisor: SupervisorLike,
    durationMs: number,
    options: TemplateOptions & { slot?: number; signal?: NodeJS.Signals; recoveryTimeoutMs?: number; target?: string } = {},
  ): ExperimentTemplate {
    const { slot, signal, recoveryTimeoutMs, target, ...rest } = options;
    return ChaosExperiments.build(
      'process-kill',
      target ?? 'workers',
      { supervisor, ...opt('slot', slot), ...opt('signal', signal), ...opt('recoveryTimeoutMs', recoveryTimeoutMs) },
      durationMs,
      rest,
    );
  }

  /** Adds `latencyMs` (+ `jitterMs`) of network latency on `proxy` for `durationMs`. */
  static networkLatency(
    proxy: ProxyLike,
    latencyMs: number,
    durationMs: number,
    options: TemplateOptions & { jitterMs?: number; stream?: 'upstream' | 'downstream'; toxicity?: number } = {},
  ): ExperimentTemplate {
    const { jitterMs, stream, toxicity, ...rest } = options;
    return ChaosExperiments.build(
      'network-latency',
      proxy.name,
      { proxy, latencyMs, ...opt('jitterMs', jitterMs), ...opt('stream', stream), ...opt('toxicity', toxicity) },
      durationMs,
      rest,
    );
  }

  /** Burns `percent` of a core in each of `threads` worker threads for `durationMs`. */
  static cpuPressure(percent: number, durationMs: number, options: TemplateOptions & { threads?: number } = {}): ExperimentTemplate {
    const { threads, ...rest } = options;
    return ChaosExperiments.build('cpu-pressure', 'process', { percent, ...opt('threads', threads) }, durationMs, rest);
  }

  /** Holds `mb` megabytes in a worker thread for `durationMs` (refused above half the free memory by default). */
  static memoryPressure(
    mb: number,
    durationMs: number,
    options: TemplateOptions & { chunkMb?: number; maxShareOfFreeMemory?: number } = {},
  ): ExperimentTemplate {
    const { chunkMb, maxShareOfFreeMemory, ...rest } = options;
    return ChaosExperiments.build('memory-pressure', 'process', { mb, ...opt('chunkMb', chunkMb), ...opt('maxShareOfFreeMemory', maxShareOfFreeMemory) }, durationMs, rest);
  }

  /** Blocks the event loop `blockMs`, once or every `intervalMs`, for `durationMs`. */
  static eventLoopBlock(
    blockMs: number,
    durationMs: number,
    options: TemplateOptions & { intervalMs?: number; maxBlockMs?: number } = {},
  ): ExperimentTemplate {
    const { intervalMs, maxBlockMs, ...rest } = options;
    return ChaosExperiments.build('event-loop-block', 'process', { blockMs, ...opt('intervalMs', intervalMs), ...opt('maxBlockMs', maxBlockMs) }, durationMs, rest);
  }

  /** Stops `service` (or disables its proxy) for `durationMs`, then starts it again. */
  static serviceDisruption(service: StoppableService | ProxyLike, durationMs: number, options: TemplateOptions & { target?: string } = {}): ExperimentTemplate {
    const { target, ...rest } = options;
    return ChaosExperiments.build('service-disruption', target ?? service.name ?? 'service', { service }, durationMs, rest);
  }

  /** Makes the name of `proxy`'s upstream unresolvable for `durationMs`. */
  static dnsFailure(proxy: ProxyLike, durationMs: number, options: TemplateOptions & { host?: string } = {}): ExperimentTemplate {
    const { host, ...rest } = options;
    return ChaosExperiments.build('dns-failure', proxy.name, { proxy, ...opt('host', host) }, durationMs, rest);
  }

  /** Routes `proxy` to `decoyUpstream` (a TLS server with a bad certificate) for `durationMs`. */
  static tlsFailure(proxy: ProxyLike, decoyUpstream: string, durationMs: number, options: TemplateOptions = {}): ExperimentTemplate {
    return ChaosExperiments.build('tls-failure', proxy.name, { proxy, decoyUpstream }, durationMs, options);
  }

  /**
   * Builds the experiment of `faultType` on `target` from its configuration (what every template calls, and
   * what `ChaosEngineering.runExperiment` uses). The seed's names `latency` (for `latencyMs`) and `errorRate`
   * (for `rate`) are accepted too.
   * @throws InvalidOptionsError listing every invalid field.
   */
  static build<K extends ChaosFaultType>(
    faultType: K,
    target: string,
    config: ChaosFaultConfigs[K],
    durationMs: number,
    options: TemplateOptions = {},
  ): ExperimentTemplate {
    const v = new OptionsValidator(`ChaosExperiments ${String(faultType)}`);
    v.oneOf('faultType', faultType, CHAOS_FAULT_TYPES);
    if (typeof target !== 'string' || target === '') v.fail('target', 'a non-empty string', target);
    v.duration('durationMs', durationMs, true);
    if (durationMs === undefined) v.fail('durationMs', 'a number > 0', durationMs);
    v.string('name', options.name);
    v.oneOf('severity', options.severity, EXPERIMENT_SEVERITIES);
    if (!v.object('config', config)) {
      if (config === undefined) v.fail('config', 'an object', config);
      v.throwIfInvalid();
    }
    const c = normalize(config as unknown as Record<string, unknown>);
    const action = actionOf(faultType, target, c, durationMs, v);
    v.throwIfInvalid();
    const template: ExperimentTemplate = {
      name: options.name ?? `${faultType}-${target}`,
      description: options.description ?? `${DESCRIPTION[faultType]} (${target})`,
      category: CATEGORY[faultType],
      severity: options.severity ?? SEVERITY[faultType],
      faultType,
      target,
      config: c,
      method: [action as ExperimentAction],
      durationMs,
      duration: durationMs,
    };
    if (options.steadyState !== undefined) template.steadyState = options.steadyState;
    if (options.probes !== undefined) template.probes = options.probes;
    if (options.probeIntervalMs !== undefined) template.probeIntervalMs = options.probeIntervalMs;
    if (options.traffic !== undefined) template.traffic = options.traffic;
    if (options.recovery !== undefined) template.recovery = options.recovery;
    return template;
  }
}

function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function normalize(config: Record<string, unknown>): Record<string, unknown> {
  const c = { ...config };
  if (c.latencyMs === undefined && typeof c.latency === 'number') c.latencyMs = c.latency;
  if (c.rate === undefined && typeof c.errorRate === 'number') c.rate = c.errorRate;
  delete c.latency;
  delete c.errorRate;
  return c;
}

/** The action of a fault type, its configuration checked into `v`. */
function actionOf(faultType: ChaosFaultType, target: string, c: Record<string, unknown>, durationMs: number, v: OptionsValidator): ExperimentAction | undefined {
  const name = faultType;
  const rate = c.rate as number | undefined;
  const withRate = rate === undefined ? {} : { rate };
  switch (faultType) {
    case 'latency': {
      if (v.required('config.latencyMs', c.latencyMs, 'a duration in ms')) v.duration('config.latencyMs', c.latencyMs);
      v.duration('config.jitterMs', c.jitterMs);
      v.rate('config.rate', rate);
      const latencyMs = c.latencyMs as number;
      const jitterMs = c.jitterMs as number | undefined;
      return {
        name,
        kind: faultType,
        target,
        parameters: { latencyMs, ...(jitterMs === undefined ? {} : { jitterMs }), ...withRate },
        inject: (ctx) => ctx.injectFault(target, { kind: 'latency', latencyMs, ...(jitterMs === undefined ? {} : { jitterMs }), ...withRate }),
      };
    }
    case 'error':
    case 'dependency-outage': {
      v.rate('config.rate', rate);
      v.string('config.message', c.message);
      const outage = faultType === 'dependency-outage';
      const message = (c.message as string | undefined) ?? (outage ? `${target} is unavailable (injected outage)` : `Injected error burst on ${target}`);
      const spec = outage ? { kind: 'error' as const, message } : { kind: 'error' as const, message, ...withRate };
      return { name, kind: faultType, target, parameters: outage ? {} : { rate: rate ?? 1 }, inject: (ctx) => ctx.injectFault(target, spec) };
    }
    case 'timeout': {
      v.duration('config.hangMs', c.hangMs, true);
      v.rate('config.rate', rate);
      const hangMs = (c.hangMs as number | undefined) ?? 30_000;
      return {
        name,
        kind: faultType,
        target,
        parameters: { hangMs, ...withRate },
        inject: (ctx) => {
          // Calls hang until their caller gives up, `hangMs` passes, or the rollback releases them.
          const release = new AbortController();
          const remove = ctx.injectFault(target, { kind: 'behavior', ...withRate, behavior: (call) => hang(ctx.clock, hangMs, call.context.signal, release.signal) });
          return () => {
            remove();
            release.abort();
          };
        },
      };
    }
    case 'resource-exhaustion': {
      v.duration('config.acquireTimeoutMs', c.acquireTimeoutMs);
      v.rate('config.rate', rate);
      const acquireTimeoutMs = (c.acquireTimeoutMs as number | undefined) ?? 1_000;
      return {
        name,
        kind: faultType,
        target,
        parameters: { acquireTimeoutMs, ...withRate },
        inject: (ctx) =>
          ctx.injectFault(target, {
            kind: 'behavior',
            ...withRate,
            behavior: async (call) => {
              await sleep(ctx.clock, acquireTimeoutMs, call.context.signal);
              throw new InjectedFaultError(`${target}: resource exhausted, nothing free within ${acquireTimeoutMs} ms (injected)`);
            },
          }),
      };
    }
    case 'process-kill': {
      const supervisor = c.supervisor as SupervisorLike | undefined;
      if (typeof supervisor?.getWorkers !== 'function' || typeof supervisor.on !== 'function') {
        v.fail('config.supervisor', 'a supervisor with getWorkers() and on()', supervisor);
      }
      v.integer('config.slot', c.slot, 0);
      v.string('config.signal', c.signal);
      v.duration('config.recoveryTimeoutMs', c.recoveryTimeoutMs, true);
      const slot = c.slot as number | undefined;
      const signal = (c.signal as NodeJS.Signals | undefined) ?? 'SIGKILL';
      const recoveryTimeoutMs = (c.recoveryTimeoutMs as number | undefined) ?? 30_000;
      return {
        name,
        kind: faultType,
        target,
        parameters: { signal, recoveryTimeoutMs, ...(slot === undefined ? {} : { slot }) },
        inject: (ctx) => killWorker(ctx, supervisor as SupervisorLike, slot, signal, recoveryTimeoutMs),
      };
    }
    case 'network-latency': {
      const proxy = checkProxy(v, c.proxy);
      if (v.required('config.latencyMs', c.latencyMs, 'a duration in ms')) v.duration('config.latencyMs', c.latencyMs);
      v.duration('config.jitterMs', c.jitterMs);
      v.oneOf('config.stream', c.stream, ['upstream', 'downstream']);
      v.rate('config.toxicity', c.toxicity);
      const latencyMs = c.latencyMs as number;
      const jitterMs = (c.jitterMs as number | undefined) ?? 0;
      const stream = (c.stream as 'upstream' | 'downstream' | undefined) ?? 'downstream';
      const toxicity = (c.toxicity as number | undefined) ?? 1;
      return {
        name,
        kind: faultType,
        target,
        parameters: { latencyMs, jitterMs, stream, toxicity },
        inject: (ctx) => {
          const toxic = `chaos-latency-${ctx.experimentId.slice(0, 8)}`;
          proxy.addToxic({ name: toxic, type: 'latency', stream, toxicity, attributes: { latency: latencyMs, jitter: jitterMs } });
          return () => proxy.removeToxic(toxic);
        },
      };
    }
    case 'cpu-pressure': {
      v.number('config.percent', c.percent, { min: 1, max: 100 });
      v.number('config.threads', c.threads, { integer: true, min: 1, max: 64 });
      const percent = (c.percent as number | undefined) ?? 80;
      const threads = (c.threads as number | undefined) ?? 1;
      return {
        name,
        kind: faultType,
        target,
        parameters: { percent, threads },
        inject: async () => {
          const pressure = await startCpuPressure({ percent, threads, durationMs: resourceDeadline(durationMs) });
          return () => pressure.stop();
        },
      };
    }
    case 'memory-pressure': {
      if (v.required('config.mb', c.mb, 'an integer >= 1')) v.integer('config.mb', c.mb, 1);
      v.number('config.chunkMb', c.chunkMb, { integer: true, min: 1, max: 1_024 });
      v.rate('config.maxShareOfFreeMemory', c.maxShareOfFreeMemory);
      const mb = c.mb as number;
      const extra = { ...opt('chunkMb', c.chunkMb as number | undefined), ...opt('maxShareOfFreeMemory', c.maxShareOfFreeMemory as number | undefined) };
      return {
        name,
        kind: faultType,
        target,
        parameters: { mb, ...extra },
        inject: async () => {
          const pressure = await startMemoryPressure({ mb, durationMs: resourceDeadline(durationMs), ...extra });
          return () => pressure.stop();
        },
      };
    }
    case 'event-loop-block': {
      if (v.required('config.blockMs', c.blockMs, 'a duration in ms')) v.duration('config.blockMs', c.blockMs, true);
      v.duration('config.intervalMs', c.intervalMs, true);
      v.duration('config.maxBlockMs', c.maxBlockMs, true);
      const blockMs = c.blockMs as number;
      const extra = { ...opt('intervalMs', c.intervalMs as number | undefined), ...opt('maxBlockMs', c.maxBlockMs as number | undefined) };
      return {
        name,
        kind: faultType,
        target,
        parameters: { blockMs, ...extra },
        inject: (ctx) => {
          const block = startEventLoopBlock({ blockMs, durationMs, clock: ctx.clock, ...extra });
          return () => block.stop();
        },
      };
    }
    case 'service-disruption': {
      const service = c.service as Partial<StoppableService & ProxyLike> | undefined;
      const stoppable = typeof service?.stop === 'function' && typeof service.start === 'function';
      const proxy = typeof service?.disable === 'function' && typeof service.enable === 'function';
      if (!stoppable && !proxy) v.fail('config.service', 'a service with stop() and start(), or a proxy with disable() and enable()', service);
      const s = service as StoppableService & ProxyLike;
      return {
        name,
        kind: faultType,
        target,
        parameters: { via: stoppable ? 'stop' : 'proxy' },
        // Bound before the stop: a service that failed half-way through stopping is started again.
        rollback: () => (stoppable ? s.start() : s.enable()),
        inject: async () => {
          await (stoppable ? s.stop() : s.disable());
        },
      };
    }
    case 'dns-failure': {
      const proxy = checkProxy(v, c.proxy);
      v.string('config.host', c.host);
      const host = (c.host as string | undefined) ?? 'chaos-dns-failure.invalid';
      return {
        name,
        kind: faultType,
        target,
        parameters: { host },
        inject: (ctx) => redirect(ctx, proxy, (original) => `${host}:${portOf(original)}`, (failed) => `${failed} connection(s) through proxy "${proxy.name}" could not resolve "${host}"`),
      };
    }
    case 'tls-failure': {
      const proxy = checkProxy(v, c.proxy);
      if (typeof c.decoyUpstream !== 'string' || !/^.+:\d+$/.test(c.decoyUpstream)) v.fail('config.decoyUpstream', 'a host:port string', c.decoyUpstream);
      const decoy = c.decoyUpstream as string;
      return {
        name,
        kind: faultType,
        target,
        parameters: { decoyUpstream: decoy },
        inject: (ctx) => redirect(ctx, proxy, () => decoy, undefined),
      };
    }
  }
}

function checkProxy(v: OptionsValidator, proxy: unknown): ProxyLike {
  const p = proxy as Partial<ProxyLike> | undefined;
  if (
    typeof p !== 'object' ||
    p === null ||
    typeof p.addToxic !== 'function' ||
    typeof p.removeToxic !== 'function' ||
    typeof p.update !== 'function' ||
    typeof p.name !== 'string'
  ) {
    v.fail('config.proxy', 'a fault proxy (name, upstream, addToxic(), removeToxic(), update())', proxy);
  }
  return p as ProxyLike;
}

function portOf(address: string): string {
  return address.slice(address.lastIndexOf(':') + 1);
}

function resourceDeadline(durationMs: number): number {
  return Math.min(MAX_RESOURCE_MS, durationMs + RESOURCE_SLACK_MS);
}

/** Points `proxy` elsewhere; the rollback points it back (and reports failed connections when asked). */
async function redirect(
  ctx: ExperimentContext,
  proxy: ProxyLike,
  to: (original: string) => string,
  report: ((failedConnections: number) => string) | undefined,
): Promise<Rollback> {
  const original = proxy.upstream;
  const errorsBefore = proxy.stats?.upstreamErrors ?? 0;
  const target = to(original);
  await proxy.update({ upstream: target });
  ctx.record('proxy-redirected', { proxy: proxy.name, from: original, to: target });
  return async () => {
    const failed = (proxy.stats?.upstreamErrors ?? errorsBefore) - errorsBefore;
    await proxy.update({ upstream: original });
    if (report !== undefined && proxy.stats !== undefined) ctx.observe(report(failed));
  };
}

/** Kills one ready worker; the rollback waits (bounded) for the supervisor to replace it and reports how long it took. */
async function killWorker(
  ctx: ExperimentContext,
  supervisor: SupervisorLike,
  slot: number | undefined,
  signal: NodeJS.Signals,
  recoveryTimeoutMs: number,
): Promise<Rollback> {
  const ready = supervisor.getWorkers().filter((w) => w.ready && w.pid !== undefined && w.draining !== true && (slot === undefined || w.slot === slot));
  if (ready.length === 0) throw new Error(slot === undefined ? 'no ready worker to kill' : `no ready worker in slot ${slot}`);
  const victim = ready[Math.min(ready.length - 1, Math.floor(ctx.random() * ready.length))] as (typeof ready)[number];
  const pid = victim.pid as number;
  let replaced: { at: number; pid: number | undefined } | undefined;
  let onReplaced: (() => void) | undefined;
  const off: Unsubscribe = supervisor.on('workerReady', (event) => {
    if (event.slot !== victim.slot || event.pid === pid || replaced !== undefined) return;
    replaced = { at: ctx.clock.now(), pid: event.pid };
    onReplaced?.();
  });
  const killedAt = ctx.clock.now();
  try {
    process.kill(pid, signal);
  } catch (error) {
    off();
    throw error;
  }
  ctx.record('worker-killed', { slot: victim.slot, pid, signal });
  return async () => {
    try {
      if (replaced === undefined) await waitFor((resolve) => (onReplaced = resolve), ctx.clock, recoveryTimeoutMs);
      if (replaced === undefined) {
        throw new Error(`the supervisor did not replace the worker of slot ${victim.slot} within ${recoveryTimeoutMs} ms`);
      }
      ctx.observe(
        `worker of slot ${victim.slot} (pid ${pid}) killed with ${signal}; the supervisor replaced it (pid ${String(replaced.pid)}) in ${Math.round(replaced.at - killedAt)} ms`,
      );
    } finally {
      off();
    }
  };
}

/** Waits `ms`, or until `release` aborts; rejects with the caller's abort reason when `signal` aborts first. */
async function hang(clock: Clock, ms: number, signal: AbortSignal, release: AbortSignal): Promise<void> {
  try {
    await sleep(clock, ms, AbortSignal.any([signal, release]));
  } catch (error) {
    if (signal.aborted) throw error;
  }
}

/** Resolves once `arm`'s callback is called or `ms` have passed on the clock, whichever comes first. */
function waitFor(arm: (resolve: () => void) => void, clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = clock.schedule(resolve, ms);
    arm(() => {
      timer.cancel();
      resolve();
    });
  });
}
