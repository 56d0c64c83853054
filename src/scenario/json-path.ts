/** A parsed JSON path: the keys and indexes to follow from the root. */
export interface JsonPath {
  /** As written, e.g. `$.breakers.payment`. */
  readonly text: string;
  readonly segments: readonly (string | number)[];
}

const SEGMENT = /\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]|\["((?:[^"\\]|\\.)*)"\]/y;

/**
 * Parses the JSON path subset scenarios use to read a target's status: `$`, `.key`, `['key']`, `["key"]`
 * and `[index]` (no wildcards, filters or recursion). Returns undefined when `text` is not one.
 *
 * @example parseJsonPath("$.breakers['payment-api']") // segments ['breakers', 'payment-api']
 */
export function parseJsonPath(text: string): JsonPath | undefined {
  const input = text.trim();
  if (!input.startsWith('$')) return undefined;
  const segments: (string | number)[] = [];
  SEGMENT.lastIndex = 1;
  while (SEGMENT.lastIndex < input.length) {
    const match = SEGMENT.exec(input);
    if (match === null) return undefined;
    if (match[1] !== undefined) segments.push(match[1]);
    else if (match[2] !== undefined) segments.push(Number(match[2]));
    else segments.push((match[3] ?? match[4] ?? '').replace(/\\(.)/g, '$1'));
  }
  return { text: input, segments };
}

/** The value at `path` in `root`, or undefined when any step is missing. */
export function readJsonPath(path: JsonPath, root: unknown): unknown {
  let current: unknown = root;
  for (const segment of path.segments) {
    if (current === null || typeof current !== 'object') return undefined;
    if (typeof segment === 'number') {
      if (!Array.isArray(current)) return undefined;
      current = current[segment] as unknown;
    } else {
      if (!Object.prototype.hasOwnProperty.call(current, segment)) return undefined;
      current = (current as Record<string, unknown>)[segment];
    }
  }
  return current;
}
