import { describe, expect, it } from 'vitest';
import { normalCdf, studentTCdf } from '../../src/insight/student-t.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

// Closed forms: df = 1 is the Cauchy distribution, df = 2 and df = 3 have elementary CDFs.
const cauchy = (t: number): number => 0.5 + Math.atan(t) / Math.PI;
const df2 = (t: number): number => 0.5 + t / (2 * Math.sqrt(2 + t * t));
const df3 = (t: number): number => 0.5 + (t / (Math.sqrt(3) * (1 + (t * t) / 3)) + Math.atan(t / Math.sqrt(3))) / Math.PI;

describe('studentTCdf', () => {
  it('matches the closed forms for 1, 2 and 3 degrees of freedom', () => {
    for (const t of [-40, -5, -2.5, -1, -0.3, 0, 0.3, 1, 2.5, 5, 40]) {
      expect(studentTCdf(t, 1)).toBeCloseTo(cauchy(t), 10);
      expect(studentTCdf(t, 2)).toBeCloseTo(df2(t), 10);
      expect(studentTCdf(t, 3)).toBeCloseTo(df3(t), 10);
    }
  });

  it('matches table quantiles and tends to the normal distribution', () => {
    expect(studentTCdf(2.228138851986274, 10)).toBeCloseTo(0.975, 9);
    expect(studentTCdf(12.706204736174707, 1)).toBeCloseTo(0.975, 9);
    expect(studentTCdf(-2.0422724563012378, 30)).toBeCloseTo(0.025, 9);
    expect(studentTCdf(1.959963984540054, Infinity)).toBeCloseTo(0.975, 12);
    expect(studentTCdf(1.959963984540054, 1e7)).toBeCloseTo(0.975, 6);
  });

  it('handles infinities, NaN and a bad df', () => {
    expect(studentTCdf(Infinity, 4)).toBe(1);
    expect(studentTCdf(-Infinity, 4)).toBe(0);
    expect(studentTCdf(Number.NaN, 4)).toBeNaN();
    expect(() => studentTCdf(1, 0)).toThrow(RangeError);
  });
});

describe('normalCdf', () => {
  it('matches known values on both sides of the series/continued-fraction switch', () => {
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(1)).toBeCloseTo(0.8413447460685429, 13);
    expect(normalCdf(-3)).toBeCloseTo(0.0013498980316300933, 15);
    expect(normalCdf(2.8284271247461903)).toBeCloseTo(0.9976611325094764, 13);
    expect(normalCdf(-6) / 9.865876450376946e-10).toBeCloseTo(1, 10);
  });
});
