import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type YAMLMap } from 'yaml';
import type {
  Runbook,
  RunbookCondition,
  RunbookOnFailure,
  RunbookStep,
  RunbookStepCondition,
  RunbookTrigger,
  RunbookVerify,
} from './runbook.js';
import { parseRunbookCondition, parseRunbookDuration } from './runbook-expressions.js';

/** One problem found while loading a runbook. */
export interface RunbookIssue {
  /** File name or the source name given to `loadString`. */
  readonly source: string;
  /** 1-based line of the offending node (of its parent when the field is missing). */
  readonly line: number;
  /** Field path, e.g. `steps[2].action`; empty for a YAML syntax error. */
  readonly path: string;
  /** What is wrong. */
  readonly message: string;
}

const LOAD_ERROR_BRAND = Symbol.for('antifragile.RunbookLoadError');

/**
 * Raised when a runbook is refused at load: invalid YAML, a missing field, a wrong type, an unknown field or
 * an unknown action. The message lists every problem as `source:line: path: message`.
 */
export class RunbookLoadError extends Error {
  override readonly name: string = 'RunbookLoadError';
  /** Stable machine-readable code. */
  readonly code = 'RUNBOOK_INVALID' as const;
  /** Every problem found, in document order. */
  readonly issues: readonly RunbookIssue[];
  constructor(source: string, issues: readonly RunbookIssue[]) {
    super(`Invalid runbook ${source}:\n` + issues.map((i) => `  ${formatRunbookIssue(i)}`).join('\n'));
    this.issues = issues;
  }
}
Object.defineProperty(RunbookLoadError.prototype, LOAD_ERROR_BRAND, { value: true });

/** Whether `error` is a {@link RunbookLoadError} (from any copy of the package). */
export function isRunbookLoadError(error: unknown): error is RunbookLoadError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[LOAD_ERROR_BRAND] === true;
}

/** Renders an issue as `source:line: path: message`. */
export function formatRunbookIssue(issue: RunbookIssue): string {
  return `${issue.source}:${issue.line}: ${issue.path === '' ? '' : `${issue.path}: `}${issue.message}`;
}

/** What a runbook may refer to, checked at load. */
export interface RunbookRegistry {
  /** Names of registered actions. */
  readonly actions: readonly string[];
  /** Names of registered checks (usable in `verify.check`, as are actions). */
  readonly checks: readonly string[];
  /** Milliseconds between verification retries when neither `interval` nor `wait` is given. @default 1_000 */
  readonly defaultVerifyIntervalMs?: number;
}

const TOP_FIELDS = ['name', 'description', 'triggers', 'steps', 'cooldown'];
const STEP_FIELDS = ['name', 'action', 'params', 'wait', 'timeout', 'verify', 'on_failure', 'on_success', 'condition'];
const VERIFY_FIELDS = ['metric', 'condition', 'check', 'params', 'retries', 'interval'];
const STEP_CONDITIONS: readonly RunbookStepCondition[] = ['all_steps_failed', 'any_step_failed'];

type Field = { readonly key: Node; readonly value: Node | null };

/**
 * Parses and validates one runbook written in YAML (the format of the NestJS plan's runbooks: `name`,
 * `triggers` on a metric `condition` or an `alert`, `steps` with `action`, `params`, `wait`, `verify`,
 * `on_failure`, `condition: all_steps_failed`; plus `timeout` and `on_success` per step, `cooldown`, and `retries` /
 * `interval` in `verify`). Keys starting with `x-` are ignored at every level (a place for YAML anchors).
 *
 * @param text the YAML document.
 * @param source the file name used in error messages.
 * @param registry the action and check names a runbook may use.
 * @throws RunbookLoadError listing every problem with its line and field path.
 */
export function parseRunbook(text: string, source: string, registry: RunbookRegistry): Runbook {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const issues: RunbookIssue[] = [];
  for (const error of doc.errors) {
    const line = error.linePos?.[0]?.line ?? lineCounter.linePos(error.pos[0]).line;
    issues.push({ source, line, path: '', message: `invalid YAML: ${error.message.split('\n')[0] ?? ''}` });
  }
  if (issues.length > 0) throw new RunbookLoadError(source, issues);
  const reader = new NodeReader(doc, lineCounter, source, issues, registry);
  const runbook = reader.runbook();
  if (issues.length > 0 || runbook === undefined) {
    throw new RunbookLoadError(source, issues.sort((a, b) => a.line - b.line));
  }
  return runbook;
}

class NodeReader {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly source: string,
    private readonly issues: RunbookIssue[],
    private readonly registry: RunbookRegistry,
  ) {}

  runbook(): Runbook | undefined {
    const root = this.resolve(this.doc.contents as Node | null);
    if (root === null || !isMap(root)) {
      this.fail(root, '', 'expected a mapping with name, triggers and steps');
      return undefined;
    }
    const fields = this.fields(root, '', TOP_FIELDS);
    const name = this.requiredString(root, fields, 'name', 'name');
    const description = this.optionalString(fields.get('description'), 'description');
    const cooldownMs = this.optionalDuration(fields.get('cooldown'), 'cooldown');
    const triggers = this.triggers(fields.get('triggers'));
    const stepsField = fields.get('steps');
    let steps: RunbookStep[] = [];
    if (stepsField === undefined) this.fail(root, 'steps', 'missing field (expected a non-empty list of steps)');
    else steps = this.steps(stepsField);
    if (name === undefined) return undefined;
    return { name, description, triggers, steps, cooldownMs, source: this.source };
  }

  private triggers(field: Field | undefined): RunbookTrigger[] {
    if (field === undefined) return [];
    const seq = this.resolve(field.value);
    if (seq === null || !isSeq(seq)) {
      this.fail(seq ?? field.key, 'triggers', 'expected a list of triggers');
      return [];
    }
    const triggers: RunbookTrigger[] = [];
    seq.items.forEach((item, i) => {
      const path = `triggers[${i}]`;
      const node = this.resolve(item as Node | null);
      if (node === null || !isMap(node)) return this.fail(node ?? seq, path, 'expected a mapping with metric and condition, or alert');
      const fields = this.fields(node, path, ['metric', 'condition', 'alert']);
      const metric = fields.get('metric');
      const alert = fields.get('alert');
      if (metric !== undefined && alert !== undefined) {
        return this.fail(node, path, 'a trigger has either metric or alert, not both');
      }
      if (alert !== undefined) {
        if (fields.has('condition')) this.fail(fields.get('condition')?.key ?? node, `${path}.condition`, 'an alert trigger takes no condition');
        const name = this.optionalString(alert, `${path}.alert`);
        if (name !== undefined) triggers.push({ kind: 'alert', alert: name });
        return;
      }
      if (metric === undefined) return this.fail(node, path, 'missing field metric or alert');
      const metricName = this.optionalString(metric, `${path}.metric`);
      const condition = this.requiredCondition(node, fields, `${path}.condition`);
      if (metricName !== undefined && condition !== undefined) triggers.push({ kind: 'metric', metric: metricName, condition });
    });
    return triggers;
  }

  private steps(field: Field): RunbookStep[] {
    const seq = this.resolve(field.value);
    if (seq === null || !isSeq(seq) || seq.items.length === 0) {
      this.fail(seq ?? field.key, 'steps', 'expected a non-empty list of steps');
      return [];
    }
    const steps: RunbookStep[] = [];
    const names = new Map<string, number>();
    const jumps: { index: number; target: string; node: Node }[] = [];
    seq.items.forEach((item, i) => {
      const path = `steps[${i}]`;
      const node = this.resolve(item as Node | null);
      if (node === null || !isMap(node)) return this.fail(node ?? seq, path, 'expected a mapping');
      const fields = this.fields(node, path, STEP_FIELDS);
      const name = this.requiredString(node, fields, 'name', `${path}.name`);
      if (name !== undefined) {
        if (names.has(name)) this.fail(fields.get('name')?.value ?? node, `${path}.name`, `duplicate step name "${name}" (also steps[${names.get(name)}])`);
        else names.set(name, i);
      }
      const actionField = fields.get('action');
      const action = this.optionalString(actionField, `${path}.action`);
      if (action !== undefined && !this.registry.actions.includes(action)) {
        this.fail(actionField?.value ?? node, `${path}.action`, `unknown action "${action}" (registered: ${list(this.registry.actions)})`);
      }
      const paramsField = fields.get('params');
      const params = this.params(paramsField, `${path}.params`);
      if (paramsField !== undefined && actionField === undefined) this.fail(paramsField.key, `${path}.params`, 'params given without an action');
      const waitMs = this.optionalDuration(fields.get('wait'), `${path}.wait`);
      const timeoutMs = this.optionalDuration(fields.get('timeout'), `${path}.timeout`, true);
      const verify = this.verify(fields.get('verify'), `${path}.verify`, waitMs);
      if (actionField === undefined && !fields.has('wait') && !fields.has('verify')) {
        this.fail(node, path, 'a step needs at least one of action, wait or verify');
      }
      const onFailure = this.onFailure(fields.get('on_failure'), `${path}.on_failure`, i, jumps);
      const onSuccessField = fields.get('on_success');
      const onSuccess = this.optionalString(onSuccessField, `${path}.on_success`);
      if (onSuccess !== undefined && onSuccess !== 'complete' && onSuccess !== 'continue') {
        this.fail(onSuccessField?.value ?? node, `${path}.on_success`, `expected "complete" or "continue", got ${render(onSuccess)}`);
      }
      const conditionField = fields.get('condition');
      const condition = this.optionalString(conditionField, `${path}.condition`);
      if (condition !== undefined && !STEP_CONDITIONS.includes(condition as RunbookStepCondition)) {
        this.fail(conditionField?.value ?? node, `${path}.condition`, `unknown condition "${condition}" (expected ${list(STEP_CONDITIONS)})`);
      }
      steps.push({
        name: name ?? `#${i}`,
        action,
        params,
        waitMs: waitMs ?? 0,
        timeoutMs,
        verify,
        onFailure,
        onSuccess: onSuccess === 'complete' || onSuccess === 'continue' ? onSuccess : verify !== undefined ? 'complete' : 'continue',
        condition: condition as RunbookStepCondition | undefined,
        line: this.line(node),
      });
    });
    for (const jump of jumps) {
      const target = names.get(jump.target);
      if (target === undefined) this.fail(jump.node, `steps[${jump.index}].on_failure.step`, `unknown step "${jump.target}"`);
      else if (target <= jump.index) this.fail(jump.node, `steps[${jump.index}].on_failure.step`, `can only jump forward, "${jump.target}" is steps[${target}]`);
    }
    return steps;
  }

  private verify(field: Field | undefined, path: string, waitMs: number | undefined): RunbookVerify | undefined {
    if (field === undefined) return undefined;
    const node = this.resolve(field.value);
    if (node === null || !isMap(node)) {
      this.fail(node ?? field.key, path, 'expected a mapping with metric and condition, or check');
      return undefined;
    }
    const fields = this.fields(node, path, VERIFY_FIELDS);
    const retries = this.optionalInteger(fields.get('retries'), `${path}.retries`) ?? 0;
    const intervalMs = this.optionalDuration(fields.get('interval'), `${path}.interval`) ??
      (waitMs !== undefined && waitMs > 0 ? waitMs : (this.registry.defaultVerifyIntervalMs ?? 1_000));
    const metric = fields.get('metric');
    const check = fields.get('check');
    if (metric !== undefined && check !== undefined) {
      this.fail(node, path, 'verify has either metric or check, not both');
      return undefined;
    }
    if (check !== undefined) {
      const name = this.optionalString(check, `${path}.check`);
      if (fields.has('condition')) this.fail(fields.get('condition')?.key ?? node, `${path}.condition`, 'a check verification takes no condition');
      const params = this.params(fields.get('params'), `${path}.params`);
      if (name === undefined) return undefined;
      if (!this.registry.checks.includes(name) && !this.registry.actions.includes(name)) {
        this.fail(check.value ?? node, `${path}.check`, `unknown check "${name}" (registered checks: ${list(this.registry.checks)}; actions: ${list(this.registry.actions)})`);
      }
      return { kind: 'check', check: name, params, retries, intervalMs };
    }
    if (metric === undefined) {
      this.fail(node, path, 'missing field metric or check');
      return undefined;
    }
    if (fields.has('params')) this.fail(fields.get('params')?.key ?? node, `${path}.params`, 'a metric verification takes no params');
    const metricName = this.optionalString(metric, `${path}.metric`);
    const condition = this.requiredCondition(node, fields, `${path}.condition`);
    if (metricName === undefined || condition === undefined) return undefined;
    return { kind: 'metric', metric: metricName, condition, retries, intervalMs };
  }

  private onFailure(field: Field | undefined, path: string, index: number, jumps: { index: number; target: string; node: Node }[]): RunbookOnFailure {
    const fallback: RunbookOnFailure = { kind: 'continue' };
    if (field === undefined) return fallback;
    const node = this.resolve(field.value);
    const expected = 'expected "continue", "abort", { step: <later step> } or { runbook: <name>, then?: abort | continue }';
    if (node !== null && isScalar(node)) {
      if (node.value === 'continue') return fallback;
      if (node.value === 'abort') return { kind: 'abort' };
      this.fail(node, path, `${expected}, got ${render(node.value)}`);
      return fallback;
    }
    if (node === null || !isMap(node)) {
      this.fail(node ?? field.key, path, expected);
      return fallback;
    }
    const fields = this.fields(node, path, ['step', 'runbook', 'then']);
    const step = fields.get('step');
    const runbook = fields.get('runbook');
    if ((step === undefined) === (runbook === undefined)) {
      this.fail(node, path, 'expected exactly one of step or runbook');
      return fallback;
    }
    if (step !== undefined) {
      if (fields.has('then')) this.fail(fields.get('then')?.key ?? node, `${path}.then`, 'then applies to runbook only');
      const target = this.optionalString(step, `${path}.step`);
      if (target === undefined) return fallback;
      jumps.push({ index, target, node: step.value ?? node });
      return { kind: 'step', step: target };
    }
    const name = this.optionalString(runbook, `${path}.runbook`);
    const thenField = fields.get('then');
    const then = this.optionalString(thenField, `${path}.then`) ?? 'abort';
    if (then !== 'abort' && then !== 'continue') this.fail(thenField?.value ?? node, `${path}.then`, `expected "abort" or "continue", got ${render(then)}`);
    if (name === undefined) return fallback;
    return { kind: 'runbook', runbook: name, then: then === 'continue' ? 'continue' : 'abort' };
  }

  private params(field: Field | undefined, path: string): Readonly<Record<string, unknown>> {
    if (field === undefined) return {};
    const node = this.resolve(field.value);
    if (node === null || !isMap(node)) {
      this.fail(node ?? field.key, path, 'expected a mapping');
      return {};
    }
    const value: unknown = node.toJS(this.doc, { maxAliasCount: 100 });
    return Object.freeze({ ...(value as Record<string, unknown>) });
  }

  private requiredCondition(parent: Node, fields: Map<string, Field>, path: string): RunbookCondition | undefined {
    const field = fields.get('condition');
    if (field === undefined) {
      this.fail(parent, path, 'missing field (expected a condition such as "< 5")');
      return undefined;
    }
    const node = this.resolve(field.value);
    const raw = node !== null && isScalar(node) ? node.value : undefined;
    const condition = typeof raw === 'string' ? parseRunbookCondition(raw) : undefined;
    if (condition === undefined) this.fail(node ?? field.key, path, `expected a condition such as "< 5" or ">= 0.9", got ${render(raw ?? node)}`);
    return condition;
  }

  private requiredString(parent: Node, fields: Map<string, Field>, key: string, path: string): string | undefined {
    const field = fields.get(key);
    if (field === undefined) {
      this.fail(parent, path, 'missing field (expected a non-empty string)');
      return undefined;
    }
    return this.optionalString(field, path);
  }

  private optionalString(field: Field | undefined, path: string): string | undefined {
    if (field === undefined) return undefined;
    const node = this.resolve(field.value);
    const raw = node !== null && isScalar(node) ? node.value : undefined;
    if (typeof raw === 'string' && raw.trim() !== '') return raw;
    this.fail(node ?? field.key, path, `expected a non-empty string, got ${render(node === null || isScalar(node) ? raw : node)}`);
    return undefined;
  }

  private optionalInteger(field: Field | undefined, path: string): number | undefined {
    if (field === undefined) return undefined;
    const node = this.resolve(field.value);
    const raw = node !== null && isScalar(node) ? node.value : node;
    if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0) return raw;
    this.fail(node ?? field.key, path, `expected an integer >= 0, got ${render(raw)}`);
    return undefined;
  }

  private optionalDuration(field: Field | undefined, path: string, positive = false): number | undefined {
    if (field === undefined) return undefined;
    const node = this.resolve(field.value);
    const raw = node !== null && isScalar(node) ? node.value : node;
    const ms = typeof raw === 'string' ? parseRunbookDuration(raw) : undefined;
    if (ms === undefined || (positive && ms === 0)) {
      this.fail(node ?? field.key, path, `expected a ${positive ? 'positive ' : ''}duration such as "30s", "2m" or "1m30s", got ${render(raw)}`);
      return undefined;
    }
    return ms;
  }

  /** The map's fields by key; reports non-string keys and keys not in `allowed`. */
  private fields(map: YAMLMap, path: string, allowed: readonly string[]): Map<string, Field> {
    const out = new Map<string, Field>();
    for (const pair of map.items) {
      const key = pair.key as Node | null;
      const keyValue = key !== null && isScalar(key) ? key.value : undefined;
      const fieldPath = (k: string): string => (path === '' ? k : `${path}.${k}`);
      if (typeof keyValue !== 'string') {
        this.fail(key ?? map, path, `expected string keys, got ${render(keyValue ?? key)}`);
        continue;
      }
      if (keyValue.startsWith('x-')) continue; // extension fields, e.g. YAML anchors to reuse
      if (!allowed.includes(keyValue)) {
        this.fail(key ?? map, fieldPath(keyValue), `unknown field (expected one of ${list(allowed)})`);
        continue;
      }
      out.set(keyValue, { key: key as Node, value: (pair.value as Node | null) ?? null });
    }
    return out;
  }

  private resolve(node: Node | null | undefined): Node | null {
    if (node === null || node === undefined) return null;
    if (isAlias(node)) return (node.resolve(this.doc) as Node | undefined) ?? null;
    return node;
  }

  private line(node: Node | null): number {
    const offset = node?.range?.[0];
    return offset === undefined ? 1 : this.lines.linePos(offset).line;
  }

  private fail(node: Node | null, path: string, message: string): void {
    this.issues.push({ source: this.source, line: this.line(node), path, message });
  }
}

function list(names: readonly string[]): string {
  return names.length === 0 ? '(none)' : names.join(', ');
}

function render(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (isMap(value)) return 'a mapping';
  if (isSeq(value)) return 'a list';
  return typeof value;
}
