import { parseFaultSpec } from '../chaos/fault-spec.js';
import { InvalidOptionsError } from '../core/options.js';
import { parseJsonPath, type JsonPath } from './json-path.js';
import {
  LOAD_METRIC_NAMES,
  type HaltCondition,
  type JsonFaultSpec,
  type LoadRequestSpec,
  type Measure,
  type ProxyToxicSpec,
  type SampleSelection,
  type Scenario,
  type ScenarioCriterion,
  type ScenarioFault,
  type ScenarioPhase,
  type SteadyStateProbe,
} from './scenario.js';
import { readDuration, readTolerance } from './scenario-value-readers.js';
import type { Tolerance } from './tolerance.js';
import { closest, renderValue, type YamlField, type YamlReader } from './yaml-reader.js';

/** Default request rate of a native scenario without `load.rate`, requests per second. */
export const NATIVE_DEFAULT_RATE = 10;
/** Default request time budget, ms. */
export const NATIVE_DEFAULT_TIMEOUT_MS = 5_000;

const TOP_FIELDS = ['name', 'description', 'target', 'load', 'steadyState', 'phases', 'halt', 'criteria'];
const TARGET_FIELDS = ['url', 'adminPath', 'proxyApi'];
const LOAD_FIELDS = ['rate', 'timeout', 'mix'];
const MIX_FIELDS = ['name', 'method', 'path', 'weight', 'headers', 'body', 'expect'];
const PROBE_FIELDS = ['name', 'http', 'jsonPath', 'metric', 'expect'];
const HTTP_FIELDS = ['path', 'method', 'timeout'];
const PHASE_FIELDS = ['name', 'duration', 'rate', 'multiplier', 'faults'];
const FAULT_FIELDS = ['name', 'dependency', 'fault', 'resource', 'proxy', 'toxic'];
const TOXIC_FIELDS = ['type', 'stream', 'toxicity', 'attributes'];
const HALT_FIELDS = ['name', 'metric', 'percentile', 'of', 'jsonPath', 'window', 'when', 'minRequests', 'phase'];
const CRITERION_FIELDS = ['name', 'metric', 'percentile', 'of', 'jsonPath', 'samples', 'phase', 'expect'];
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const SAMPLES: readonly SampleSelection[] = ['last', 'any', 'all'];
const METRIC_NAME = /^[A-Za-z_][\w.-]*$/;
/** Latency percentiles the load generator records (100 = the maximum). */
const LATENCY_PERCENTILES: readonly number[] = [50, 95, 99, 100];
/** Latency percentiles of the live window a halt condition reads. */
const HALT_LATENCY_PERCENTILES: readonly number[] = [50, 95, 99];

/**
 * Reads the native scenario format (see `test/fixtures/scenarios/native-example.yaml` for a commented
 * example): `name`, `description`, `target`, `load { rate, timeout, mix }`, `steadyState` probes, `phases`
 * with their faults, `halt` conditions and `criteria` with typed tolerances. Records every problem in
 * `reader.issues`; returns undefined when the document could not be read at all. @internal
 */
export function readNativeScenario(reader: YamlReader, root: YamlField, file?: string): Scenario | undefined {
  const top = reader.map(root, '', TOP_FIELDS, 'a scenario mapping (name, load, phases, criteria...) or a seed file with a scenarios list');
  if (top === undefined) return undefined;
  reader.require(top, root, 'name', '', 'a non-empty string');
  reader.require(top, root, 'phases', '', 'a non-empty list of phases');
  const name = reader.string(top.get('name'), 'name');
  const description = reader.string(top.get('description'), 'description');
  const target = readTarget(reader, top.get('target'));
  const load = readLoad(reader, top.get('load'));
  const steadyState = (reader.list(top.get('steadyState'), 'steadyState', 'a list of probes') ?? []).map((item, i) => readProbe(reader, item, `steadyState[${i}]`));
  const { phases, names: phaseNames } = readPhases(reader, top.get('phases'));
  const halts = (reader.list(top.get('halt'), 'halt', 'a list of halt conditions') ?? []).map((item, i) => readHalt(reader, item, `halt[${i}]`, phaseNames));
  const criteria = (reader.list(top.get('criteria'), 'criteria', 'a list of criteria') ?? []).map((item, i) =>
    readCriterion(reader, item, `criteria[${i}]`, phaseNames),
  );
  if (name === undefined) return undefined;
  return {
    name,
    ...(description === undefined ? {} : { description }),
    format: 'native',
    ...(file === undefined ? {} : { file }),
    target,
    load,
    steadyState: steadyState.filter((p): p is SteadyStateProbe => p !== undefined),
    phases,
    halts: halts.filter((h): h is HaltCondition => h !== undefined),
    criteria: criteria.filter((c): c is ScenarioCriterion => c !== undefined),
  };
}

function readTarget(reader: YamlReader, field: YamlField | undefined): Scenario['target'] {
  const fields = reader.map(field, 'target', TARGET_FIELDS, 'a mapping with url, adminPath, proxyApi');
  if (fields === undefined) return {};
  const url = readUrl(reader, fields.get('url'), 'target.url');
  const adminPath = reader.string(fields.get('adminPath'), 'target.adminPath', 'a path starting with /');
  if (adminPath !== undefined && !adminPath.startsWith('/')) reader.fail(fields.get('adminPath')?.value, 'target.adminPath', 'a path starting with /');
  const proxyApi = readUrl(reader, fields.get('proxyApi'), 'target.proxyApi');
  return { ...(url === undefined ? {} : { url }), ...(adminPath === undefined ? {} : { adminPath }), ...(proxyApi === undefined ? {} : { proxyApi }) };
}

function readUrl(reader: YamlReader, field: YamlField | undefined, path: string): string | undefined {
  const text = reader.string(field, path, 'an http(s) URL');
  if (text === undefined) return undefined;
  if (!URL.canParse(text) || !/^https?:$/.test(new URL(text).protocol)) {
    reader.fail(field?.value, path, 'an http(s) URL');
    return undefined;
  }
  return text;
}

function readLoad(reader: YamlReader, field: YamlField | undefined): Scenario['load'] {
  const fields = reader.map(field, 'load', LOAD_FIELDS, 'a mapping with rate, timeout, mix');
  const rate = reader.number(fields?.get('rate'), 'load.rate', { minExclusive: 0 }) ?? NATIVE_DEFAULT_RATE;
  const timeoutMs = readDuration(reader, fields?.get('timeout'), 'load.timeout') ?? NATIVE_DEFAULT_TIMEOUT_MS;
  const mix: LoadRequestSpec[] = [];
  const names = new Set<string>();
  (reader.list(fields?.get('mix'), 'load.mix', 'a non-empty list of requests', true) ?? []).forEach((item, i) => {
    const path = `load.mix[${i}]`;
    const f = reader.map(item, path, MIX_FIELDS, 'a request mapping with path, method, weight, expect');
    if (f === undefined) return;
    reader.require(f, item, 'path', path, 'a path such as /quote');
    const requestPath = reader.string(f.get('path'), `${path}.path`, 'a path such as /quote');
    const methodText = reader.string(f.get('method'), `${path}.method`, `one of ${METHODS.join(', ')}`);
    const method = methodText?.toUpperCase() ?? 'GET';
    if (methodText !== undefined && !METHODS.includes(method)) reader.fail(f.get('method')?.value, `${path}.method`, `one of ${METHODS.join(', ')}`);
    const weight = reader.number(f.get('weight'), `${path}.weight`, { minExclusive: 0 }) ?? 1;
    const headers = readHeaders(reader, f.get('headers'), `${path}.headers`);
    const okStatuses = readStatuses(reader, f.get('expect'), `${path}.expect`);
    const name = reader.string(f.get('name'), `${path}.name`) ?? `${method} ${requestPath ?? ''}`;
    if (names.has(name)) reader.fail(f.get('name')?.value ?? item.key, `${path}.name`, 'a name not used by another request of the mix', JSON.stringify(name));
    names.add(name);
    if (requestPath === undefined) return;
    mix.push({
      name,
      method,
      path: requestPath,
      weight,
      headers,
      ...(f.has('body') ? { body: reader.js(f.get('body')) } : {}),
      ...(okStatuses === undefined ? {} : { okStatuses }),
    });
  });
  return { rate, timeoutMs, mix };
}

function readHeaders(reader: YamlReader, field: YamlField | undefined, path: string): Record<string, string> {
  if (field === undefined) return {};
  const value = reader.js(field);
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    reader.fail(field.value ?? field.key, path, 'a mapping of header names to strings');
    return {};
  }
  return value as Record<string, string>;
}

function readStatuses(reader: YamlReader, field: YamlField | undefined, path: string): number[] | undefined {
  if (field === undefined) return undefined;
  const value = reader.js(field);
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || list.some((s) => typeof s !== 'number' || !Number.isInteger(s) || s < 100 || s > 599)) {
    reader.fail(field.value ?? field.key, path, 'an HTTP status or a list of them (100..599)');
    return undefined;
  }
  return list as number[];
}

function readProbe(reader: YamlReader, item: YamlField, path: string): SteadyStateProbe | undefined {
  const f = reader.map(item, path, PROBE_FIELDS, 'a probe mapping with name, one of http / jsonPath / metric, and expect');
  if (f === undefined) return undefined;
  reader.require(f, item, 'name', path, 'a non-empty string');
  const name = reader.string(f.get('name'), `${path}.name`);
  const sources = ['http', 'jsonPath', 'metric'].filter((k) => f.has(k));
  if (sources.length !== 1) {
    reader.fail(item.value, path, 'exactly one of http, jsonPath, metric', sources.length === 0 ? 'none' : sources.join(' and '));
    return undefined;
  }
  let measure: SteadyStateProbe['measure'] | undefined;
  if (f.has('http')) {
    const h = reader.map(f.get('http'), `${path}.http`, HTTP_FIELDS, 'a mapping with path, method, timeout');
    if (h !== undefined) {
      const httpPath = reader.string(h.get('path'), `${path}.http.path`, 'a path such as /health') ?? '';
      const method = (reader.string(h.get('method'), `${path}.http.method`) ?? 'GET').toUpperCase();
      if (!METHODS.includes(method)) reader.fail(h.get('method')?.value, `${path}.http.method`, `one of ${METHODS.join(', ')}`);
      const timeoutMs = readDuration(reader, h.get('timeout'), `${path}.http.timeout`) ?? NATIVE_DEFAULT_TIMEOUT_MS;
      measure = { kind: 'http', method, path: httpPath, timeoutMs };
    }
  } else if (f.has('jsonPath')) {
    const jsonPath = readJsonPathField(reader, f.get('jsonPath'), `${path}.jsonPath`);
    if (jsonPath !== undefined) measure = { kind: 'status', path: jsonPath };
  } else {
    const metric = readMetricName(reader, f.get('metric'), `${path}.metric`);
    if (metric !== undefined) {
      if ((LOAD_METRIC_NAMES as readonly string[]).includes(metric)) {
        reader.fail(f.get('metric')?.value, `${path}.metric`, 'a metric the target reports (load metrics do not exist before or after the run)', JSON.stringify(metric));
      } else measure = { kind: 'metric', name: metric };
    }
  }
  let tolerance: Tolerance | undefined = readTolerance(reader, f.get('expect'), `${path}.expect`);
  if (tolerance === undefined && !f.has('expect')) {
    if (f.has('http')) tolerance = { kind: 'range', min: 200, max: 399, text: '2xx or 3xx' };
    else reader.require(f, item, 'expect', path, 'a tolerance');
  }
  if (name === undefined || measure === undefined || tolerance === undefined) return undefined;
  return { name, measure, tolerance };
}

/** The phases read, and the names of every phase (also of those with other problems, so references to them are not reported too). */
function readPhases(reader: YamlReader, field: YamlField | undefined): { phases: ScenarioPhase[]; names: ReadonlySet<string> } {
  const phases: ScenarioPhase[] = [];
  const names = new Set<string>();
  (reader.list(field, 'phases', 'a non-empty list of phases', true) ?? []).forEach((item, i) => {
    const path = `phases[${i}]`;
    const f = reader.map(item, path, PHASE_FIELDS, 'a phase mapping with name, duration, rate or multiplier, faults');
    if (f === undefined) return;
    reader.require(f, item, 'name', path, 'a non-empty string');
    reader.require(f, item, 'duration', path, 'a duration such as "30s"');
    const name = reader.string(f.get('name'), `${path}.name`);
    if (name !== undefined) {
      if (names.has(name)) reader.fail(f.get('name')?.value, `${path}.name`, 'a name not used by another phase', JSON.stringify(name));
      else if (name.includes(',')) reader.fail(f.get('name')?.value, `${path}.name`, 'a name without commas (--phase takes a comma list)', JSON.stringify(name));
      names.add(name);
    }
    const durationMs = readDuration(reader, f.get('duration'), `${path}.duration`);
    const rate = reader.number(f.get('rate'), `${path}.rate`, { min: 0 });
    const multiplier = reader.number(f.get('multiplier'), `${path}.multiplier`, { min: 0 });
    if (f.has('rate') && f.has('multiplier')) reader.fail(f.get('multiplier')?.key, `${path}.multiplier`, 'either rate or multiplier, not both', 'both');
    const faults = readFaults(reader, f.get('faults'), `${path}.faults`);
    if (name === undefined || durationMs === undefined) return;
    phases.push({
      name,
      durationMs,
      ...(rate === undefined ? {} : { rate }),
      ...(multiplier === undefined ? {} : { multiplier }),
      faults,
    });
  });
  return { phases, names };
}

function readFaults(reader: YamlReader, field: YamlField | undefined, path: string): ScenarioFault[] {
  const faults: ScenarioFault[] = [];
  const names = new Set<string>();
  (reader.list(field, path, 'a list of faults') ?? []).forEach((item, i) => {
    const at = `${path}[${i}]`;
    const f = reader.map(item, at, FAULT_FIELDS, 'a fault: { dependency, fault }, { resource } or { proxy, toxic }');
    if (f === undefined) return;
    const kinds = ['dependency', 'resource', 'proxy'].filter((k) => f.has(k));
    if (kinds.length !== 1) {
      reader.fail(item.value, at, 'exactly one of dependency (with fault), resource, proxy (with toxic)', kinds.length === 0 ? 'none' : kinds.join(' and '));
      return;
    }
    const explicitName = reader.string(f.get('name'), `${at}.name`);
    let fault: ScenarioFault | undefined;
    if (kinds[0] === 'dependency') {
      for (const extra of ['toxic']) if (f.has(extra)) reader.fail(f.get(extra)?.key, `${at}.${extra}`, 'no toxic on a dependency fault (toxics go with proxy)', 'a toxic');
      reader.require(f, item, 'fault', at, 'a fault spec such as { kind: error, rate: 0.5 }');
      const dependency = reader.string(f.get('dependency'), `${at}.dependency`, 'a dependency name');
      const spec = readFaultSpec(reader, f.get('fault'), `${at}.fault`);
      if (dependency !== undefined && spec !== undefined) fault = { type: 'dependency', name: explicitName ?? `${spec.kind}(${dependency})`, dependency, fault: spec };
    } else if (kinds[0] === 'resource') {
      for (const extra of ['fault', 'toxic']) if (f.has(extra)) reader.fail(f.get(extra)?.key, `${at}.${extra}`, `no ${extra} on a resource fault`, `a ${extra}`);
      const resource = reader.js(f.get('resource'));
      if (typeof resource !== 'object' || resource === null || Array.isArray(resource) || typeof (resource as { kind?: unknown }).kind !== 'string') {
        const received = typeof resource === 'object' && resource !== null && !Array.isArray(resource) ? 'a mapping without a kind' : undefined;
        reader.fail(f.get('resource')?.value ?? item.key, `${at}.resource`, 'a mapping with a kind, e.g. { kind: cpu, percent: 80 }', received);
      } else {
        const spec = resource as { kind: string } & Record<string, unknown>;
        fault = { type: 'resource', name: explicitName ?? `${spec.kind}-resource`, resource: spec };
      }
    } else {
      if (f.has('fault')) reader.fail(f.get('fault')?.key, `${at}.fault`, 'no fault on a proxy fault (use toxic)', 'a fault');
      reader.require(f, item, 'toxic', at, 'a toxic such as { type: latency, attributes: { latency: 500 } }');
      const proxy = reader.string(f.get('proxy'), `${at}.proxy`, 'a proxy name');
      const toxic = readToxic(reader, f.get('toxic'), `${at}.toxic`);
      if (proxy !== undefined && toxic !== undefined) fault = { type: 'proxy', name: explicitName ?? `${toxic.type}(${proxy})`, proxy, toxic };
    }
    if (fault === undefined) return;
    if (names.has(fault.name)) {
      reader.fail(f.get('name')?.value ?? item.value, `${at}.name`, 'a fault name not used by another fault of the phase', JSON.stringify(fault.name));
      return;
    }
    names.add(fault.name);
    faults.push(fault);
  });
  return faults;
}

function readFaultSpec(reader: YamlReader, field: YamlField | undefined, path: string): JsonFaultSpec | undefined {
  if (field === undefined) return undefined;
  try {
    return parseFaultSpec(reader.js(field), path) as JsonFaultSpec;
  } catch (error) {
    if (!(error instanceof InvalidOptionsError)) throw error;
    for (const issue of error.issues) {
      const segments = issue.path === path ? [] : issue.path.slice(path.length + 1).split('.');
      reader.fail(reader.nodeAt(field, segments), issue.path, issue.expected, issue.received === 'undefined' ? 'nothing' : issue.received);
    }
    return undefined;
  }
}

function readToxic(reader: YamlReader, field: YamlField | undefined, path: string): ProxyToxicSpec | undefined {
  const f = reader.map(field, path, TOXIC_FIELDS, 'a toxic mapping with type, stream, toxicity, attributes');
  if (f === undefined || field === undefined) return undefined;
  reader.require(f, field, 'type', path, 'a toxic type such as latency, timeout, bandwidth, reset_peer');
  const type = reader.string(f.get('type'), `${path}.type`, 'a toxic type such as latency, timeout, bandwidth, reset_peer');
  const streamText = reader.string(f.get('stream'), `${path}.stream`, 'upstream or downstream');
  if (streamText !== undefined && streamText !== 'upstream' && streamText !== 'downstream') reader.fail(f.get('stream')?.value, `${path}.stream`, 'upstream or downstream');
  const toxicity = reader.number(f.get('toxicity'), `${path}.toxicity`, { min: 0, max: 1 });
  const attributes = f.has('attributes') ? reader.js(f.get('attributes')) : {};
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
    reader.fail(f.get('attributes')?.value, `${path}.attributes`, 'a mapping of attributes');
    return undefined;
  }
  if (type === undefined) return undefined;
  return {
    type,
    ...(streamText === 'upstream' || streamText === 'downstream' ? { stream: streamText } : {}),
    ...(toxicity === undefined ? {} : { toxicity }),
    attributes: attributes as Record<string, unknown>,
  };
}

/** `metric`, `percentile` (+ `of`) or `jsonPath`: exactly one; reports otherwise. */
function readMeasure(reader: YamlReader, f: Map<string, YamlField>, item: YamlField, path: string, samples: SampleSelection, forHalt: boolean): Measure | undefined {
  const sources = ['metric', 'percentile', 'jsonPath'].filter((k) => f.has(k));
  if (sources.length !== 1) {
    reader.fail(item.value, path, 'exactly one of metric, percentile, jsonPath', sources.length === 0 ? 'none' : sources.join(' and '));
    return undefined;
  }
  if (f.has('of') && !f.has('percentile')) reader.fail(f.get('of')?.key, `${path}.of`, 'of only with percentile', 'of');
  if (f.has('metric')) {
    const name = readMetricName(reader, f.get('metric'), `${path}.metric`);
    if (forHalt && (name === 'max_latency' || name === 'mean_latency')) {
      reader.fail(f.get('metric')?.value, `${path}.metric`, 'a metric a halt can watch over a window: availability, error_rate, requests, failures, throughput, p50/p95/p99_latency or one the target reports', JSON.stringify(name));
      return undefined;
    }
    return name === undefined ? undefined : { kind: 'metric', name, when: samples };
  }
  if (f.has('jsonPath')) {
    const jsonPath = readJsonPathField(reader, f.get('jsonPath'), `${path}.jsonPath`);
    return jsonPath === undefined ? undefined : { kind: 'status', path: jsonPath, when: samples };
  }
  const percentile = reader.number(f.get('percentile'), `${path}.percentile`, { minExclusive: 0, max: 100 }, 'a percentile in (0, 100]');
  let of: 'latency' | JsonPath = 'latency';
  const ofText = reader.string(f.get('of'), `${path}.of`, 'latency or a JSON path into the target status such as $.metrics.queue_depth');
  if (ofText !== undefined && ofText !== 'latency') {
    const parsed = parseJsonPath(ofText);
    if (parsed === undefined) reader.fail(f.get('of')?.value, `${path}.of`, 'latency or a JSON path into the target status such as $.metrics.queue_depth');
    else of = parsed;
  }
  const allowed = forHalt ? HALT_LATENCY_PERCENTILES : LATENCY_PERCENTILES;
  if (percentile !== undefined && of === 'latency' && !allowed.includes(percentile)) {
    reader.fail(f.get('percentile')?.value, `${path}.percentile`, `a latency percentile the load records: ${allowed.join(', ')} (any percentile with of: <JSON path>)`);
    return undefined;
  }
  return percentile === undefined ? undefined : { kind: 'percentile', percentile, of };
}

function readHalt(reader: YamlReader, item: YamlField, path: string, phaseNames: ReadonlySet<string>): HaltCondition | undefined {
  const f = reader.map(item, path, HALT_FIELDS, 'a halt mapping with name, metric / percentile / jsonPath, when');
  if (f === undefined) return undefined;
  reader.require(f, item, 'name', path, 'a non-empty string');
  reader.require(f, item, 'when', path, 'the tolerance that triggers the halt, such as "< 50%"');
  const name = reader.string(f.get('name'), `${path}.name`);
  const measure = readMeasure(reader, f, item, path, 'last', true);
  const when = readTolerance(reader, f.get('when'), `${path}.when`);
  const windowMs = readDuration(reader, f.get('window'), `${path}.window`) ?? 10_000;
  const minRequests = reader.number(f.get('minRequests'), `${path}.minRequests`, { min: 0, integer: true }) ?? 10;
  const phases = readPhaseRefs(reader, f.get('phase'), `${path}.phase`, phaseNames);
  if (name === undefined || measure === undefined || when === undefined) return undefined;
  return { name, measure, when, windowMs, minRequests, ...(phases === undefined ? {} : { phases }) };
}

function readCriterion(reader: YamlReader, item: YamlField, path: string, phaseNames: ReadonlySet<string>): ScenarioCriterion | undefined {
  const f = reader.map(item, path, CRITERION_FIELDS, 'a criterion mapping with name, metric / percentile / jsonPath, expect');
  if (f === undefined) return undefined;
  reader.require(f, item, 'name', path, 'a non-empty string');
  reader.require(f, item, 'expect', path, 'a tolerance such as "> 99%"');
  const name = reader.string(f.get('name'), `${path}.name`);
  const samplesText = reader.string(f.get('samples'), `${path}.samples`, `one of ${SAMPLES.join(', ')}`);
  if (samplesText !== undefined && !SAMPLES.includes(samplesText as SampleSelection)) reader.fail(f.get('samples')?.value, `${path}.samples`, `one of ${SAMPLES.join(', ')}`);
  if (f.has('samples') && f.has('percentile')) reader.fail(f.get('samples')?.key, `${path}.samples`, 'samples only with metric or jsonPath', 'samples');
  const samples = SAMPLES.includes(samplesText as SampleSelection) ? (samplesText as SampleSelection) : 'last';
  const measure = readMeasure(reader, f, item, path, samples, false);
  const tolerance = readTolerance(reader, f.get('expect'), `${path}.expect`);
  const phases = readPhaseRefs(reader, f.get('phase'), `${path}.phase`, phaseNames);
  if (name === undefined || measure === undefined || tolerance === undefined) return undefined;
  return { name, expected: tolerance.text, measure, tolerance, ...(phases === undefined ? {} : { phases }) };
}

function readPhaseRefs(reader: YamlReader, field: YamlField | undefined, path: string, phaseNames: ReadonlySet<string>): string[] | undefined {
  if (field === undefined) return undefined;
  const raw = reader.js(field);
  const list = Array.isArray(raw) ? raw : [raw];
  const expected = `a phase name or a list of them (${[...phaseNames].join(', ') || 'no phases'})`;
  if (list.length === 0 || list.some((n) => typeof n !== 'string')) {
    reader.fail(field.value ?? field.key, path, expected);
    return undefined;
  }
  for (const name of list as string[]) {
    if (phaseNames.has(name)) continue;
    const near = closest(name, [...phaseNames]);
    reader.fail(field.value ?? field.key, path, `${expected}${near === undefined ? '' : ` (did you mean "${near}"?)`}`, `unknown phase ${renderValue(name)}`);
  }
  return list as string[];
}

function readMetricName(reader: YamlReader, field: YamlField | undefined, path: string): string | undefined {
  const name = reader.string(field, path, `a metric name: ${LOAD_METRIC_NAMES.join(', ')} or one the target reports`);
  if (name !== undefined && !METRIC_NAME.test(name)) {
    reader.fail(field?.value, path, 'a metric name (letters, digits, _ . -)');
    return undefined;
  }
  return name;
}

function readJsonPathField(reader: YamlReader, field: YamlField | undefined, path: string): JsonPath | undefined {
  const text = reader.string(field, path, 'a JSON path such as $.breakers.payment');
  if (text === undefined) return undefined;
  const parsed = parseJsonPath(text);
  if (parsed === undefined) reader.fail(field?.value, path, 'a JSON path such as $.breakers.payment or $.metrics["order-rate"]');
  return parsed;
}
