import { mean } from './descriptives';
import { buildDesignMatrix, type CovariateSpec, type LevelWeights, type ModelRow } from './design-matrix';
import { pt, qt } from './distributions';
import { explainRankDeficiency, leastSquares } from './linear-model';
import { CompensatedSum } from './compensated-sum';
import { StatisticsInputError } from './statistics-input-error';

export interface AncovaOptions {
  covariates?: readonly CovariateSpec[];
  /** How least-squares means average over category covariates; emmeans' default 'equal'. */
  weights?: LevelWeights;
  confidenceLevel?: number;
}

export interface Coefficient {
  term: string;
  estimate: number;
  se: number;
  t: number;
  p: number;
}

export interface LeastSquaresMean {
  group: string;
  n: number;
  lsMean: number;
  se: number;
  df: number;
  ciLower: number;
  ciUpper: number;
}

export interface GroupDifference {
  /** The group compared with the reference (estimate = group − reference). */
  group: string;
  estimate: number;
  se: number;
  df: number;
  t: number;
  p: number;
  ciLower: number;
  ciUpper: number;
}

export interface AncovaResult {
  n: number;
  residualDf: number;
  sigma: number;
  rSquared: number;
  confidenceLevel: number;
  weights: LevelWeights;
  coefficients: Coefficient[];
  groups: LeastSquaresMean[];
  differences: GroupDifference[];
}

/**
 * Analysis of covariance `outcome ~ group + covariates` by least squares (Householder QR), as R's
 * lm(), with least-squares means as emmeans(fit, "group", weights) computes them: numeric
 * covariates at their mean over the rows, category covariates averaged over their levels with
 * equal weights or in proportion to their frequencies; differences are group − reference with the
 * residual df (emmeans' contrast(method = "trt.vs.ctrl", adjust = "none")).
 */
export function ancova(rows: readonly ModelRow[], reference: string, options: AncovaOptions = {}): AncovaResult {
  const confidenceLevel = options.confidenceLevel ?? 0.95;
  if (!(confidenceLevel > 0 && confidenceLevel < 1))
    throw new StatisticsInputError('/confidenceLevel', 'must be strictly between 0 and 1');
  const weights = options.weights ?? 'equal';
  const design = buildDesignMatrix(rows, reference, options.covariates ?? []);
  const p = design.terms.length;
  if (rows.length <= p) {
    throw new StatisticsInputError(
      '/rows',
      `${rows.length} rows cannot estimate ${p} coefficients and a residual variance; at least ${p + 1} are needed`,
    );
  }
  // The columns and the outcome are centred before the QR: the same model with a better-conditioned
  // design. With outcome and baseline near 1e6, the uncentred fit (R's lm) loses ~1e-11 in t. A linear
  // function l'β of the original coefficients is l_c'β_c + l_0 ȳ with l_c = (l_0, l_j − l_0 m_j): for
  // least-squares means the numeric covariates' entries vanish exactly.
  const centres = design.terms.map((_, j) => (j === 0 ? 0 : mean(design.x.map((row) => row[j]!))));
  const centred = design.x.map((row) => row.map((value, j) => (j === 0 ? value : value - centres[j]!)));
  const toCentred = (l: readonly number[]) => l.map((value, j) => (j === 0 ? value : value - l[0]! * centres[j]!));
  const outcomeMean = mean(design.y);
  const fit = explainRankDeficiency(design.terms, design.termPointers, () =>
    leastSquares(
      centred,
      design.y.map((value) => value - outcomeMean),
    ),
  );
  const df = fit.residualDf;
  const sigma = Math.sqrt(fit.residualSumOfSquares / df);
  if (!(sigma > 0)) throw new StatisticsInputError('/rows', 'the model fits the outcome exactly (residual variance 0)');
  const critical = qt(1 - (1 - confidenceLevel) / 2, df);
  const standardError = (l: readonly number[]) => sigma * Math.sqrt(fit.qr.quadraticForm(toCentred(l)));
  const estimateOf = (l: readonly number[]) => dot([...toCentred(l), l[0]!], [...fit.coefficients, outcomeMean]);
  const twoSidedP = (t: number) => 2 * pt(-Math.abs(t), df);

  const coefficients = design.terms.map((term, j) => {
    const unit = design.terms.map((_, k) => (k === j ? 1 : 0));
    const se = standardError(unit);
    const estimate = estimateOf(unit);
    return { term, estimate, se, t: estimate / se, p: twoSidedP(estimate / se) };
  });

  const referenceRows = design.referenceRows(weights);
  const groups = design.groups.map((group, g) => {
    const l = referenceRows[g]!;
    const lsMean = estimateOf(l);
    const se = standardError(l);
    return {
      group,
      n: design.groupSizes[g]!,
      lsMean,
      se,
      df,
      ciLower: lsMean - critical * se,
      ciUpper: lsMean + critical * se,
    };
  });

  const differences = design.groups.slice(1).map((group, index) => {
    const l = referenceRows[index + 1]!.map((value, k) => value - referenceRows[0]![k]!);
    const estimate = estimateOf(l);
    const se = standardError(l);
    const t = estimate / se;
    return {
      group,
      estimate,
      se,
      df,
      t,
      p: twoSidedP(t),
      ciLower: estimate - critical * se,
      ciUpper: estimate + critical * se,
    };
  });

  // R's summary.lm: R² = MSS / (MSS + RSS), MSS about the mean of the fitted values.
  const fittedMean = mean(fit.fitted);
  const modelSquares = new CompensatedSum();
  for (const value of fit.fitted) modelSquares.add((value - fittedMean) ** 2);
  const rSquared = modelSquares.value / (modelSquares.value + fit.residualSumOfSquares);

  return {
    n: rows.length,
    residualDf: df,
    sigma,
    rSquared,
    confidenceLevel,
    weights,
    coefficients,
    groups,
    differences,
  };
}

function dot(a: readonly number[], b: readonly number[]): number {
  const sum = new CompensatedSum();
  a.forEach((value, i) => sum.add(value * b[i]!));
  return sum.value;
}
