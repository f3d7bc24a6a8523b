import { mean, variance } from './descriptives';
import { pt, qt } from './distributions';
import { MAX_MAGNITUDE } from './design-matrix';
import { StatisticsInputError } from './statistics-input-error';

export interface PoolOptions {
  /** Sample size of the complete-data analysis; Infinity (default) gives the large-sample df. */
  n?: number;
  /** Number of parameters of the complete-data model; complete-data df = n − k. Default 1. */
  k?: number;
  confidenceLevel?: number;
}

export interface PooledEstimate {
  m: number;
  estimate: number;
  withinVariance: number;
  betweenVariance: number;
  totalVariance: number;
  /** (1 + 1/m) B / Ū. */
  relativeIncreaseInVariance: number;
  /** Barnard–Rubin (1999) degrees of freedom. */
  df: number;
  fractionMissingInformation: number;
  se: number;
  t: number;
  p: number;
  ciLower: number;
  ciUpper: number;
}

/**
 * Rubin's rules for a scalar estimated in m imputed datasets, as mice::pool.scalar(Q, U, n, k)
 * (rule "rubin1987"): Q̄ = mean Q, Ū = mean U, B = var Q, T = Ū + (1 + 1/m) B, r = (1 + 1/m) B / Ū,
 * Barnard–Rubin df with λ = (1 + 1/m) B / T floored at 1e-4 as mice does, FMI = (r + 2/(df + 3)) / (r + 1);
 * the interval and p use t with those df, as mice's summary of pooled fits.
 */
export function poolScalar(
  estimates: readonly number[],
  variances: readonly number[],
  options: PoolOptions = {},
): PooledEstimate {
  const n = options.n ?? Infinity;
  const k = options.k ?? 1;
  const confidenceLevel = options.confidenceLevel ?? 0.95;
  if (!(confidenceLevel > 0 && confidenceLevel < 1))
    throw new StatisticsInputError('/confidenceLevel', 'must be strictly between 0 and 1');
  if (estimates.length < 2) throw new StatisticsInputError('/estimates', 'needs at least 2 imputations');
  if (variances.length !== estimates.length)
    throw new StatisticsInputError('/variances', `must have one variance per estimate (${estimates.length})`);
  estimates.forEach((value, i) => {
    if (!(Number.isFinite(value) && Math.abs(value) <= MAX_MAGNITUDE))
      throw new StatisticsInputError(
        `/estimates/${i}`,
        `must be a finite number of magnitude at most ${MAX_MAGNITUDE}`,
      );
  });
  variances.forEach((value, i) => {
    if (!(value > 0 && value <= MAX_MAGNITUDE))
      throw new StatisticsInputError(`/variances/${i}`, `must be positive and at most ${MAX_MAGNITUDE}`);
  });
  if (!(n === Infinity || (Number.isInteger(n) && n > 0)))
    throw new StatisticsInputError('/n', 'must be a positive integer');
  if (!(Number.isInteger(k) && k >= 0)) throw new StatisticsInputError('/k', 'must be a non-negative integer');
  const completeDf = n - k;
  if (!(completeDf > 0))
    throw new StatisticsInputError('/k', `must be below n (${n}): the complete-data df n − k must be positive`);

  const m = estimates.length;
  const estimate = mean(estimates);
  const withinVariance = mean(variances);
  const betweenVariance = variance(estimates);
  const totalVariance = withinVariance + ((m + 1) * betweenVariance) / m;
  const df = barnardRubinDf(m, betweenVariance, totalVariance, completeDf);
  const relativeIncreaseInVariance = ((1 + 1 / m) * betweenVariance) / withinVariance;
  const fractionMissingInformation = (relativeIncreaseInVariance + 2 / (df + 3)) / (relativeIncreaseInVariance + 1);
  const se = Math.sqrt(totalVariance);
  const t = estimate / se;
  let critical: number;
  let p: number;
  try {
    critical = qt(1 - (1 - confidenceLevel) / 2, df);
    p = 2 * pt(-Math.abs(t), df);
  } catch (error) {
    // With a complete-data df near zero the Barnard–Rubin df can fall to ~1e-12, where the t distribution's
    // series do not converge in double precision: refused with the cause rather than answered wrongly.
    if (!(error instanceof RangeError)) throw error;
    throw new StatisticsInputError(
      '/n',
      `gives ${df.toPrecision(3)} Barnard–Rubin degrees of freedom, too few for a t interval and p-value`,
    );
  }
  return {
    m,
    estimate,
    withinVariance,
    betweenVariance,
    totalVariance,
    relativeIncreaseInVariance,
    df,
    fractionMissingInformation,
    se,
    t,
    p,
    ciLower: estimate - critical * se,
    ciUpper: estimate + critical * se,
  };
}

/** mice:::barnard.rubin: the small-sample df of Barnard & Rubin (1999). */
function barnardRubinDf(m: number, between: number, total: number, completeDf: number): number {
  const lambda = Math.max(((1 + 1 / m) * between) / total, 1e-4);
  const dfOld = (m - 1) / lambda ** 2;
  if (completeDf === Infinity) return dfOld;
  const dfObserved = ((completeDf + 1) / (completeDf + 3)) * completeDf * (1 - lambda);
  return (dfOld * dfObserved) / (dfOld + dfObserved);
}
