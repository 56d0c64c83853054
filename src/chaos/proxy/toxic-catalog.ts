import type { OptionsValidator } from '../../core/options.js';
import type { Toxic, ToxicAttributesByType, ToxicType } from './toxic.js';
import type { ToxicDefinition } from './toxic-definition.js';
import type { ToxicContext, ToxicStage, ToxicStream } from './toxic-stage.js';
import { bandwidthToxic } from './toxics/bandwidth.js';
import { latencyToxic } from './toxics/latency.js';
import { limitDataToxic } from './toxics/limit-data.js';
import { packetLossToxic } from './toxics/packet-loss.js';
import { pgResetToxic } from './toxics/pg-reset.js';
import { redisErrorToxic } from './toxics/redis-error.js';
import { resetPeerToxic } from './toxics/reset-peer.js';
import { slicerToxic } from './toxics/slicer.js';
import { slowCloseToxic } from './toxics/slow-close.js';
import { timeoutToxic } from './toxics/timeout.js';

/** Every built-in toxic type by name: toxiproxy's seven, `packet_loss`, and the protocol-aware two. */
export const builtInToxics: { readonly [K in ToxicType]: ToxicDefinition<ToxicAttributesByType[K]> } = {
  latency: latencyToxic,
  bandwidth: bandwidthToxic,
  slow_close: slowCloseToxic,
  timeout: timeoutToxic,
  reset_peer: resetPeerToxic,
  slicer: slicerToxic,
  limit_data: limitDataToxic,
  packet_loss: packetLossToxic,
  redis_error: redisErrorToxic,
  pg_reset: pgResetToxic,
};

const TYPES = Object.keys(builtInToxics) as ToxicType[];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function join(path: string, field: string): string {
  return path === '' ? field : `${path}.${field}`;
}

function definitionOf(type: ToxicType): ToxicDefinition<object> {
  return builtInToxics[type] as unknown as ToxicDefinition<object>;
}

/**
 * Validates attributes of `definition`: every known one checked, defaults applied, unknown ones refused.
 * Returns the full attribute set, or undefined after reporting problems to `v`.
 */
function normalizeAttributes(
  definition: ToxicDefinition<object>,
  raw: unknown,
  v: OptionsValidator,
  path: string,
): Record<string, unknown> | undefined {
  if (raw !== undefined && !isObject(raw)) {
    v.fail(path, 'an object', raw);
    return undefined;
  }
  const given = raw ?? {};
  const schema = definition.attributes as Record<string, { default?: unknown; check: (value: unknown) => string | undefined }>;
  const known = Object.keys(schema);
  let ok = true;
  for (const key of Object.keys(given)) {
    if (!(key in schema)) {
      v.fail(join(path, key), `one of the ${definition.type} attributes (${known.join(', ')})`, given[key]);
      ok = false;
    }
  }
  const result: Record<string, unknown> = {};
  for (const key of known) {
    const spec = schema[key] as { default?: unknown; check: (value: unknown) => string | undefined };
    const value = given[key] ?? spec.default;
    if (value === undefined) {
      v.fail(join(path, key), `${spec.check(undefined) ?? 'a value'} (required)`, undefined);
      ok = false;
      continue;
    }
    const expected = spec.check(value);
    if (expected !== undefined) {
      v.fail(join(path, key), expected, value);
      ok = false;
      continue;
    }
    result[key] = value;
  }
  if (!ok) return undefined;
  for (const [key, expected] of definition.crossCheck?.(result) ?? []) {
    v.fail(join(path, key), expected, result[key]);
    ok = false;
  }
  return ok ? result : undefined;
}

function freeze(toxic: { name: string; type: ToxicType; stream: string; toxicity: number; attributes: Record<string, unknown> }): Toxic {
  Object.freeze(toxic.attributes);
  return Object.freeze(toxic) as unknown as Toxic;
}

/**
 * Validates a toxic in toxiproxy's JSON shape (`{ name?, type, stream?, toxicity?, attributes? }`) and returns
 * it complete and frozen, or undefined after reporting every problem to `v` under `path`.
 * @internal
 */
export function parseToxic(input: unknown, v: OptionsValidator, path: string): Toxic | undefined {
  if (!isObject(input)) {
    v.fail(path === '' ? 'toxic' : path, 'an object', input);
    return undefined;
  }
  let ok = true;
  for (const key of Object.keys(input)) {
    if (!['name', 'type', 'stream', 'toxicity', 'attributes'].includes(key)) {
      v.fail(join(path, key), 'one of the toxic fields (name, type, stream, toxicity, attributes)', input[key]);
      ok = false;
    }
  }
  const { name, type, stream, toxicity, attributes } = input;
  if (typeof type !== 'string' || !(TYPES as string[]).includes(type)) {
    v.fail(join(path, 'type'), `one of ${TYPES.map((t) => JSON.stringify(t)).join(', ')}`, type);
    return undefined;
  }
  const definition = definitionOf(type as ToxicType);
  if (stream !== undefined && !(definition.streams as readonly unknown[]).includes(stream)) {
    v.fail(join(path, 'stream'), `one of ${definition.streams.map((s) => JSON.stringify(s)).join(', ')}`, stream);
    ok = false;
  }
  if (toxicity !== undefined && !(typeof toxicity === 'number' && toxicity >= 0 && toxicity <= 1)) {
    v.fail(join(path, 'toxicity'), 'a number in 0..1', toxicity);
    ok = false;
  }
  if (name !== undefined && !(typeof name === 'string' && name.length > 0)) {
    v.fail(join(path, 'name'), 'a non-empty string', name);
    ok = false;
  }
  const normalized = normalizeAttributes(definition, attributes, v, join(path, 'attributes'));
  if (!ok || normalized === undefined) return undefined;
  const resolvedStream = (stream as ToxicStream | undefined) ?? (definition.streams[0] as ToxicStream);
  return freeze({
    name: (name as string | undefined) ?? `${type}_${resolvedStream}`,
    type: type as ToxicType,
    stream: resolvedStream,
    toxicity: (toxicity as number | undefined) ?? 1,
    attributes: normalized,
  });
}

/**
 * Applies a change (`{ toxicity?, attributes? }`, attributes merged over the current ones) to `toxic`. Fields
 * `name`, `type` and `stream` may be present (toxiproxy clients send the whole toxic) but not differ.
 * Returns the new toxic, or undefined after reporting problems to `v`.
 * @internal
 */
export function patchToxic(toxic: Toxic, input: unknown, v: OptionsValidator, path: string): Toxic | undefined {
  if (!isObject(input)) {
    v.fail(path === '' ? 'toxic' : path, 'an object', input);
    return undefined;
  }
  let ok = true;
  for (const key of Object.keys(input)) {
    if (key === 'toxicity' || key === 'attributes') continue;
    if (key === 'name' || key === 'type' || key === 'stream') {
      if (input[key] !== toxic[key]) {
        v.fail(join(path, key), `${JSON.stringify(toxic[key])} (it cannot change)`, input[key]);
        ok = false;
      }
      continue;
    }
    v.fail(join(path, key), 'one of the toxic fields (toxicity, attributes)', input[key]);
    ok = false;
  }
  const { toxicity, attributes } = input;
  if (toxicity !== undefined && !(typeof toxicity === 'number' && toxicity >= 0 && toxicity <= 1)) {
    v.fail(join(path, 'toxicity'), 'a number in 0..1', toxicity);
    ok = false;
  }
  if (attributes !== undefined && !isObject(attributes)) {
    v.fail(join(path, 'attributes'), 'an object', attributes);
    return undefined;
  }
  const merged = { ...(toxic.attributes as Record<string, unknown>), ...(attributes ?? {}) };
  const normalized = normalizeAttributes(definitionOf(toxic.type), merged, v, join(path, 'attributes'));
  if (!ok || normalized === undefined) return undefined;
  return freeze({
    name: toxic.name,
    type: toxic.type,
    stream: toxic.stream,
    toxicity: (toxicity as number | undefined) ?? toxic.toxicity,
    attributes: normalized,
  });
}

/** Starts `toxic` on one direction of a connection. @internal */
export function createToxicStage(toxic: Toxic, context: ToxicContext): ToxicStage<unknown> {
  return definitionOf(toxic.type).createStage(toxic.attributes, context) as ToxicStage<unknown>;
}
