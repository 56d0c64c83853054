import { readFile } from 'node:fs/promises';
import { readNativeScenario } from './native-scenario-reader.js';
import type { Scenario } from './scenario.js';
import { ScenarioLoadError } from './scenario-load-error.js';
import { mapSeedScenario } from './seed-scenario-mapping.js';
import { readSeedScenarios } from './seed-scenario-reader.js';
import { YamlReader } from './yaml-reader.js';

/** The scenarios of one file. */
export interface ScenarioFile {
  /** `seed`: a `scenarios:` list (several scenarios); `native`: one scenario. */
  format: 'seed' | 'native';
  /** The file name given. */
  source: string;
  scenarios: Scenario[];
}

/**
 * Parses and validates a scenario file. A document whose root has a `scenarios` key is read as the seed
 * format (see `seed-scenario-mapping.ts` for how it maps to phases, faults and criteria); any other as the
 * native format. Unknown fields, missing fields, wrong types, bad durations and tolerances are all reported.
 *
 * @param text the YAML document.
 * @param source the file name used in messages and kept in the scenarios.
 * @throws ScenarioLoadError listing every problem as `source:line:col path: expected ..., received ...`.
 */
export function parseScenarioFile(text: string, source: string): ScenarioFile {
  const reader = YamlReader.parse(text, source);
  if (reader.issues.length > 0) throw new ScenarioLoadError(source, reader.issues);
  const root = reader.root;
  if (root === undefined || reader.scalar(root) === null) {
    throw new ScenarioLoadError(source, [
      { source, line: 1, column: 1, path: '', expected: 'a scenario mapping or a scenarios list', received: 'an empty document' },
    ]);
  }
  const js = reader.js(root);
  const seed = typeof js === 'object' && js !== null && !Array.isArray(js) && 'scenarios' in js;
  let file: ScenarioFile;
  if (seed) {
    const scenarios = readSeedScenarios(reader, root).map((s) => mapSeedScenario(s, source));
    file = { format: 'seed', source, scenarios };
  } else {
    const scenario = readNativeScenario(reader, root, source);
    file = { format: 'native', source, scenarios: scenario === undefined ? [] : [scenario] };
  }
  if (reader.issues.length > 0 || file.scenarios.length === 0) {
    const issues = [...reader.issues].sort((a, b) => a.line - b.line || a.column - b.column);
    if (issues.length === 0) issues.push({ source, line: 1, column: 1, path: '', expected: 'at least one scenario', received: 'none' });
    throw new ScenarioLoadError(source, issues);
  }
  return file;
}

/**
 * Reads and validates the scenario file at `path` (see {@link parseScenarioFile}).
 * @throws ScenarioLoadError when the file cannot be read or is invalid.
 */
export async function loadScenarioFile(path: string): Promise<ScenarioFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ScenarioLoadError(path, [{ source: path, line: 1, column: 1, path: '', expected: 'a readable scenario file', received: reason }], { cause: error });
  }
  return parseScenarioFile(text, path);
}
