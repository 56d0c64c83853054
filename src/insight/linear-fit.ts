/**
 * Ordinary least-squares fit of a straight line `y = intercept + slope · x` over a set of points, with
 * what a prediction needs: the means (the line passes through them), the sums of squares, R² and the
 * residual standard error. Computed in two passes around the means, so large `x` values (epoch
 * milliseconds) lose no precision.
 */
export interface LineFit {
  /** Number of points fitted. */
  n: number;
  /** Change of `y` per unit of `x`. */
  slope: number;
  /** Mean of `x`. */
  xMean: number;
  /** Mean of `y`. */
  yMean: number;
  /** Σ(x − x̄)². */
  sxx: number;
  /** Σ(y − ȳ)². */
  syy: number;
  /** Residual sum of squares Σ(y − ŷ)². */
  ssRes: number;
  /**
   * Coefficient of determination `1 − ssRes / syy`, in 0..1; `1` when the residuals are all zero (a
   * perfect fit, a constant series included).
   */
  rSquared: number;
  /** Residual standard error `√(ssRes / (n − 2))`; `0` when n <= 2. */
  residualStdError: number;
}

/**
 * Fits a line to the first `count` points of `xs` / `ys`, skipping points whose `x` is below `minX`. The
 * order of the points does not matter, so a ring buffer can be passed as it is.
 *
 * @returns the fit, or `undefined` when fewer than 2 points remain or all have the same `x`.
 */
export function fitLine(xs: ArrayLike<number>, ys: ArrayLike<number>, count: number, minX = -Infinity): LineFit | undefined {
  let n = 0;
  let sumX = 0;
  let sumY = 0;
  for (let i = 0; i < count; i++) {
    const x = xs[i] as number;
    if (x < minX) continue;
    n++;
    sumX += x;
    sumY += ys[i] as number;
  }
  if (n < 2) return undefined;
  const xMean = sumX / n;
  const yMean = sumY / n;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < count; i++) {
    const x = xs[i] as number;
    if (x < minX) continue;
    const dx = x - xMean;
    const dy = (ys[i] as number) - yMean;
    sxx += dx * dx;
    syy += dy * dy;
    sxy += dx * dy;
  }
  if (sxx === 0) return undefined;
  const slope = sxy / sxx;
  let ssRes = 0;
  for (let i = 0; i < count; i++) {
    const x = xs[i] as number;
    if (x < minX) continue;
    const r = (ys[i] as number) - (yMean + slope * (x - xMean));
    ssRes += r * r;
  }
  // Rounding can leave a tiny positive residual on a perfect line; treat one below 1e-12 of the spread as zero.
  if (ssRes <= 1e-12 * syy) ssRes = 0;
  const rSquared = ssRes === 0 ? 1 : Math.min(1, Math.max(0, 1 - ssRes / syy));
  const residualStdError = n > 2 ? Math.sqrt(ssRes / (n - 2)) : 0;
  return { n, slope, xMean, yMean, sxx, syy, ssRes, rSquared, residualStdError };
}

/** The fitted value of `fit` at `x`. */
export function valueAt(fit: LineFit, x: number): number {
  return fit.yMean + fit.slope * (x - fit.xMean);
}

/**
 * Standard error of a new observation predicted at `x` (the width unit of the prediction interval):
 * `s · √(1 + 1/n + (x − x̄)² / Sxx)`, where `s` is the residual standard error.
 */
export function predictionStdError(fit: LineFit, x: number): number {
  const dx = x - fit.xMean;
  return fit.residualStdError * Math.sqrt(1 + 1 / fit.n + (dx * dx) / fit.sxx);
}
