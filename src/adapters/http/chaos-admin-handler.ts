import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ChaosRegistry } from '../../chaos/chaos-registry.js';
import { parseFaultSpec } from '../../chaos/fault-spec.js';
import { OptionsValidator } from '../../core/options.js';
import { sendAdminProblem } from './admin/admin-problem.js';
import { HttpError } from './http-error.js';
import { jsonReply, sendReply } from './http-reply.js';
import { readJsonObject } from './read-json-body.js';

/** A fault on the process's own resources (CPU, memory, event loop), as the admin endpoint starts it. */
export interface ResourceFaultHandle {
  readonly id: string;
  readonly kind: string;
  stop(): void | Promise<void>;
  /** Settles when the fault has ended by itself (its duration passed); it is then dropped from the list. */
  readonly done?: Promise<void>;
}

/** Starts resource faults from JSON (`{ kind: 'cpu', percent: 80, durationMs: 10000 }`...). */
export type ResourceFaultStarter = (spec: Record<string, unknown>) => ResourceFaultHandle | Promise<ResourceFaultHandle>;

/** What a service tells a scenario runner about itself (`GET <base>/status`). */
export interface TargetStatus {
  /** Breaker states by name. */
  breakers?: Record<string, string>;
  /** Current degradation level. */
  degradation?: { level: string };
  /** Named figures a scenario's success criteria can read (`order_completion: 0.97`). */
  metrics?: Record<string, number>;
  [key: string]: unknown;
}

/** Options of {@link createChaosAdminHandler}. */
export interface ChaosAdminHandlerOptions {
  registry: ChaosRegistry;
  /**
   * Bearer token every request must carry (`Authorization: Bearer <token>`), compared in constant time.
   * Without one the endpoint refuses everything.
   */
  token: string;
  /** Path prefix. @default '/admin/chaos' */
  basePath?: string;
  /** Starts resource faults (`POST <base>/resources`); absent: that path answers 501. */
  resources?: ResourceFaultStarter;
  /** The service's status for `GET <base>/status`. */
  status?: () => TargetStatus | Promise<TargetStatus>;
  /** Largest accepted body. @default 65536 */
  maxBodyBytes?: number;
}

/** Longest `tag` a fault may carry, characters. */
const MAX_FAULT_TAG_LENGTH = 200;

/** A node:http handler: resolves `true` when it answered the request, `false` when the path is not its own. */
export type ChaosAdminHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/**
 * The chaos part of a service's admin API, for `antifragile run` and operators: read the chaos state,
 * switch chaos on and off, inject and remove faults by dependency, start and stop resource faults, read
 * the service's status. Every request needs the bearer token; errors are `application/problem+json`
 * (RFC 9457) and change nothing. Mount it in any node:http, Express or Fastify server.
 *
 * Routes under `basePath`: `GET /` state · `POST /enable` · `POST /disable` · `POST /faults`
 * `{ dependency, fault, tag? }` · `DELETE /faults/:id` · `DELETE /faults[?dependency=][&tag=]` ·
 * `POST /resources` (`tag` is taken out of the spec) · `DELETE /resources/:id` · `GET /status`.
 *
 * A `tag` (a string of at most 200 characters) is kept with the fault or resource fault and
 * listed with it by `GET /`, so a client (a scenario run) can find and remove every fault it injected, also
 * one whose injection it never heard back from.
 *
 * @example
 * const chaosAdmin = createChaosAdminHandler({ registry, token: process.env.ADMIN_TOKEN! });
 * http.createServer(async (req, res) => { if (!(await chaosAdmin(req, res))) app(req, res); });
 */
export function createChaosAdminHandler(options: ChaosAdminHandlerOptions): ChaosAdminHandler {
  const v = new OptionsValidator('createChaosAdminHandler');
  if (typeof options !== 'object' || options === null) {
    v.fail('options', 'an object', options);
    v.throwIfInvalid();
  }
  v.required('registry', options.registry, 'a ChaosRegistry');
  if (v.required('token', options.token, 'a bearer token (a string of at least 16 characters)') && (typeof options.token !== 'string' || options.token.length < 16)) {
    v.fail('token', 'a bearer token (a string of at least 16 characters)', options.token);
  }
  v.string('basePath', options.basePath);
  v.func('resources', options.resources);
  v.func('status', options.status);
  v.integer('maxBodyBytes', options.maxBodyBytes, 1);
  v.throwIfInvalid();

  const base = (options.basePath ?? '/admin/chaos').replace(/\/$/, '');
  const expected = digest(options.token);
  const maxBody = options.maxBodyBytes ?? 65_536;
  const registry = options.registry;
  const resources = new Map<string, ResourceFaultHandle>();
  /** Tags of running resource faults by id (pruned with the resources they belong to). */
  const resourceTags = new Map<string, string>();
  /** Tags of active faults by id; ids of faults gone (removed, expired) are pruned on each use. */
  const tags = new Map<string, string>();
  const activeFaults = (): (ReturnType<ChaosRegistry['active']>[number] & { tag?: string })[] => {
    const active = registry.active();
    if (tags.size > 0) {
      const ids = new Set(active.map((f) => f.id));
      for (const id of tags.keys()) if (!ids.has(id)) tags.delete(id);
    }
    return active.map((f) => {
      const tag = tags.get(f.id);
      return tag === undefined ? f : { ...f, tag };
    });
  };
  const listResources = (): { id: string; kind: string; tag?: string }[] => {
    for (const id of resourceTags.keys()) if (!resources.has(id)) resourceTags.delete(id);
    return [...resources.values()].map(({ id, kind }) => {
      const tag = resourceTags.get(id);
      return tag === undefined ? { id, kind } : { id, kind, tag };
    });
  };
  const readTag = (value: unknown, check: OptionsValidator): string | undefined => {
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value === '' || value.length > MAX_FAULT_TAG_LENGTH) check.fail('tag', `a non-empty string of at most ${MAX_FAULT_TAG_LENGTH} characters`, value);
    return value as string;
  };

  const route = async (req: IncomingMessage, path: string, query: URLSearchParams): Promise<{ status: number; body?: unknown }> => {
    const method = req.method ?? 'GET';
    if (path === '' || path === '/') {
      if (method !== 'GET') throw HttpError.methodNotAllowed(method, path);
      return {
        status: 200,
        body: {
          enabled: registry.control.enabled,
          permitted: registry.control.permitted,
          environment: registry.control.environment,
          dependencies: registry.dependencies(),
          faults: activeFaults(),
          resources: listResources(),
        },
      };
    }
    if (path === '/enable' || path === '/disable') {
      if (method !== 'POST') throw HttpError.methodNotAllowed(method, path);
      if (path === '/enable') registry.control.enable('admin api');
      else {
        // The kill switch stops everything: in-pipeline faults through the control, resource faults here.
        registry.control.disable('admin api');
        const running = [...resources.values()];
        resources.clear();
        await Promise.all(running.map((handle) => Promise.resolve(handle.stop()).catch(() => {})));
      }
      return { status: 200, body: { enabled: registry.control.enabled } };
    }
    if (path === '/faults') {
      if (method === 'POST') {
        const input = await readJsonObject(req, maxBody);
        const check = new OptionsValidator('fault request');
        if (typeof input.dependency !== 'string' || input.dependency === '') check.fail('dependency', 'a dependency name', input.dependency);
        const tag = readTag(input.tag, check);
        check.throwIfInvalid();
        const fault = registry.inject(input.dependency as string, parseFaultSpec(input.fault, 'fault'));
        if (tag !== undefined) tags.set(fault.id, tag);
        return { status: 201, body: activeFaults().find((f) => f.id === fault.id) };
      }
      if (method === 'DELETE') {
        const dependency = query.get('dependency') ?? undefined;
        const tag = query.get('tag');
        if (tag === null) return { status: 200, body: { removed: registry.clear(dependency) } };
        let removed = 0;
        for (const fault of activeFaults()) {
          if (fault.tag === tag && (dependency === undefined || fault.dependency === dependency) && registry.remove(fault.id)) removed++;
        }
        return { status: 200, body: { removed } };
      }
      throw HttpError.methodNotAllowed(method, path);
    }
    const faultId = /^\/faults\/([^/]+)$/.exec(path)?.[1];
    if (faultId !== undefined) {
      if (method !== 'DELETE') throw HttpError.methodNotAllowed(method, path);
      if (!registry.remove(safeDecode(faultId))) throw new HttpError(404, 'Not Found', `No active fault ${faultId}`);
      return { status: 204 };
    }
    if (path === '/resources') {
      if (method !== 'POST') throw HttpError.methodNotAllowed(method, path);
      if (options.resources === undefined) throw new HttpError(501, 'Not Implemented', 'This service does not expose resource faults');
      if (!registry.control.enabled) throw new HttpError(409, 'Conflict', 'Chaos is disabled; POST /enable first');
      const { tag: rawTag, ...spec } = await readJsonObject(req, maxBody);
      const check = new OptionsValidator('resource request');
      const tag = readTag(rawTag, check);
      check.throwIfInvalid();
      const handle = await options.resources(spec);
      resources.set(handle.id, handle);
      if (tag !== undefined) resourceTags.set(handle.id, tag);
      void handle.done?.then(
        () => resources.delete(handle.id),
        () => resources.delete(handle.id),
      );
      return { status: 201, body: { id: handle.id, kind: handle.kind } };
    }
    const resourceId = /^\/resources\/([^/]+)$/.exec(path)?.[1];
    if (resourceId !== undefined) {
      if (method !== 'DELETE') throw HttpError.methodNotAllowed(method, path);
      const handle = resources.get(safeDecode(resourceId));
      if (handle === undefined) throw new HttpError(404, 'Not Found', `No running resource fault ${resourceId}`);
      resources.delete(handle.id);
      await handle.stop();
      return { status: 204 };
    }
    if (path === '/status') {
      if (method !== 'GET') throw HttpError.methodNotAllowed(method, path);
      return { status: 200, body: options.status === undefined ? {} : await options.status() };
    }
    throw new HttpError(404, 'Not Found', `No admin route ${method} ${base}${path}`);
  };

  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    if (url.pathname !== base && !url.pathname.startsWith(`${base}/`)) return false;
    try {
      if (!authorized(req.headers.authorization, expected)) {
        throw HttpError.unauthorized('A valid bearer token is required');
      }
      const { status, body } = await route(req, url.pathname.slice(base.length), url.searchParams);
      if (body === undefined) res.writeHead(status).end();
      else sendReply(res, jsonReply(status, body));
    } catch (error) {
      sendAdminProblem(res, error, url.pathname);
    }
    return true;
  };
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** Constant-time comparison (of fixed-length digests, so the token's length does not leak either). */
function authorized(header: string | undefined, expected: Buffer): boolean {
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) return false;
  return timingSafeEqual(digest(header.slice(7).trim()), expected);
}


/** A path segment decoded; a malformed `%` escape is kept as is (it then matches nothing: 404). */
function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
