import type { OptionsValidator } from '../core/options.js';

/** Comparison of a threshold condition: `metric <operator> value`. */
export type ThresholdOperator = '<' | '<=' | '>' | '>=' | '==';

/** The operators a {@link ThresholdCondition} accepts. */
export const THRESHOLD_OPERATORS: readonly ThresholdOperator[] = ['<', '<=', '>', '>=', '=='];

/** A condition on one metric, e.g. `{ type: 'threshold', metric: 'health_score', operator: '<', value: 50 }`. */
export interface ThresholdCondition {
  type: 'threshold';
  /** `health_score` (read from the health source on each evaluation) or any name given to `reportMetric`. */
  metric: string;
  operator: ThresholdOperator;
  /** Finite number compared with the metric, in the metric's own units. */
  value: number;
}

/**
 * A rule of automatic degradation (the seed's shape): while `condition` holds, the level is at least as
 * severe as `targetLevel`.
 */
export interface DegradationRule {
  /** Name used in reasons and events. @default `${metric} ${operator} ${value}` */
  name?: string;
  condition: ThresholdCondition;
  /** The level to degrade to; must be one of the configured levels other than the first. */
  targetLevel: string;
  /** Features (declared or not) that are also off at `targetLevel` and every more severe level. @default [] */
  affectedFeatures?: string[];
  /**
   * Margin by which the metric must clear `value` before this rule stops holding the level (recovery),
   * in the metric's units (>= 0). @default the instance's `hysteresis`
   */
  hysteresis?: number;
}

/** Display name of a rule. @internal */
export function ruleName(rule: DegradationRule): string {
  const c = rule.condition;
  return rule.name ?? `${c.metric} ${c.operator} ${c.value}`;
}

/**
 * Whether `observed` satisfies the condition, with `margin` (>= 0) widening it: `<` / `<=` move the bound
 * up by `margin`, `>` / `>=` move it down, `==` accepts anything within `margin`. A margin of 0 is the
 * plain condition. @internal
 */
export function conditionHolds(condition: ThresholdCondition, observed: number, margin = 0): boolean {
  const v = condition.value;
  switch (condition.operator) {
    case '<':
      return observed < v + margin;
    case '<=':
      return observed <= v + margin;
    case '>':
      return observed > v - margin;
    case '>=':
      return observed >= v - margin;
    case '==':
      return Math.abs(observed - v) <= margin;
  }
}

/**
 * Validates one rule at `path`. `levels` are the valid level names (undefined when the levels themselves
 * are invalid, which skips the membership checks). @internal
 */
export function validateRule(v: OptionsValidator, path: string, rule: unknown, levels: readonly string[] | undefined): void {
  if (rule === undefined || !v.object(path, rule)) {
    if (rule === undefined) v.fail(path, 'an object', rule);
    return;
  }
  const r = rule as Record<string, unknown>;
  if (r.name !== undefined && (typeof r.name !== 'string' || r.name === '')) v.fail(`${path}.name`, 'a non-empty string', r.name);
  if (v.required(`${path}.condition`, r.condition, 'an object') && v.object(`${path}.condition`, r.condition)) {
    const c = r.condition as Record<string, unknown>;
    if (v.required(`${path}.condition.type`, c.type, '"threshold"')) v.oneOf(`${path}.condition.type`, c.type, ['threshold']);
    if (v.required(`${path}.condition.metric`, c.metric, 'a non-empty string') && (typeof c.metric !== 'string' || c.metric === '')) {
      v.fail(`${path}.condition.metric`, 'a non-empty string', c.metric);
    }
    if (v.required(`${path}.condition.operator`, c.operator, 'an operator')) v.oneOf(`${path}.condition.operator`, c.operator, THRESHOLD_OPERATORS);
    if (v.required(`${path}.condition.value`, c.value, 'a finite number')) v.number(`${path}.condition.value`, c.value, {});
  }
  if (v.required(`${path}.targetLevel`, r.targetLevel, 'a level name') && levels !== undefined) {
    v.oneOf(`${path}.targetLevel`, r.targetLevel, levels.slice(1));
  }
  if (r.affectedFeatures !== undefined) {
    if (!Array.isArray(r.affectedFeatures)) v.fail(`${path}.affectedFeatures`, 'an array of feature names', r.affectedFeatures);
    else {
      r.affectedFeatures.forEach((f, i) => {
        if (typeof f !== 'string' || f === '') v.fail(`${path}.affectedFeatures[${i}]`, 'a non-empty string', f);
      });
    }
  }
  v.number(`${path}.hysteresis`, r.hysteresis, { min: 0 });
}
