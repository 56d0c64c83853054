import { describe, expect, it } from 'vitest';
import { InvalidOptionsError, OptionsValidator } from '../../src/core/options.js';

describe('OptionsValidator', () => {
  it('collects every problem and renders received values', () => {
    const v = new OptionsValidator('Thing');
    v.duration('aMs', -1);
    v.rate('rate', 2);
    v.integer('count', 1.5, 1);
    v.integer('inf', Infinity, 1, true);
    v.func('fn', 'nope');
    v.oneOf('mode', 'x', ['a', 'b']);
    v.object('obj', []);
    v.duration('skipped', undefined);
    v.number('nan', Number.NaN, { min: 0 });
    let error: InvalidOptionsError | undefined;
    try {
      v.throwIfInvalid();
    } catch (e) {
      error = e as InvalidOptionsError;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect(error).toBeInstanceOf(RangeError);
    expect(error?.issues.map((i) => i.path)).toEqual(['aMs', 'rate', 'count', 'fn', 'mode', 'obj', 'nan']);
    expect(error?.message).toContain('Invalid Thing options');
    expect(error?.message).toContain('mode: expected one of "a", "b", received "x"');
    expect(error?.message).toContain('obj: expected an object, received an array');
  });

  it('checks clocks, strings, booleans and required values, skipping undefined for the optional ones', () => {
    const v = new OptionsValidator('Thing');
    v.clock('clockA', {});
    v.clock('clockB', { now: () => 0 });
    v.clock('clockC', null);
    v.clock('okClock', { now: () => 0, schedule: () => ({ cancel: () => {} }) });
    v.clock('skippedClock', undefined);
    v.string('name', 42);
    v.string('okName', 'x');
    v.string('skippedName', undefined);
    v.boolean('flag', 'yes');
    v.boolean('okFlag', false);
    v.boolean('skippedFlag', undefined);
    expect(v.required('missing', undefined, 'a number > 0')).toBe(false);
    expect(v.required('present', 0, 'a number > 0')).toBe(true);
    expect(v.required('nullIsPresent', null, 'an object')).toBe(true);
    let error: InvalidOptionsError | undefined;
    try {
      v.throwIfInvalid();
    } catch (e) {
      error = e as InvalidOptionsError;
    }
    expect(error?.issues.map((i) => `${i.path}: ${i.expected}`)).toEqual([
      'clockA: a Clock with now() and schedule()',
      'clockB: a Clock with now() and schedule()',
      'clockC: a Clock with now() and schedule()',
      'name: a string',
      'flag: a boolean',
      'missing: a number > 0',
    ]);
    expect(error?.message).toContain('missing: expected a number > 0, received undefined');
  });

  it('passes valid input', () => {
    const v = new OptionsValidator('Thing');
    v.duration('aMs', 0);
    v.rate('rate', 1);
    expect(() => v.throwIfInvalid()).not.toThrow();
  });
});
