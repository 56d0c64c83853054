import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { systemClock, type Clock } from '../../../core/clock.js';
import { OptionsValidator } from '../../../core/options.js';
import type { Store } from '../../../store/store.js';
import { MemoryStore } from '../../../store/memory-store.js';
import { createChaosAdminHandler, type ChaosAdminHandler } from '../chaos-admin-handler.js';
import { HttpError, isHttpError } from '../http-error.js';
import { jsonReply, sendReply } from '../http-reply.js';
import { readJsonObject } from '../read-json-body.js';
import { AdminActivityLog } from './admin-activity-log.js';
import { AdminAuth, type AdminToken } from './admin-auth.js';
import { experimentRunnerOf, type AdminComponents } from './admin-components.js';
import { AdminEventStream } from './admin-event-stream.js';
import { sendAdminProblem } from './admin-problem.js';
import { buildAdminSnapshot, type AdminSnapshot } from './admin-snapshot.js';
import { DASHBOARD_CSP, renderDashboardPage } from './dashboard-page.js';

/** Options of {@link createAdminApi}. */
export interface AdminApiOptions {
  /**
   * Bearer token(s). A string is the token of `'admin'`; named tokens record who acted. Every request but
   * the dashboard page itself needs one (`Authorization: Bearer <token>`); compared in constant time.
   */
  token: string | readonly AdminToken[];
  /** What the API shows and acts on. @default {} */
  components?: AdminComponents;
  /** Where every action is recorded (`recordAudit`: who, what, target, when). @default a new MemoryStore */
  store?: Store;
  /** Name of the environment. @default the chaos control's environment, else process.env.NODE_ENV, else 'development' */
  environment?: string;
  /** Environments treated as production. @default ['production', 'prod'] */
  productionEnvironments?: readonly string[];
  /** Accept actions in a production environment. Off by default: there, every action answers 403. @default false */
  allowInProduction?: boolean;
  /** Path prefix. @default '/admin' */
  basePath?: string;
  /** Largest accepted request body, bytes. @default 16384 */
  maxBodyBytes?: number;
  /** Most event-stream clients at once; one more gets 503. @default 16 */
  maxStreamClients?: number;
  /** Least time between two snapshots on the event stream, ms. @default 250 */
  streamMinIntervalMs?: number;
  /** How often the event stream re-reads the state while clients are connected, ms. @default 2000 */
  streamPollIntervalMs?: number;
  /** Longest silence on the event stream before a heartbeat comment, ms. @default 15000 */
  streamHeartbeatMs?: number;
  /**
   * Lifetime of an event-stream ticket from `POST <base>/session`, ms. A stream opened with a ticket ends when
   * the ticket expires (`event: end`); the dashboard then fetches a new ticket and reconnects. @default 60000
   */
  ticketTtlMs?: number;
  /**
   * Longest life of one event stream, ms, however it authenticated (a stream opened with the bearer token
   * has no other end): then it ends (`event: end`) and the client must authenticate again. @default 900000 (15 minutes)
   */
  streamMaxLifetimeMs?: number;
  /** Activity lines kept for the dashboard. @default 100 */
  maxActivity?: number;
  /** Time source. @default systemClock */
  clock?: Clock;
}

/**
 * A node:http handler (resolves `true` when it answered, `false` when the path is not its own), with the
 * API's state and a `close()` that ends the event streams and removes every listener on the components.
 */
export interface AdminApi {
  (req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** The current state, as `GET <base>/state` answers. */
  snapshot(): AdminSnapshot;
  /** Event-stream clients connected now. */
  readonly streamClients: number;
  /**
   * Replaces the accepted bearer tokens (rotation, revocation), validated as the `token` option is. A token
   * left out is refused from now on, and so is every ticket issued under it; every event stream opened with
   * it (or with such a ticket) ends at once (`event: end`, reason `revoked`). Tokens kept unchanged (same name
   * and secret) keep their tickets and streams.
   * @example
   * admin.setTokens([{ name: 'ops', token: newOpsToken }]); // the old token and its live dashboards are out
   */
  setTokens(token: string | readonly AdminToken[]): void;
  /** Ends every event stream and unsubscribes from the components. Idempotent. */
  close(): void;
}

const BREAKER_ACTIONS = ['reset', 'open', 'close', 'isolate'] as const;
type BreakerAction = (typeof BREAKER_ACTIONS)[number];

/**
 * The admin API of a service: reads the state of breakers, health, degradation, cache, chaos and experiments,
 * streams it live (server-sent events), serves the dashboard page, and takes actions: reset / open / close /
 * isolate a breaker, set (pin) or unpin a degradation level, start and stop an experiment, and the chaos routes
 * of {@link createChaosAdminHandler} under `<base>/chaos`.
 *
 * Safety: every route but the page needs the bearer token (constant-time compare); the event stream also
 * takes a short-lived signed ticket (`?ticket=` from `POST <base>/session`), because a browser's
 * EventSource cannot send headers, so the token itself never appears in a URL. A stream lasts no longer than
 * its credential: it ends (`event: end`) when its ticket expires, after `streamMaxLifetimeMs`, or when its
 * token is revoked with `setTokens`; the client then authenticates again. In a production environment
 * every action answers 403 unless `allowInProduction`. Every action is recorded in the store (who, what,
 * target, when) and in the recent activity. Bad input (malformed JSON, oversized bodies, unknown actions, a
 * wrong token) gets an `application/problem+json` error and changes nothing.
 *
 * Routes under `basePath`: `GET /` and `GET /dashboard` page · `POST /session` ticket · `GET /events` SSE ·
 * `GET /state` · `GET /breakers` · `GET /health` · `GET /degradation` · `GET /cache` · `GET /experiments` ·
 * `GET /audit` · `POST /breakers/:name/(reset|open|close|isolate)` · `POST /degradation { level, pin?, reason? }`
 * (level null unpins) · `POST /experiments/start { name, durationMs? }` · `POST /experiments/stop { id? }`
 * (no id: all) · `/chaos/...`.
 *
 * @example
 * // node:http
 * const admin = createAdminApi({ token: process.env.ADMIN_TOKEN!, components: { breakers, health, degradation }, store });
 * http.createServer(async (req, res) => { if (!(await admin(req, res))) app(req, res); });
 * // Express: before the routes
 * app.use((req, res, next) => { admin(req, res).then((done) => done || next(), next); });
 * // Fastify: hijack the admin paths in an onRequest hook (before Fastify reads the body)
 * fastify.addHook('onRequest', async (req, reply) => {
 *   if (req.url === '/admin' || req.url.startsWith('/admin/')) { reply.hijack(); await admin(req.raw, reply.raw); }
 * });
 * // On its own port: see startAdminServer. Call admin.close() on shutdown.
 */
export function createAdminApi(options: AdminApiOptions): AdminApi {
  const tokens = validate(options);
  const clock = options.clock ?? systemClock;
  const components = options.components ?? {};
  const store = options.store ?? new MemoryStore({ clock });
  const base = (options.basePath ?? '/admin').replace(/\/$/, '');
  const maxBody = options.maxBodyBytes ?? 16_384;
  const environment = options.environment ?? components.chaos?.control.environment ?? process.env.NODE_ENV ?? 'development';
  const production = (options.productionEnvironments ?? ['production', 'prod']).includes(environment);
  const actionsAllowed = !production || options.allowInProduction === true;
  const auth = new AdminAuth(tokens, clock, options.ticketTtlMs ?? 60_000);
  const runner = experimentRunnerOf(components);
  const page = renderDashboardPage(base);
  const limits = { maxBreakers: 200, maxExperiments: 10, maxActivity: 50 };

  const eventStream = new AdminEventStream(
    {
      clock,
      minIntervalMs: options.streamMinIntervalMs ?? 250,
      pollIntervalMs: options.streamPollIntervalMs ?? 2_000,
      heartbeatMs: options.streamHeartbeatMs ?? 15_000,
      maxClients: options.maxStreamClients ?? 16,
      maxBufferedBytes: 1_048_576,
      maxLifetimeMs: options.streamMaxLifetimeMs ?? 900_000,
      stamp: (json, now) => `{"at":${Math.round(now)},${json.slice(1)}`,
    },
    () => {
      const { at: _at, ...rest } = snapshot();
      return JSON.stringify(rest);
    },
  );
  const log = new AdminActivityLog(components, () => clock.now(), options.maxActivity ?? 100, () => eventStream.markDirty());
  const snapshot = (): AdminSnapshot => buildAdminSnapshot(components, log, { now: clock.now(), environment, actionsAllowed }, limits);

  // The chaos routes: authenticated here (named tokens), then handed to the chaos handler with its own key.
  const chaosKey = randomBytes(24).toString('base64url');
  const chaosHandler: ChaosAdminHandler | undefined =
    components.chaos === undefined
      ? undefined
      : createChaosAdminHandler({ registry: components.chaos, token: chaosKey, basePath: `${base}/chaos`, maxBodyBytes: maxBody, status: () => statusOf(snapshot()) });

  const audit = (who: string, action: string, target: string, req: IncomingMessage, data?: Record<string, unknown>): void => {
    store.recordAudit({ who, action, target, data: { ...data, remoteAddress: req.socket.remoteAddress ?? 'unknown' }, at: clock.now() });
    log.add({ at: clock.now(), source: 'admin', type: action, target, detail: `by ${who}` });
  };

  const json = (res: ServerResponse, status: number, body: unknown): void => sendReply(res, jsonReply(status, body, 'application/json', { 'cache-control': 'no-store' }));

  const read = async (path: string, method: string, res: ServerResponse): Promise<boolean> => {
    if (method !== 'GET' && method !== 'HEAD') return false;
    const s = snapshot();
    const parts: Record<string, unknown> = {
      '/state': s,
      '/breakers': s.breakers,
      '/health': s.health,
      '/degradation': s.degradation,
      '/cache': s.cache,
      '/experiments': s.experiments === null ? null : { ...s.experiments, chaos: s.chaos },
    };
    if (path === '/audit') {
      json(res, 200, await store.getAuditLog({ limit: 100 }));
      return true;
    }
    if (!(path in parts)) return false;
    const body = parts[path];
    if (body === null) throw new HttpError(404, 'Not Found', `This service does not expose ${path.slice(1)}`);
    json(res, 200, body);
    return true;
  };

  const act = async (path: string, req: IncomingMessage, res: ServerResponse, who: string): Promise<void> => {
    const breakerRoute = /^\/breakers\/([^/]+)\/([^/]+)$/.exec(path);
    if (breakerRoute !== null) {
      const name = decodePathSegment(breakerRoute[1] as string);
      const action = decodePathSegment(breakerRoute[2] as string);
      if (!(BREAKER_ACTIONS as readonly string[]).includes(action)) {
        throw new HttpError(404, 'Not Found', `Unknown breaker action "${action}" (known: ${BREAKER_ACTIONS.join(', ')})`);
      }
      guard();
      const breaker = components.breakers?.get(name);
      if (breaker === undefined) throw new HttpError(404, 'Not Found', `No breaker "${name}"`);
      const from = breaker.state;
      breaker[action as BreakerAction]();
      audit(who, `breaker.${action}`, name, req, { from, to: breaker.state });
      json(res, 200, { name, from, state: breaker.state });
      return;
    }
    if (path === '/degradation') {
      guard();
      const degradation = components.degradation;
      if (degradation === undefined) throw new HttpError(404, 'Not Found', 'This service does not expose degradation');
      const body = await readJsonObject(req, maxBody);
      const levels = degradation.getLevels();
      const check = new OptionsValidator('degradation request');
      if (body.level !== null && (typeof body.level !== 'string' || !levels.includes(body.level))) check.fail('level', `one of ${levels.join(', ')}, or null to unpin`, body.level);
      check.boolean('pin', body.pin);
      check.string('reason', body.reason);
      check.throwIfInvalid();
      const from = degradation.getCurrentState().level;
      const level = body.level as string | null;
      if (level === null) await degradation.setOverride(null);
      else if (body.pin === false) await degradation.degrade(level, typeof body.reason === 'string' ? body.reason : `admin: ${who}`, 'manual');
      else await degradation.setOverride(level);
      const state = degradation.getCurrentState();
      audit(who, level === null ? 'degradation.unpin' : 'degradation.set', level ?? 'override', req, { from, to: state.level, pin: level !== null && body.pin !== false });
      json(res, 200, { level: state.level, override: state.override });
      return;
    }
    if (path === '/experiments/start' || path === '/experiments/stop') {
      guard();
      if (runner === undefined) throw new HttpError(404, 'Not Found', 'This service does not expose experiments');
      const body = await readJsonObject(req, maxBody);
      const check = new OptionsValidator('experiment request');
      if (path === '/experiments/start') {
        if (typeof body.name !== 'string' || body.name === '') check.fail('name', 'an experiment name', body.name);
        check.duration('durationMs', body.durationMs, true);
        check.throwIfInvalid();
        const name = body.name as string;
        if (!runner.names().includes(name)) throw new HttpError(404, 'Not Found', `No experiment "${name}" (registered: ${runner.names().join(', ') || 'none'})`);
        let off: () => void = () => undefined;
        const started = new Promise<{ id: string }>((resolve) => {
          off = runner.on('started', ({ run }) => {
            if (run.name === name) resolve(run);
          });
        });
        const done = runner.run(name, typeof body.durationMs === 'number' ? { durationMs: body.durationMs } : {});
        // Once started, a run resolves whatever its outcome; a failure after the start still shows up.
        done.then(undefined, (error: unknown) => {
          log.add({ at: clock.now(), source: 'experiment', type: 'failed', target: name, detail: error instanceof Error ? error.message : String(error) });
        });
        let run: { id: string };
        try {
          run = await Promise.race([started, done]);
        } finally {
          off();
        }
        audit(who, 'experiment.start', name, req, { id: run.id });
        json(res, 202, { id: run.id, name, status: 'running' });
        return;
      }
      if (body.id !== undefined && (typeof body.id !== 'string' || body.id === '')) check.fail('id', 'a run id, or nothing to stop every run', body.id);
      check.throwIfInvalid();
      if (typeof body.id === 'string') {
        if (!runner.abort(body.id, `stopped by ${who}`)) throw new HttpError(404, 'Not Found', `No running experiment "${body.id}"`);
        audit(who, 'experiment.stop', body.id, req);
        json(res, 200, { stopped: 1 });
      } else {
        const stopped = runner.abortAll(`stopped by ${who}`);
        audit(who, 'experiment.stop-all', '*', req, { stopped });
        json(res, 200, { stopped });
      }
      return;
    }
    throw new HttpError(404, 'Not Found', `Unknown admin action POST ${base}${path}`);
  };

  const guard = (): void => {
    if (!actionsAllowed) {
      throw new HttpError(403, 'Forbidden', `Admin actions are disabled in the "${environment}" environment (set allowInProduction to enable them)`);
    }
  };

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    const pathname = url.pathname;
    if (pathname !== base && !pathname.startsWith(`${base}/`)) return false;
    const path = pathname.slice(base.length);
    const method = req.method ?? 'GET';
    try {
      if (path === '' || path === '/' || path === '/dashboard') {
        if (method !== 'GET' && method !== 'HEAD') throw HttpError.methodNotAllowed(method, path);
        res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'content-length': Buffer.byteLength(page),
          'content-security-policy': DASHBOARD_CSP,
          'x-content-type-options': 'nosniff',
          'referrer-policy': 'no-referrer',
          'cache-control': 'no-store',
        });
        res.end(method === 'HEAD' ? undefined : page);
        return true;
      }
      if (path === '/events') {
        if (method !== 'GET') throw HttpError.methodNotAllowed(method, path);
        const bearer = auth.identify(req.headers.authorization);
        const ticket = url.searchParams.get('ticket');
        const unauthorized = (): HttpError => HttpError.unauthorized('A valid bearer token or ticket (POST /session) is required');
        const credential = bearer ?? auth.verifyTicket(ticket, { consume: false });
        if (credential === undefined) throw unauthorized();
        // A full stream refuses before the ticket is spent, so the client may retry with the same ticket.
        if (eventStream.full) throw new HttpError(503, 'Service Unavailable', 'Too many event-stream clients', { retryAfterMs: 1_000 });
        if (bearer === undefined && auth.verifyTicket(ticket) === undefined) throw unauthorized();
        eventStream.accept(req, res, { expiresAt: credential.expiresAt, tokenId: credential.tokenId });
        return true;
      }
      const credential = auth.identify(req.headers.authorization);
      if (credential === undefined) {
        req.resume();
        throw HttpError.unauthorized('A valid bearer token is required');
      }
      const who = credential.who;
      if (path === '/chaos' || path.startsWith('/chaos/')) {
        if (chaosHandler === undefined) throw new HttpError(404, 'Not Found', 'This service does not expose chaos');
        const mutation = method !== 'GET' && method !== 'HEAD';
        if (mutation) guard();
        req.headers.authorization = `Bearer ${chaosKey}`;
        await chaosHandler(req, res);
        if (mutation && res.statusCode < 400) audit(who, `chaos.${method.toLowerCase()}`, path.slice('/chaos'.length) || '/', req);
        return true;
      }
      if (path === '/session') {
        if (method !== 'POST') throw HttpError.methodNotAllowed(method, path);
        req.resume();
        json(res, 200, auth.issueTicket(credential));
        return true;
      }
      if (await read(path, method, res)) return true;
      if (method !== 'POST') {
        if (/^\/(breakers|degradation|experiments)(\/|$)/.test(path)) throw HttpError.methodNotAllowed(method, path);
        throw new HttpError(404, 'Not Found', `No admin route ${method} ${pathname}`);
      }
      await act(path, req, res, who);
    } catch (error) {
      if (!isHttpError(error)) req.resume();
      sendAdminProblem(res, error, pathname);
    }
    return true;
  };

  const api = Object.assign(handler, {
    snapshot,
    setTokens(token: string | readonly AdminToken[]): void {
      auth.setTokens(tokensOf(token, new OptionsValidator('AdminApi.setTokens')));
      eventStream.endWhere((lease) => !auth.isCurrent(lease.tokenId), 'revoked');
    },
    close(): void {
      eventStream.close();
      log.close();
    },
  });
  Object.defineProperty(api, 'streamClients', { get: () => eventStream.size, enumerable: true });
  return api as AdminApi;
}

function statusOf(s: AdminSnapshot): Record<string, unknown> {
  const status: Record<string, unknown> = {};
  if (s.breakers !== null) status.breakers = Object.fromEntries(s.breakers.map((b) => [b.name, b.state]));
  if (s.degradation !== null) status.degradation = { level: s.degradation.level };
  if (s.health !== null) status.metrics = { health_score: s.health.score };
  return status;
}

function validate(options: AdminApiOptions): AdminToken[] {
  const v = new OptionsValidator('createAdminApi');
  if (typeof options !== 'object' || options === null) {
    v.fail('options', 'an object', options);
    v.throwIfInvalid();
  }
  const tokens = collectTokens(options.token, v);
  v.object('components', options.components);
  if (options.store !== undefined && typeof (options.store as Partial<Store>).recordAudit !== 'function') v.fail('store', 'a Store', options.store);
  v.string('environment', options.environment);
  if (options.productionEnvironments !== undefined && !Array.isArray(options.productionEnvironments)) v.fail('productionEnvironments', 'an array of strings', options.productionEnvironments);
  v.boolean('allowInProduction', options.allowInProduction);
  v.string('basePath', options.basePath);
  v.integer('maxBodyBytes', options.maxBodyBytes, 1);
  v.integer('maxStreamClients', options.maxStreamClients, 1);
  v.duration('streamMinIntervalMs', options.streamMinIntervalMs);
  v.duration('streamPollIntervalMs', options.streamPollIntervalMs, true);
  v.duration('streamHeartbeatMs', options.streamHeartbeatMs, true);
  v.duration('ticketTtlMs', options.ticketTtlMs, true);
  v.duration('streamMaxLifetimeMs', options.streamMaxLifetimeMs, true);
  v.integer('maxActivity', options.maxActivity, 1);
  v.clock('clock', options.clock);
  v.throwIfInvalid();
  return tokens;
}

/** The tokens of a `token` option, or the validator's error naming what is wrong with it. */
function tokensOf(token: unknown, v: OptionsValidator): AdminToken[] {
  const tokens = collectTokens(token, v);
  v.throwIfInvalid();
  return tokens;
}

function collectTokens(token: unknown, v: OptionsValidator): AdminToken[] {
  const tokens: AdminToken[] = [];
  const expected = 'a bearer token (a string of at least 16 characters) or a non-empty array of { name, token }';
  if (typeof token === 'string') {
    if (token.length < 16) v.fail('token', expected, '(a shorter string)');
    else tokens.push({ name: 'admin', token });
  } else if (Array.isArray(token) && token.length > 0) {
    (token as readonly unknown[]).forEach((entry, i) => {
      const t = entry as Partial<AdminToken> | null;
      if (typeof t !== 'object' || t === null) return v.fail(`token[${i}]`, 'an object { name, token }', entry);
      if (typeof t.name !== 'string' || t.name === '') v.fail(`token[${i}].name`, 'a non-empty string', t.name);
      if (typeof t.token !== 'string' || t.token.length < 16) v.fail(`token[${i}].token`, 'a string of at least 16 characters', typeof t.token === 'string' ? '(a shorter string)' : t.token);
      else if (typeof t.name === 'string') tokens.push({ name: t.name, token: t.token });
    });
  } else {
    v.fail('token', expected, token === undefined ? undefined : '(invalid)');
  }
  return tokens;
}

/** A path segment decoded, or a 400 for a malformed `%` escape (instead of a URIError's 500). */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw HttpError.invalid([{ path: 'path', expected: 'a well-formed percent-encoded segment', received: JSON.stringify(segment) }]);
  }
}
