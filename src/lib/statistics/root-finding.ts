/** R's uniroot() default tolerance, .Machine$double.eps^0.25. */
export const UNIROOT_TOLERANCE = Number.EPSILON ** 0.25;

/**
 * Brent's root finder exactly as R's uniroot() runs it (R_zeroin2 in src/library/stats/src/zeroin.c:
 * the same steps, tests and tolerance), so that results computed through uniroot in R — fisher.test's
 * conditional odds ratio and its interval, converged only to ~1e-4 — are reproduced to the last digits
 * rather than to uniroot's tolerance. f(lower) and f(upper) must differ in sign.
 */
export function uniroot(
  f: (x: number) => number,
  lower: number,
  upper: number,
  tolerance = UNIROOT_TOLERANCE,
  maxIterations = 1000,
): number {
  let a = lower;
  let b = upper;
  let fa = f(a);
  let fb = f(b);
  if (fa * fb > 0) throw new Error('uniroot: f() values at the end points have the same sign');
  let c = a;
  let fc = fa;
  if (fa === 0) return a;
  if (fb === 0) return b;
  for (let iteration = 0; iteration <= maxIterations; iteration++) {
    const previousStep = b - a;
    if (Math.abs(fc) < Math.abs(fb)) {
      a = b;
      b = c;
      c = a;
      fa = fb;
      fb = fc;
      fc = fa;
    }
    const toleranceNow = 2 * Number.EPSILON * Math.abs(b) + tolerance / 2;
    let newStep = (c - b) / 2;
    if (Math.abs(newStep) <= toleranceNow || fb === 0) return b;
    if (Math.abs(previousStep) >= toleranceNow && Math.abs(fa) > Math.abs(fb)) {
      let p: number;
      let q: number;
      const cb = c - b;
      if (a === c) {
        const t1 = fb / fa;
        p = cb * t1;
        q = 1 - t1;
      } else {
        const qa = fa / fc;
        const t1 = fb / fc;
        const t2 = fb / fa;
        p = t2 * (cb * qa * (qa - t1) - (b - a) * (t1 - 1));
        q = (qa - 1) * (t1 - 1) * (t2 - 1);
      }
      if (p > 0) q = -q;
      else p = -p;
      if (p < 0.75 * cb * q - Math.abs(toleranceNow * q) / 2 && p < Math.abs((previousStep * q) / 2)) newStep = p / q;
    }
    if (Math.abs(newStep) < toleranceNow) newStep = newStep > 0 ? toleranceNow : -toleranceNow;
    a = b;
    fa = fb;
    b += newStep;
    fb = f(b);
    if ((fb > 0 && fc > 0) || (fb < 0 && fc < 0)) {
      c = a;
      fc = fa;
    }
  }
  return b;
}
