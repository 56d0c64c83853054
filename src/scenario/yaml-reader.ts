import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { SourceIssue } from './source-issue.js';

/** A value in a YAML document with the node to blame when it is wrong (its key when the value is empty). */
export interface YamlField {
  /** The key (or, for a list item, the item itself): where a missing or empty value is reported. */
  readonly key: Node;
  /** The value; `null` when written empty (`name:`). */
  readonly value: Node | null;
}

/** Checks of {@link YamlReader.number}. */
export interface NumberCheck {
  min?: number;
  max?: number;
  /** The number must be greater than this. */
  minExclusive?: number;
  integer?: boolean;
}

/**
 * Reads a YAML document node by node and records every problem as a {@link SourceIssue} with the line and
 * column of the offending node and the field path, instead of stopping at the first. Unknown keys are
 * reported with the allowed ones and a "did you mean" for near misses; keys starting with `x-` are
 * ignored at every level (a place for YAML anchors). The same technique as the runbook loader
 * (`yaml`'s `LineCounter` and node ranges), shared by the scenario readers.
 *
 * @example
 * const reader = YamlReader.parse(text, 'game-day.yaml');
 * const fields = reader.map(reader.root, '', ['name', 'phases'], 'a scenario');
 * if (reader.issues.length > 0) console.error(reader.issues.map(formatSourceIssue).join('\n'));
 */
export class YamlReader {
  /** Every problem found so far, in the order found. */
  readonly issues: SourceIssue[] = [];
  /** The document's root as a field (key = value = the root node), or undefined for an empty document. */
  readonly root: YamlField | undefined;

  private constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    readonly source: string,
  ) {
    const contents = doc.contents as Node | null;
    this.root = contents === null ? undefined : { key: contents, value: contents };
  }

  /** Parses `text`; YAML syntax errors (every one) are recorded in {@link issues}. */
  static parse(text: string, source: string): YamlReader {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const reader = new YamlReader(doc, lines, source);
    for (const error of [...doc.errors]) {
      const pos = error.linePos?.[0] ?? lines.linePos(error.pos[0]);
      reader.issues.push({
        source,
        line: pos.line,
        column: pos.col,
        path: '',
        expected: 'valid YAML',
        received: `a syntax error: ${error.message.split('\n')[0] ?? ''}`,
      });
    }
    return reader;
  }

  /** Records a problem at `node` (or line 1 when there is none). `received` defaults to a rendering of the node. */
  fail(node: Node | null | undefined, path: string, expected: string, received?: string): void {
    const offset = node?.range?.[0];
    const pos = offset === undefined ? { line: 1, col: 1 } : this.lines.linePos(offset);
    this.issues.push({ source: this.source, line: pos.line, column: pos.col, path, expected, received: received ?? this.render(node ?? null) });
  }

  /** 1-based line of `node`. */
  line(node: Node | null | undefined): number {
    const offset = node?.range?.[0];
    return offset === undefined ? 1 : this.lines.linePos(offset).line;
  }

  /**
   * The fields of a mapping by key, or undefined (and an issue) when `field` is not a mapping. Keys not in
   * `allowed` are reported (with the closest allowed key when one is near); `x-` keys are skipped.
   */
  map(field: YamlField | undefined, path: string, allowed: readonly string[], expected: string): Map<string, YamlField> | undefined {
    if (field === undefined) return undefined;
    const node = this.resolve(field.value);
    if (node === null || !isMap(node)) {
      this.fail(node ?? field.key, path, expected);
      return undefined;
    }
    const out = new Map<string, YamlField>();
    for (const pair of node.items) {
      const key = this.resolve(pair.key as Node | null);
      const name = key !== null && isScalar(key) ? key.value : undefined;
      if (typeof name !== 'string') {
        this.fail(key ?? node, path, 'string keys', this.render(key));
        continue;
      }
      if (name.startsWith('x-')) continue;
      const fieldPath = join(path, name);
      if (!allowed.includes(name)) {
        const near = closest(name, allowed);
        this.fail(key, fieldPath, `one of the fields ${allowed.join(', ')}${near === undefined ? '' : ` (did you mean "${near}"?)`}`, `unknown field "${name}"`);
        continue;
      }
      out.set(name, { key: key as Node, value: this.resolve(pair.value as Node | null) });
    }
    return out;
  }

  /**
   * The one `key: value` pair of a single-key mapping (the seed's `- traffic_spike: { ... }` items), or
   * undefined (and an issue) when `field` is not a mapping with exactly one key.
   */
  single(field: YamlField, path: string, allowed: readonly string[], expected: string): { name: string; field: YamlField } | undefined {
    const node = this.resolve(field.value);
    if (node === null || !isMap(node) || node.items.length !== 1) {
      this.fail(node ?? field.key, path, expected, node !== null && isMap(node) ? `a mapping with ${node.items.length} keys` : undefined);
      return undefined;
    }
    const before = this.issues.length;
    const fields = this.map(field, path, allowed, expected);
    const entry = fields === undefined ? undefined : [...fields][0];
    if (entry === undefined) {
      if (this.issues.length === before) this.fail(node, path, expected, 'only an x- extension key');
      return undefined;
    }
    return { name: entry[0], field: entry[1] };
  }

  /** The items of a list, or undefined (and an issue) when `field` is not a list (or is empty and `nonEmpty`). */
  list(field: YamlField | undefined, path: string, expected: string, nonEmpty = false): YamlField[] | undefined {
    if (field === undefined) return undefined;
    const node = this.resolve(field.value);
    if (node === null || !isSeq(node) || (nonEmpty && node.items.length === 0)) {
      this.fail(node ?? field.key, path, expected, node !== null && isSeq(node) ? 'an empty list' : undefined);
      return undefined;
    }
    return node.items.map((item) => {
      const value = this.resolve(item as Node | null);
      return { key: value ?? node, value };
    });
  }

  /** Reports a missing required field `key` of the mapping at `parent`; returns whether it is present. */
  require(fields: Map<string, YamlField>, parent: YamlField, key: string, path: string, expected: string): boolean {
    if (fields.has(key)) return true;
    this.fail(parent.value ?? parent.key, join(path, key), expected, 'nothing (missing field)');
    return false;
  }

  /** A non-empty string. */
  string(field: YamlField | undefined, path: string, expected = 'a non-empty string'): string | undefined {
    const raw = this.scalar(field);
    if (field === undefined) return undefined;
    if (typeof raw === 'string' && raw.trim() !== '') return raw;
    this.fail(field.value ?? field.key, path, expected);
    return undefined;
  }

  /** A number passing `check`. */
  number(field: YamlField | undefined, path: string, check: NumberCheck = {}, expected?: string): number | undefined {
    if (field === undefined) return undefined;
    const raw = this.scalar(field);
    const what = expected ?? describeNumber(check);
    if (
      typeof raw !== 'number' ||
      !Number.isFinite(raw) ||
      (check.integer === true && !Number.isInteger(raw)) ||
      (check.min !== undefined && raw < check.min) ||
      (check.max !== undefined && raw > check.max) ||
      (check.minExclusive !== undefined && raw <= check.minExclusive)
    ) {
      this.fail(field.value ?? field.key, path, what);
      return undefined;
    }
    return raw;
  }

  /** A boolean. */
  boolean(field: YamlField | undefined, path: string): boolean | undefined {
    if (field === undefined) return undefined;
    const raw = this.scalar(field);
    if (typeof raw === 'boolean') return raw;
    this.fail(field.value ?? field.key, path, 'true or false');
    return undefined;
  }

  /** The raw value of a scalar field (undefined when absent or not a scalar). */
  scalar(field: YamlField | undefined): unknown {
    const node = field?.value ?? null;
    return node !== null && isScalar(node) ? node.value : undefined;
  }

  /** Whether the field's value is a mapping. */
  isMap(field: YamlField | undefined): boolean {
    return field?.value !== null && field?.value !== undefined && isMap(field.value);
  }

  /** The field's value as plain JavaScript (mappings to objects, lists to arrays). */
  js(field: YamlField | undefined): unknown {
    if (field?.value === null || field?.value === undefined) return null;
    return field.value.toJS(this.doc, { maxAliasCount: 100 }) as unknown;
  }

  /**
   * The deepest node along `segments` (keys and indexes) under `field`: where to report an issue found on
   * the plain value (e.g. by `parseFaultSpec`) whose path names a field that may be missing.
   */
  nodeAt(field: YamlField, segments: readonly (string | number)[]): Node {
    let node: Node = field.value ?? field.key;
    for (const segment of segments) {
      const current = this.resolve(node);
      let next: unknown;
      if (current !== null && isMap(current)) next = current.get(segment, true);
      else if (current !== null && isSeq(current) && typeof segment === 'number') next = current.items[segment];
      if (next === undefined || next === null) return node;
      node = next as Node;
    }
    return node;
  }

  /** How a node is shown in `received`: a scalar's value, or "a mapping" / "a list" / "nothing". */
  render(node: Node | null): string {
    const resolved = this.resolve(node);
    if (resolved === null) return 'nothing';
    if (isMap(resolved)) return 'a mapping';
    if (isSeq(resolved)) return 'a list';
    if (isScalar(resolved)) return renderValue(resolved.value);
    return 'an unsupported node';
  }

  private resolve(node: Node | null | undefined): Node | null {
    if (node === null || node === undefined) return null;
    if (isAlias(node)) return (node.resolve(this.doc) as Node | undefined) ?? null;
    return node;
  }
}

/** Renders a plain value for a `received` text. */
export function renderValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : typeof value;
}

/** `path.key`, or `key` at the root. */
export function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function describeNumber(check: NumberCheck): string {
  const parts = [check.integer === true ? 'an integer' : 'a number'];
  if (check.minExclusive !== undefined) parts.push(`> ${check.minExclusive}`);
  if (check.min !== undefined && check.max !== undefined) parts.push(`in ${check.min}..${check.max}`);
  else if (check.min !== undefined) parts.push(`>= ${check.min}`);
  else if (check.max !== undefined) parts.push(`<= ${check.max}`);
  return parts.join(' ');
}

/** The allowed name nearest to `name` when it is a plausible typo (edit distance small for its length). */
export function closest(name: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = name.toLowerCase();
  for (const candidate of allowed) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(Math.max(name.length, best.length) / 3)) ? best : undefined;
}

/** Levenshtein distance with adjacent transpositions counted as one edit. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const above = rows[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min((above[j] as number) + 1, (row[j - 1] as number) + 1, (above[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      row.push(value);
    }
    rows.push(row);
  }
  return (rows[a.length] as number[])[b.length] as number;
}
