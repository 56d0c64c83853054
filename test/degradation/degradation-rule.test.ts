import { describe, expect, it } from 'vitest';
import { conditionHolds, ruleName, type ThresholdCondition, type ThresholdOperator } from '../../src/degradation/degradation-rule.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

const at = (operator: ThresholdOperator, value: number): ThresholdCondition => ({ type: 'threshold', metric: 'm', operator, value });

describe('conditionHolds', () => {
  it.each([
    // operator, threshold, observed, margin, holds
    ['<', 50, 49.9, 0, true],
    ['<', 50, 50, 0, false],
    ['<', 50, 54.9, 5, true],
    ['<', 50, 55, 5, false],
    ['<=', 50, 50, 0, true],
    ['<=', 50, 55, 5, true],
    ['<=', 50, 55.1, 5, false],
    ['>', 0.1, 0.1, 0, false],
    ['>', 0.1, 0.11, 0, true],
    ['>', 0.1, 0.09, 0.02, true],
    ['>', 0.1, 0.08, 0.02, false],
    ['>=', 10, 10, 0, true],
    ['>=', 10, 8, 2, true],
    ['>=', 10, 7.9, 2, false],
    ['==', 3, 3, 0, true],
    ['==', 3, 3.5, 0, false],
    ['==', 3, 3.5, 0.5, true],
    ['==', 3, 2.4, 0.5, false],
  ] as const)('%s %d with %d (margin %d) is %s', (operator, value, observed, margin, holds) => {
    expect(conditionHolds(at(operator, value), observed, margin)).toBe(holds);
  });
});

describe('ruleName', () => {
  it('is the given name, else the condition written out', () => {
    expect(ruleName({ name: 'low-health', condition: at('<', 50), targetLevel: 'emergency' })).toBe('low-health');
    expect(ruleName({ condition: at('>=', 0.5), targetLevel: 'minimal' })).toBe('m >= 0.5');
  });
});
