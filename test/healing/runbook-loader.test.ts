import { describe, expect, it } from 'vitest';
import { conditionHolds, parseRunbookCondition, parseRunbookDuration } from '../../src/healing/runbook-expressions.js';
import { isRunbookLoadError, parseRunbook, type RunbookLoadError } from '../../src/healing/runbook-loader.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

const registry = { actions: ['database.resetPool', 'pagerduty.alert'], checks: ['pool.healthy'] };

function loadError(text: string, source = 'runbooks/db.yaml'): RunbookLoadError {
  try {
    parseRunbook(text, source, registry);
  } catch (error) {
    expect(isRunbookLoadError(error)).toBe(true);
    return error as RunbookLoadError;
  }
  throw new Error('expected the runbook to be refused');
}

describe('runbook durations and conditions', () => {
  it('parses durations exactly into milliseconds', () => {
    expect(parseRunbookDuration('30s')).toBe(30_000);
    expect(parseRunbookDuration('2m')).toBe(120_000);
    expect(parseRunbookDuration('1m30s')).toBe(90_000);
    expect(parseRunbookDuration('1.5s')).toBe(1_500);
    expect(parseRunbookDuration('0.1s')).toBe(100);
    expect(parseRunbookDuration('250ms')).toBe(250);
    expect(parseRunbookDuration('1h')).toBe(3_600_000);
    expect(parseRunbookDuration('0s')).toBe(0);
    for (const bad of ['', '10', 's', '1.5ms', '5 minutes', '-1s', '1s junk']) expect(parseRunbookDuration(bad)).toBeUndefined();
  });

  it('parses and evaluates numeric conditions', () => {
    const lt = parseRunbookCondition('< 5');
    expect(lt).toEqual({ op: '<', value: 5, text: '< 5' });
    expect(conditionHolds(lt!, 4.9)).toBe(true);
    expect(conditionHolds(lt!, 5)).toBe(false);
    expect(conditionHolds(parseRunbookCondition('>= 0.9')!, 0.9)).toBe(true);
    expect(parseRunbookCondition('= 0')?.op).toBe('==');
    expect(conditionHolds(parseRunbookCondition('!= 0')!, Number.NaN)).toBe(false);
    expect(parseRunbookCondition('about 5')).toBeUndefined();
  });
});

describe('parseRunbook', () => {
  it('reads the seed format with defaults', () => {
    const runbook = parseRunbook(
      [
        'name: "Pool"',
        'triggers:',
        '  - metric: "db_connections_available"',
        '    condition: "< 5"',
        '  - alert: "DatabaseConnectionExhaustion"',
        'steps:',
        '  - name: "Reset"',
        '    action: "database.resetPool"',
        '    params: { idle_time: "5m", factor: 1.5 }',
        '  - name: "Check"',
        '    wait: "10s"',
        '    verify: { metric: "db_connections_available", condition: "> 20", retries: 2 }',
        '  - name: "Page"',
        '    condition: "all_steps_failed"',
        '    action: "pagerduty.alert"',
      ].join('\n'),
      'pool.yaml',
      registry,
    );
    expect(runbook.triggers).toEqual([
      { kind: 'metric', metric: 'db_connections_available', condition: { op: '<', value: 5, text: '< 5' } },
      { kind: 'alert', alert: 'DatabaseConnectionExhaustion' },
    ]);
    const [reset, check, page] = runbook.steps;
    expect(reset).toMatchObject({ action: 'database.resetPool', params: { idle_time: '5m', factor: 1.5 }, onFailure: { kind: 'continue' }, onSuccess: 'continue', line: 7 });
    expect(check).toMatchObject({ waitMs: 10_000, onSuccess: 'complete', verify: { kind: 'metric', retries: 2, intervalMs: 10_000 } });
    expect(page).toMatchObject({ condition: 'all_steps_failed', line: 13 });
  });

  it('refuses an unknown action with file, line and field path', () => {
    const text = [
      'name: db',
      'steps:',
      '  - name: a',
      '    action: database.resetPool',
      '  - name: b',
      '    action: pagerduty.alert',
      '  - name: c',
      '    action: restart_pods',
    ].join('\n');
    const error = loadError(text);
    expect(error.issues).toEqual([
      { source: 'runbooks/db.yaml', line: 8, path: 'steps[2].action', message: 'unknown action "restart_pods" (registered: database.resetPool, pagerduty.alert)' },
    ]);
    expect(error.message).toContain('runbooks/db.yaml:8: steps[2].action: unknown action "restart_pods" (registered: database.resetPool, pagerduty.alert)');
  });

  it('lists every problem in one error: missing fields, wrong types, unknown fields and bad references', () => {
    const text = [
      'description: 42', // 1: wrong type; name missing (reported at the root, line 1)
      'triggers:',
      '  - metric: cpu', // 3: condition missing (reported at the trigger)
      '  - alert: x',
      '    condition: "> 1"', // 5
      'steps:',
      '  - name: a',
      '    action: database.resetPool',
      '    wait: 10', // 9: a number is not a duration
      '    on_falure: abort', // 10: typo
      '  - name: a', // 11: duplicate name
      '    verify: { check: nope }', // 12: unknown check
      '    on_failure: { step: a }', // 13: backward jump
      '  - name: c', // 14: nothing to do
      '    condition: sometimes', // 15
      '    retries: 2', // 16: unknown field
    ].join('\n');
    const error = loadError(text);
    expect(error.issues.map((i) => `${i.line}: ${i.path}`)).toEqual([
      '1: name',
      '1: description',
      '3: triggers[0].condition',
      '5: triggers[1].condition',
      '9: steps[0].wait',
      '10: steps[0].on_falure',
      '11: steps[1].name',
      '12: steps[1].verify.check',
      '13: steps[1].on_failure.step',
      '14: steps[2]',
      '15: steps[2].condition',
      '16: steps[2].retries',
    ]);
    expect(error.message.split('\n')).toHaveLength(13);
  });

  it('refuses invalid YAML with the line of the syntax error', () => {
    const error = loadError(['name: db', 'steps:', '  - name: a', '    action: [unclosed'].join('\n'), 'bad.yaml');
    expect(error.issues.length).toBeGreaterThan(0);
    expect(error.issues[0]).toMatchObject({ source: 'bad.yaml', path: '' });
    expect(error.issues[0]!.line).toBeGreaterThanOrEqual(4);
    expect(error.issues[0]!.message).toMatch(/^invalid YAML: /);
  });

  it('refuses a document that is not a mapping, and an empty steps list', () => {
    expect(loadError('- just\n- a list').issues[0]).toMatchObject({ line: 1, path: '' });
    expect(loadError('name: x\nsteps: []').issues).toEqual([
      { source: 'runbooks/db.yaml', line: 2, path: 'steps', message: 'expected a non-empty list of steps' },
    ]);
    expect(loadError('name: x\nsteps:\n  - name: a\n    wait: 1s\n    on_failure: retry').issues[0]).toMatchObject({ line: 5, path: 'steps[0].on_failure' });
  });

  it('resolves YAML aliases and ignores x- extension fields', () => {
    const runbook = parseRunbook(
      ['x-common: &p { severity: high }', 'name: x', 'steps:', '  - name: a', '    action: pagerduty.alert', '    params: *p'].join('\n'),
      'a.yaml',
      registry,
    );
    expect(runbook.steps[0]?.params).toEqual({ severity: 'high' });
  });
});
