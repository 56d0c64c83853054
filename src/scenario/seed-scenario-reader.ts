import { SCENARIO_DURATION_EXAMPLES } from './scenario-duration.js';
import { readDuration, readTolerance } from './scenario-value-readers.js';
import type { Tolerance } from './tolerance.js';
import type { YamlField, YamlReader } from './yaml-reader.js';

/** One `chaos:` entry of a seed scenario, checked. */
export type SeedChaosEntry =
  | { kind: 'traffic_spike'; multiplier: number }
  | { kind: 'service_failure'; service: string; rate: number; complete: boolean }
  | { kind: 'database_slowdown'; factor: number; service: string }
  | { kind: 'region_failure'; region: string }
  | { kind: 'cpu_stress'; percent: number }
  | { kind: 'memory_pressure'; percent: number };

/** A scenario of the seed's `scenarios:` list, checked but not yet mapped to phases. */
export interface SeedScenario {
  name: string;
  description?: string;
  /** `duration` as written (`"2 hours"`). */
  duration: string;
  durationMs: number;
  chaos: SeedChaosEntry[];
  /** `success_criteria`, each `name: "expression"`. */
  successCriteria: { name: string; expected: string; tolerance: Tolerance }[];
}

/** The `chaos:` kinds of the seed format. */
export const SEED_CHAOS_KINDS = ['traffic_spike', 'service_failure', 'database_slowdown', 'region_failure', 'cpu_stress', 'memory_pressure'] as const;

const SCENARIO_FIELDS = ['name', 'description', 'duration', 'chaos', 'success_criteria'];

/**
 * Reads the seed format (`scenarios:` list of `name`, `description`, `duration`, `chaos`, `success_criteria`)
 * from `root`, recording every problem in `reader.issues`. @internal
 */
export function readSeedScenarios(reader: YamlReader, root: YamlField): SeedScenario[] {
  const top = reader.map(root, '', ['scenarios'], 'a mapping with a scenarios list');
  if (top === undefined) return [];
  const items = reader.list(top.get('scenarios'), 'scenarios', 'a non-empty list of scenarios', true) ?? [];
  const scenarios: SeedScenario[] = [];
  const names = new Map<string, number>();
  items.forEach((item, i) => {
    const path = `scenarios[${i}]`;
    const fields = reader.map(item, path, SCENARIO_FIELDS, 'a scenario mapping with name, duration, chaos and success_criteria');
    if (fields === undefined) return;
    reader.require(fields, item, 'name', path, 'a non-empty string');
    reader.require(fields, item, 'duration', path, SCENARIO_DURATION_EXAMPLES);
    reader.require(fields, item, 'success_criteria', path, 'a non-empty list of criteria such as - availability: "> 99%"');
    const name = reader.string(fields.get('name'), `${path}.name`);
    if (name !== undefined) {
      const earlier = names.get(name);
      if (earlier !== undefined) reader.fail(fields.get('name')?.value, `${path}.name`, `a name not used by another scenario (scenarios[${earlier}] has it)`, JSON.stringify(name));
      else names.set(name, i);
    }
    const description = reader.string(fields.get('description'), `${path}.description`);
    const durationField = fields.get('duration');
    const durationMs = readDuration(reader, durationField, `${path}.duration`);
    const chaos = readChaos(reader, fields.get('chaos'), `${path}.chaos`);
    const successCriteria = readCriteria(reader, fields.get('success_criteria'), `${path}.success_criteria`);
    if (name === undefined || durationMs === undefined || chaos === undefined || successCriteria === undefined) return;
    scenarios.push({
      name,
      ...(description === undefined ? {} : { description }),
      duration: String(reader.scalar(durationField)),
      durationMs,
      chaos,
      successCriteria,
    });
  });
  return scenarios;
}

function readChaos(reader: YamlReader, field: YamlField | undefined, path: string): SeedChaosEntry[] | undefined {
  if (field === undefined) return [];
  const items = reader.list(field, path, 'a list of chaos entries such as - service_failure: { service: payment, rate: 0.3 }');
  if (items === undefined) return undefined;
  const out: SeedChaosEntry[] = [];
  let ok = true;
  items.forEach((item, i) => {
    const at = `${path}[${i}]`;
    const entry = reader.single(item, at, SEED_CHAOS_KINDS, `one chaos entry: ${SEED_CHAOS_KINDS.join(', ')}`);
    if (entry === undefined) {
      ok = false;
      return;
    }
    const parsed = readChaosEntry(reader, entry.name as SeedChaosEntry['kind'], entry.field, `${at}.${entry.name}`);
    if (parsed === undefined) ok = false;
    else out.push(parsed);
  });
  return ok ? out : undefined;
}

function readChaosEntry(reader: YamlReader, kind: SeedChaosEntry['kind'], field: YamlField, path: string): SeedChaosEntry | undefined {
  const issuesBefore = reader.issues.length;
  switch (kind) {
    case 'traffic_spike': {
      const f = reader.map(field, path, ['multiplier'], '{ multiplier: <number > 0> }');
      if (f === undefined || !reader.require(f, field, 'multiplier', path, 'a number > 0')) return undefined;
      const multiplier = reader.number(f.get('multiplier'), `${path}.multiplier`, { minExclusive: 0 });
      return multiplier === undefined ? undefined : { kind, multiplier };
    }
    case 'service_failure': {
      const f = reader.map(field, path, ['service', 'rate', 'complete'], '{ service: <name>, rate: <0..1> } or { service: <name>, complete: true }');
      if (f === undefined) return undefined;
      reader.require(f, field, 'service', path, 'a dependency name');
      const service = reader.string(f.get('service'), `${path}.service`, 'a dependency name');
      const rate = reader.number(f.get('rate'), `${path}.rate`, { min: 0, max: 1 });
      const complete = reader.boolean(f.get('complete'), `${path}.complete`);
      if (f.has('rate') && complete === true) reader.fail(f.get('complete')?.key, `${path}.complete`, 'either rate or complete: true, not both', 'both');
      else if (!f.has('rate') && !f.has('complete')) reader.fail(field.value ?? field.key, path, 'rate (0..1) or complete: true', 'neither');
      else if (!f.has('rate') && complete === false) reader.fail(f.get('complete')?.value, `${path}.complete`, 'true (or a rate instead)', 'false');
      if (service === undefined || reader.issues.length > issuesBefore) return undefined;
      return { kind, service, rate: complete === true ? 1 : (rate ?? 1), complete: complete === true };
    }
    case 'database_slowdown': {
      const f = reader.map(field, path, ['factor', 'service'], '{ factor: <number > 1> }');
      if (f === undefined || !reader.require(f, field, 'factor', path, 'a number > 0')) return undefined;
      const factor = reader.number(f.get('factor'), `${path}.factor`, { minExclusive: 0 });
      const service = f.has('service') ? reader.string(f.get('service'), `${path}.service`, 'a dependency name') : 'database';
      return factor === undefined || service === undefined ? undefined : { kind, factor, service };
    }
    case 'region_failure': {
      const f = reader.map(field, path, ['region'], '{ region: <name> }');
      if (f === undefined || !reader.require(f, field, 'region', path, 'a region name')) return undefined;
      const region = reader.string(f.get('region'), `${path}.region`, 'a region name');
      return region === undefined ? undefined : { kind, region };
    }
    case 'cpu_stress':
    case 'memory_pressure': {
      const f = reader.map(field, path, ['percent'], '{ percent: <1..100> }');
      if (f === undefined || !reader.require(f, field, 'percent', path, 'a number in 1..100')) return undefined;
      const percent = reader.number(f.get('percent'), `${path}.percent`, { minExclusive: 0, max: 100 }, 'a number in 1..100');
      return percent === undefined ? undefined : { kind, percent };
    }
  }
}

function readCriteria(reader: YamlReader, field: YamlField | undefined, path: string): SeedScenario['successCriteria'] | undefined {
  if (field === undefined) return undefined;
  const items = reader.list(field, path, 'a non-empty list of criteria such as - availability: "> 99%"', true);
  if (items === undefined) return undefined;
  const out: SeedScenario['successCriteria'] = [];
  let ok = true;
  items.forEach((item, i) => {
    const at = `${path}[${i}]`;
    const names = reader.isMap(item) ? keysOf(reader, item) : [];
    const entry = reader.single(item, at, names, 'one criterion such as availability: "> 99%"');
    if (entry === undefined) {
      ok = false;
      return;
    }
    if (!/^[A-Za-z_][\w.-]*$/.test(entry.name)) {
      reader.fail(entry.field.key, at, 'a metric name (letters, digits, _ . -)', JSON.stringify(entry.name));
      ok = false;
      return;
    }
    const tolerance = readTolerance(reader, entry.field, `${at}.${entry.name}`);
    if (tolerance === undefined) {
      ok = false;
      return;
    }
    out.push({ name: entry.name, expected: tolerance.text, tolerance });
  });
  return ok ? out : undefined;
}

/** The string keys of a mapping (any name is a valid criterion name). */
function keysOf(reader: YamlReader, field: YamlField): string[] {
  const js = reader.js(field);
  return typeof js === 'object' && js !== null ? Object.keys(js) : [];
}
