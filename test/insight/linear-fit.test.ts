import { describe, expect, it } from 'vitest';
import { fitLine, predictionStdError, valueAt } from '../../src/insight/linear-fit.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

describe('fitLine', () => {
  it('recovers an exact line at epoch-sized x without losing precision', () => {
    const t0 = 1_700_000_000_000;
    const xs = [0, 1, 2, 3, 4].map((i) => t0 + i * 1_000);
    const ys = [5, 7, 9, 11, 13];
    const fit = fitLine(xs, ys, xs.length);
    expect(fit).toBeDefined();
    expect(fit?.slope).toBeCloseTo(0.002, 15);
    expect(valueAt(fit!, t0 + 10_000)).toBeCloseTo(25, 9);
    expect(fit?.rSquared).toBe(1);
    expect(fit?.residualStdError).toBe(0);
  });

  it('computes R², the residual error and the prediction error of a textbook example', () => {
    // x = 1..5, y = 2, 4, 5, 4, 5: slope 0.6, intercept 2.2, SSres 2.4, SStot 6, R² 0.6.
    const fit = fitLine([1, 2, 3, 4, 5], [2, 4, 5, 4, 5], 5)!;
    expect(fit.slope).toBeCloseTo(0.6, 12);
    expect(valueAt(fit, 0)).toBeCloseTo(2.2, 12);
    expect(fit.ssRes).toBeCloseTo(2.4, 12);
    expect(fit.rSquared).toBeCloseTo(0.6, 12);
    expect(fit.residualStdError).toBeCloseTo(Math.sqrt(0.8), 12);
    // s·√(1 + 1/5 + (6 − 3)²/10)
    expect(predictionStdError(fit, 6)).toBeCloseTo(Math.sqrt(0.8) * Math.sqrt(1 + 0.2 + 0.9), 12);
  });

  it('skips points below minX, ignores order, and refuses degenerate input', () => {
    const fit = fitLine([30, 10, 20, -5], [3, 1, 2, 100], 4, 0)!;
    expect(fit.n).toBe(3);
    expect(fit.slope).toBeCloseTo(0.1, 12);
    expect(fitLine([1], [1], 1)).toBeUndefined();
    expect(fitLine([2, 2, 2], [1, 2, 3], 3)).toBeUndefined();
    const flat = fitLine([1, 2, 3], [4, 4, 4], 3)!;
    expect(flat.slope).toBe(0);
    expect(flat.rSquared).toBe(1);
  });
});
