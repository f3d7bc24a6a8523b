import { CompensatedSum } from './compensated-sum';
import { buildDesignMatrix, type CovariateSpec, type ModelRow } from './design-matrix';
import { pnorm, qnorm } from './distributions';
import { explainRankDeficiency, QrDecomposition, RankDeficiencyError } from './linear-model';
import { StatisticsInputError } from './statistics-input-error';

export interface LogisticOptions {
  covariates?: readonly CovariateSpec[];
  confidenceLevel?: number;
}

export interface LogisticCoefficient {
  term: string;
  estimate: number;
  se: number;
  z: number;
  p: number;
  ciLower: number;
  ciUpper: number;
}

export interface AdjustedOddsRatio {
  group: string;
  oddsRatio: number;
  ciLower: number;
  ciUpper: number;
  p: number;
}

export interface LogisticResult {
  n: number;
  confidenceLevel: number;
  iterations: number;
  deviance: number;
  nullDeviance: number;
  aic: number;
  residualDf: number;
  coefficients: LogisticCoefficient[];
  /** exp(coefficient of each group) with its Wald interval: the odds ratio versus the reference, adjusted. */
  adjustedOddsRatios: AdjustedOddsRatio[];
}

/** glm.control(epsilon) used by the reference fits; the deviance settles to this relative change. */
export const LOGISTIC_EPSILON = 1e-14;
export const LOGISTIC_MAX_ITERATIONS = 100;
/** R's glm.fit warns of fitted probabilities within this of 0 or 1 (10 × .Machine$double.eps). */
const BOUNDARY = 10 * Number.EPSILON;
/** R's binomial link functions clamp eta at ±30. */
const ETA_THRESHOLD = 30;

/**
 * Logistic regression `outcome ~ group + covariates` by iteratively reweighted least squares, step
 * for step as R's glm.fit with family = binomial: start at mu = (y + 0.5) / 2, weighted least squares
 * by Householder QR, stop when |dev − dev_old| / (|dev| + 0.1) < 1e-14; standard errors from the QR
 * of the last weighted fit (summary.glm), Wald intervals as confint.default.
 *
 * Separation (a group or covariate pattern that predicts the outcome perfectly) means the maximum-
 * likelihood estimate does not exist: the coefficients grow without bound while the deviance
 * creeps towards a limit. It is detected the way R warns of it — fitted probabilities within
 * 10 ε of 0 or 1, or no convergence in 100 iterations — and refused with an error naming the term
 * whose coefficient ran away, rather than returned as huge coefficients with huge standard errors.
 */
export function logisticRegression(
  rows: readonly ModelRow[],
  reference: string,
  options: LogisticOptions = {},
): LogisticResult {
  const confidenceLevel = options.confidenceLevel ?? 0.95;
  if (!(confidenceLevel > 0 && confidenceLevel < 1))
    throw new StatisticsInputError('/confidenceLevel', 'must be strictly between 0 and 1');
  rows.forEach((row, i) => {
    if (row.outcome !== 0 && row.outcome !== 1) throw new StatisticsInputError(`/rows/${i}/outcome`, 'must be 0 or 1');
  });
  const design = buildDesignMatrix(rows, reference, options.covariates ?? []);
  const p = design.terms.length;
  if (rows.length <= p)
    throw new StatisticsInputError(
      '/rows',
      `${rows.length} rows cannot estimate ${p} coefficients; at least ${p + 1} are needed`,
    );
  // Collinearity of the unweighted design, so that the error names the term.
  explainRankDeficiency(design.terms, design.termPointers, () => new QrDecomposition(design.x));

  const { x, y } = design;
  let eta = y.map((value) => Math.log((value + 0.5) / 2 / (1 - (value + 0.5) / 2)));
  let mu = eta.map(inverseLogit);
  let previousDeviance = deviance(y, mu);
  let coefficients: number[] = [];
  let qr: QrDecomposition | null = null;
  let converged = false;
  let iterations: number;
  for (iterations = 1; iterations <= LOGISTIC_MAX_ITERATIONS; iterations++) {
    const derivative = eta.map(logitDerivative);
    const weights = mu.map((value, i) => Math.sqrt(derivative[i]! ** 2 / (value * (1 - value))));
    const z = eta.map((value, i) => value + (y[i]! - mu[i]!) / derivative[i]!);
    try {
      qr = new QrDecomposition(x.map((row, i) => row.map((value) => value * weights[i]!)));
    } catch (error) {
      // The design has full rank (checked above), so the weights have collapsed: fitted probabilities at 0 or 1.
      if (!(error instanceof RankDeficiencyError)) throw error;
      break;
    }
    coefficients = qr.solveR(qr.qtY(z.map((value, i) => value * weights[i]!)));
    eta = x.map((row) => dot(row, coefficients));
    mu = eta.map(inverseLogit);
    const currentDeviance = deviance(y, mu);
    if (Math.abs(currentDeviance - previousDeviance) / (Math.abs(currentDeviance) + 0.1) < LOGISTIC_EPSILON) {
      converged = true;
      break;
    }
    previousDeviance = currentDeviance;
  }
  const boundary = mu.some((value) => value > 1 - BOUNDARY || value < BOUNDARY);
  if (!converged || boundary) {
    const runaway = largestStandardizedCoefficient(x, coefficients);
    throw new StatisticsInputError(
      design.termPointers[runaway]!,
      `the outcome is separated: ${boundary ? 'fitted probabilities reach 0 or 1' : 'the fit does not converge'} ` +
        `and the coefficient of '${design.terms[runaway]}' grows without bound, so its maximum-likelihood estimate ` +
        'does not exist (e.g. a group or covariate level in which every participant, or none, has the event); ' +
        'report the counts or use an exact or penalized method',
    );
  }

  const critical = qnorm(1 - (1 - confidenceLevel) / 2);
  const table = design.terms.map((term, j) => {
    const se = Math.sqrt(qr!.quadraticForm(design.terms.map((_, k) => (k === j ? 1 : 0))));
    const estimate = coefficients[j]!;
    const z = estimate / se;
    return {
      term,
      estimate,
      se,
      z,
      p: 2 * pnorm(-Math.abs(z)),
      ciLower: estimate - critical * se,
      ciUpper: estimate + critical * se,
    };
  });
  const events = y.reduce((total, value) => total + value, 0);
  const nullDeviance = deviance(
    y,
    y.map(() => events / y.length),
  );
  const finalDeviance = deviance(y, mu);
  return {
    n: rows.length,
    confidenceLevel,
    iterations,
    deviance: finalDeviance,
    nullDeviance,
    aic: finalDeviance + 2 * p,
    residualDf: rows.length - p,
    coefficients: table,
    adjustedOddsRatios: design.groups.slice(1).map((group, index) => {
      const row = table[index + 1]!;
      return {
        group,
        oddsRatio: Math.exp(row.estimate),
        ciLower: Math.exp(row.ciLower),
        ciUpper: Math.exp(row.ciUpper),
        p: row.p,
      };
    }),
  };
}

/** binomial()$linkinv in R's C code: eta clamped at ±30. */
function inverseLogit(eta: number): number {
  const odds = eta < -ETA_THRESHOLD ? Number.EPSILON : eta > ETA_THRESHOLD ? 1 / Number.EPSILON : Math.exp(eta);
  return odds / (1 + odds);
}

/** binomial()$mu.eta in R's C code. */
function logitDerivative(eta: number): number {
  if (eta > ETA_THRESHOLD || eta < -ETA_THRESHOLD) return Number.EPSILON;
  const odds = Math.exp(eta);
  return odds / ((1 + odds) * (1 + odds));
}

/** Binomial deviance, 2 Σ [y log(y/mu) + (1−y) log((1−y)/(1−mu))] for 0/1 outcomes. */
function deviance(y: readonly number[], mu: readonly number[]): number {
  const total = new CompensatedSum();
  y.forEach((value, i) => total.add(-2 * (value === 1 ? Math.log(mu[i]!) : Math.log(1 - mu[i]!))));
  return total.value;
}

function largestStandardizedCoefficient(x: readonly (readonly number[])[], coefficients: readonly number[]): number {
  let best = coefficients.length > 1 ? 1 : 0;
  let largest = -1;
  for (let j = 1; j < coefficients.length; j++) {
    const column = x.map((row) => row[j]!);
    const centre = column.reduce((s, v) => s + v, 0) / column.length;
    const spread = Math.sqrt(column.reduce((s, v) => s + (v - centre) ** 2, 0) / column.length);
    const size = Math.abs(coefficients[j]!) * spread;
    if (size > largest) {
      largest = size;
      best = j;
    }
  }
  return best;
}

function dot(a: readonly number[], b: readonly number[]): number {
  let total = 0;
  a.forEach((value, i) => (total += value * b[i]!));
  return total;
}
