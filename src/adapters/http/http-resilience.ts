import { OptionsValidator } from '../../core/options.js';
import { DegradationGate } from './degradation-gate.js';
import { HealthEndpoints } from './health-endpoints.js';
import type { HttpReply } from './http-reply.js';
import type { ErrorMappingOptions } from './problem-details.js';
import { problemFromError, validateErrorMappingOptions } from './problem-details.js';
import { DEFAULT_REQUEST_ID_HEADER, resolveRequestId } from './request-id.js';

/** Options of {@link HttpResilience}. */
export interface HttpResilienceOptions {
  /** How errors become answers (problem+json or the seed's ErrorResponse). @default {} */
  errors?: ErrorMappingOptions;
  /** Header carrying the request id (incoming and outgoing). @default 'x-request-id' */
  requestIdHeader?: string;
  /** Makes a request id when the request has no usable one. @default crypto.randomUUID */
  generateRequestId?: () => string;
  /** Degradation headers and refusals; absent: no degradation behaviour. */
  degradation?: DegradationGate;
  /** Health endpoints, answered before the degradation gate; absent: no health paths. */
  health?: HealthEndpoints;
  /** Largest JSON body the node:http glue reads, in bytes (integer >= 1). @default 1_048_576 */
  maxBodyBytes?: number;
}

/** What {@link HttpResilience.begin} decided about a request. */
export interface RequestStart {
  requestId: string;
  /** Headers to set on whatever answer the request gets (request id, degradation). */
  headers: Record<string, string>;
  /** A complete answer (health probe, degradation refusal); when set, the application handler must not run. */
  reply: HttpReply | undefined;
}

const REQUEST_ID = Symbol.for('antifragile.http.requestId');

/** The request id stored on a request (node:http / Express request, Fastify `request.raw`) by the glue, if any. */
export function requestIdOf(req: object): string | undefined {
  return (req as Record<symbol, string | undefined>)[REQUEST_ID];
}

/** Stores the request id on a request object. @internal */
export function storeRequestId(req: object, id: string): void {
  (req as Record<symbol, string>)[REQUEST_ID] = id;
}

/**
 * The framework-neutral core shared by the node:http, Express and Fastify glue: resolves the request id,
 * answers health probes, applies the degradation gate, and maps errors to problem+json (or seed) answers.
 */
export class HttpResilience {
  /** Lower-case request id header name. */
  readonly requestIdHeader: string;
  /** Largest JSON body read by the node:http glue, in bytes. */
  readonly maxBodyBytes: number;
  private readonly options: HttpResilienceOptions;

  constructor(options: HttpResilienceOptions = {}) {
    const v = new OptionsValidator('HttpResilience');
    if (typeof options !== 'object' || options === null) {
      v.fail('options', 'an object', options);
      v.throwIfInvalid();
    }
    validateErrorMappingOptions(v, 'errors', options.errors);
    v.string('requestIdHeader', options.requestIdHeader);
    if (typeof options.requestIdHeader === 'string' && !/^[A-Za-z0-9-]+$/.test(options.requestIdHeader)) v.fail('requestIdHeader', 'a header name', options.requestIdHeader);
    v.func('generateRequestId', options.generateRequestId);
    if (options.degradation !== undefined && !(options.degradation instanceof DegradationGate)) v.fail('degradation', 'a DegradationGate', options.degradation);
    if (options.health !== undefined && !(options.health instanceof HealthEndpoints)) v.fail('health', 'a HealthEndpoints', options.health);
    v.integer('maxBodyBytes', options.maxBodyBytes, 1);
    v.throwIfInvalid();
    this.options = options;
    this.requestIdHeader = (options.requestIdHeader ?? DEFAULT_REQUEST_ID_HEADER).toLowerCase();
    this.maxBodyBytes = options.maxBodyBytes ?? 1_048_576;
  }

  /**
   * Starts handling a request.
   * @param method HTTP method.
   * @param url the request URL or path (a query string is ignored).
   * @param incomingId the incoming request id header value.
   */
  begin(method: string, url: string, incomingId: string | readonly string[] | undefined): RequestStart {
    const requestId = this.options.generateRequestId !== undefined ? resolveRequestId(incomingId, this.options.generateRequestId) : resolveRequestId(incomingId);
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const headers: Record<string, string> = { [this.requestIdHeader]: requestId };
    let reply: HttpReply | undefined;
    const gate = this.options.degradation;
    if (gate !== undefined) {
      const decision = gate.check(method, path);
      Object.assign(headers, decision.headers);
      const health = method === 'GET' || method === 'HEAD' ? this.options.health?.respond(path) : undefined;
      if (health !== undefined) reply = health;
      else if (decision.refusal !== undefined) reply = this.errorReply(decision.refusal, requestId, path);
    } else if (method === 'GET' || method === 'HEAD') {
      reply = this.options.health?.respond(path);
    }
    return { requestId, headers, reply };
  }

  /** The answer to an error raised while handling a request. */
  errorReply(error: unknown, requestId: string | undefined, path: string | undefined): HttpReply {
    const context: { requestId?: string; requestIdHeader: string; instance?: string } = { requestIdHeader: this.requestIdHeader };
    if (requestId !== undefined) context.requestId = requestId;
    if (path !== undefined) context.instance = path;
    return problemFromError(error, this.options.errors ?? {}, context);
  }
}
