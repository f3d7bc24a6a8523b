/** Public API of the statistics library: pure functions, validated against R (see docs/statistics.md). */
export { StatisticsInputError } from './statistics-input-error';
export { describe, mean, median, quantile, standardDeviation, variance, type Descriptives } from './descriptives';
export {
  hedgesG,
  tTest,
  type Alternative,
  type ConfidenceInterval,
  type GroupInput,
  type SummaryStatistics,
  type TTestOptions,
  type TTestResult,
} from './t-test';
export {
  chiSquareTest,
  FISHER_MAX_SEARCH_STEPS,
  fisherExactTest,
  type ChiSquareOptions,
  type ChiSquareResult,
  type ContingencyTable,
  type FisherOptions,
  type FisherResult,
} from './contingency';
export { RANK_SUM_EXACT_LIMIT, rankSumCounts, rankSumTest, type RankSumOptions, type RankSumResult } from './rank-sum';
export { categoricalSmd, numericSmd, type NumericGroup } from './standardized-mean-difference';
export {
  dt,
  gammaFunction,
  logBeta,
  logGamma,
  logHypergeometricDensity,
  pbeta,
  pchisq,
  pnorm,
  pt,
  qnorm,
  qt,
} from './distributions';
export {
  agreement,
  type AgreementInput,
  type AgreementResult,
  type Category,
  type CohensKappa,
  type CohensKappaEstimate,
  type FleissKappa,
  type KrippendorffAlpha,
  type MeasurementLevel,
  type PercentAgreement,
  type Rating,
} from './agreement';
