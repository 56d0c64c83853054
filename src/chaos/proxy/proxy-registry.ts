import type { Clock } from '../../core/clock.js';
import { InvalidOptionsError, type OptionIssue } from '../../core/options.js';
import { FaultProxy, type FaultProxyJson, type FaultProxyOptions } from './fault-proxy.js';
import { FaultProxyError } from './fault-proxy-error.js';
import type { ToxicSpec } from './toxic.js';

/** Options of {@link ProxyRegistry}: defaults given to every proxy it creates. */
export interface ProxyRegistryOptions {
  /** Clock of the proxies created. @default systemClock */
  clock?: Clock;
  /** Random source of the proxies created. @default Math.random */
  random?: () => number;
}

/** A proxy as given to {@link ProxyRegistry.create} and {@link ProxyRegistry.populate}: toxiproxy's fields. */
export type ProxyDefinition = Omit<FaultProxyOptions, 'clock' | 'random'>;

/**
 * A named set of running {@link FaultProxy}s: what toxiproxy's server holds and its control API edits.
 * Every change is validated before anything changes, and changes run one at a time.
 */
export class ProxyRegistry {
  private readonly proxies = new Map<string, FaultProxy>();
  private operations: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ProxyRegistryOptions = {}) {}

  /** The proxy named `name`, if any. */
  get(name: string): FaultProxy | undefined {
    return this.proxies.get(name);
  }

  /** Every proxy, in creation order. */
  list(): FaultProxy[] {
    return [...this.proxies.values()];
  }

  /**
   * Creates and starts a proxy (with its toxics, all or none). Throws `InvalidOptionsError` for bad fields,
   * `FaultProxyError` `PROXY_EXISTS` for a name in use and `PROXY_LISTEN_FAILED` when it cannot listen.
   */
  create(definition: ProxyDefinition): Promise<FaultProxy> {
    return this.serial(async () => {
      const proxy = this.build(definition);
      if (this.proxies.has(proxy.name)) {
        throw new FaultProxyError('PROXY_EXISTS', `A proxy named "${proxy.name}" already exists`);
      }
      await proxy.start();
      this.proxies.set(proxy.name, proxy);
      return proxy;
    });
  }

  /** Stops and removes a proxy. Throws `FaultProxyError` `PROXY_NOT_FOUND` for an unknown name. */
  remove(name: string): Promise<void> {
    return this.serial(async () => {
      const proxy = this.proxies.get(name);
      if (proxy === undefined) throw new FaultProxyError('PROXY_NOT_FOUND', `No proxy named "${name}"`);
      this.proxies.delete(name);
      await proxy.stop();
    });
  }

  /**
   * Creates or replaces a list of proxies, all or none, as toxiproxy's `POST /populate`. A proxy whose name
   * exists with the same listen host and port (port 0 matches any) and upstream is kept with its open
   * connections: its `enabled` is applied and, when the definition lists `toxics`, they replace its toxics.
   * Others are created, or replace the proxy of that name. Every definition is validated first (one
   * `InvalidOptionsError` with paths like `[1].upstream`); when a new proxy cannot listen, the ones started are
   * stopped and the replaced ones restarted before the error is thrown.
   */
  populate(definitions: readonly ProxyDefinition[]): Promise<FaultProxy[]> {
    return this.serial(async () => {
      const planned = this.plan(definitions);
      const replaced: FaultProxy[] = [];
      for (const item of planned) {
        if (item.kind === 'new' && item.previous !== undefined) {
          replaced.push(item.previous);
          await item.previous.stop();
        }
      }
      const started: FaultProxy[] = [];
      try {
        for (const item of planned) {
          if (item.kind !== 'new') continue;
          await item.proxy.start();
          started.push(item.proxy);
        }
      } catch (error) {
        for (const proxy of started) await proxy.stop();
        for (const proxy of replaced) await proxy.start().catch(() => undefined);
        throw error;
      }
      const result: FaultProxy[] = [];
      for (const item of planned) {
        if (item.kind === 'keep') {
          if (item.toxics !== undefined) {
            item.proxy.removeAllToxics();
            item.proxy.addToxics(item.toxics);
          }
          if (item.proxy.enabled !== item.enabled) await item.proxy.update({ enabled: item.enabled });
        }
        this.proxies.set(item.proxy.name, item.proxy);
        result.push(item.proxy);
      }
      return result;
    });
  }

  /** Enables every proxy and removes every toxic, as toxiproxy's `POST /reset`. */
  reset(): Promise<void> {
    return this.serial(async () => {
      for (const proxy of this.proxies.values()) {
        proxy.removeAllToxics();
        await proxy.enable();
      }
    });
  }

  /** Stops and forgets every proxy. */
  stopAll(): Promise<void> {
    return this.serial(async () => {
      const proxies = [...this.proxies.values()];
      this.proxies.clear();
      await Promise.all(proxies.map((p) => p.stop()));
    });
  }

  /** Every proxy by name, in toxiproxy's JSON shape (`GET /proxies`). */
  toJSON(): Record<string, FaultProxyJson> {
    const result: Record<string, FaultProxyJson> = {};
    for (const [name, proxy] of this.proxies) result[name] = proxy.toJSON();
    return result;
  }

  private build(definition: ProxyDefinition): FaultProxy {
    const options: FaultProxyOptions = { name: definition.name, upstream: definition.upstream };
    if (definition.listen !== undefined) options.listen = definition.listen;
    if (definition.enabled !== undefined) options.enabled = definition.enabled;
    if (definition.toxics !== undefined) options.toxics = definition.toxics;
    if (this.options.clock !== undefined) options.clock = this.options.clock;
    if (this.options.random !== undefined) options.random = this.options.random;
    return new FaultProxy(options);
  }

  private plan(definitions: readonly ProxyDefinition[]): PlannedProxy[] {
    if (!Array.isArray(definitions)) {
      throw new InvalidOptionsError('populate', [{ path: 'proxies', expected: 'an array of proxies', received: typeof definitions }]);
    }
    const issues: OptionIssue[] = [];
    const names = new Set<string>();
    const planned: PlannedProxy[] = [];
    definitions.forEach((definition, i) => {
      let proxy: FaultProxy;
      if (typeof definition !== 'object' || definition === null || Array.isArray(definition)) {
        issues.push({ path: `[${i}]`, expected: 'a proxy object', received: Array.isArray(definition) ? 'an array' : String(definition) });
        return;
      }
      try {
        proxy = this.build(definition);
      } catch (error) {
        if (!(error instanceof InvalidOptionsError)) throw error;
        for (const issue of error.issues) issues.push({ ...issue, path: `[${i}].${issue.path}` });
        return;
      }
      if (names.has(proxy.name)) {
        issues.push({ path: `[${i}].name`, expected: 'a name no other proxy of the list has', received: JSON.stringify(proxy.name) });
        return;
      }
      names.add(proxy.name);
      const previous = this.proxies.get(proxy.name);
      if (
        previous !== undefined &&
        previous.host === proxy.host &&
        (proxy.port === 0 || proxy.port === previous.port) &&
        previous.upstream === proxy.upstream
      ) {
        planned.push({ kind: 'keep', proxy: previous, enabled: proxy.enabled, toxics: definition.toxics });
      } else {
        planned.push({ kind: 'new', proxy, previous });
      }
    });
    if (issues.length > 0) throw new InvalidOptionsError('populate', issues);
    return planned;
  }

  private serial<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.operations.then(operation, operation);
    this.operations = run.catch(() => undefined);
    return run;
  }
}

type PlannedProxy =
  | { kind: 'new'; proxy: FaultProxy; previous: FaultProxy | undefined }
  | { kind: 'keep'; proxy: FaultProxy; enabled: boolean; toxics: readonly ToxicSpec[] | undefined };

