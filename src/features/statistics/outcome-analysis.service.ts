import type { components } from '../../generated/openapi';
import { ancova } from '../../lib/statistics/ancova';
import { binaryCounts } from '../../lib/statistics/binary';
import { logisticRegression } from '../../lib/statistics/logistic';
import { mixedModel } from '../../lib/statistics/mixed-model';
import { poolScalar } from '../../lib/statistics/rubin';
import { StatisticsInputError } from '../../lib/statistics/statistics-input-error';
import { refusingAsValidation } from './statistics.service';

type AncovaInput = components['schemas']['AncovaInput'];
type AncovaResult = components['schemas']['AncovaResult'];
type BinaryAnalysisInput = components['schemas']['BinaryAnalysisInput'];
type BinaryAnalysisResult = components['schemas']['BinaryAnalysisResult'];
type MixedModelInput = components['schemas']['MixedModelInput'];
type MixedModelResult = components['schemas']['MixedModelResult'];
type PoolInput = components['schemas']['PoolInput'];
type PoolResult = components['schemas']['PoolResult'];

/** The library's pointers already name request fields for the model endpoints. */
const SAME_POINTERS = { '': '' };

export function runAncova(input: AncovaInput): AncovaResult {
  const result = refusingAsValidation(
    () =>
      ancova(input.rows, input.reference, {
        covariates: input.covariates ?? [],
        weights: input.weights ?? 'equal',
        confidenceLevel: input.confidenceLevel ?? 0.95,
      }),
    SAME_POINTERS,
  );
  return {
    n: result.n,
    reference: input.reference,
    residualDf: result.residualDf,
    sigma: result.sigma,
    rSquared: result.rSquared,
    weights: result.weights,
    confidenceLevel: result.confidenceLevel,
    coefficients: result.coefficients,
    groups: result.groups,
    differences: result.differences,
  };
}

/** JSON has no infinity: the exact odds ratio's unbounded values are sent as null (documented in the contract). */
const finiteOrNull = (value: number) => (Number.isFinite(value) ? value : null);

export function runBinaryAnalysis(input: BinaryAnalysisInput): BinaryAnalysisResult {
  const confidenceLevel = input.confidenceLevel ?? 0.95;
  if ('rows' in input) {
    const result = refusingAsValidation(
      () => logisticRegression(input.rows, input.reference, { covariates: input.covariates ?? [], confidenceLevel }),
      SAME_POINTERS,
    );
    return { method: 'logistic', reference: input.reference, ...result };
  }
  const referenceIndex = refusingAsValidation(() => {
    if (input.groups[0]!.label === input.groups[1]!.label)
      throw new StatisticsInputError('/groups/1/label', 'must differ from the first group’s label');
    const index = input.groups.findIndex((group) => group.label === input.reference);
    if (index < 0) throw new StatisticsInputError('/reference', 'must be the label of one of the two groups');
    return index;
  }, SAME_POINTERS);
  const groupIndex = 1 - referenceIndex;
  const result = refusingAsValidation(
    () => binaryCounts(input.groups[groupIndex]!, input.groups[referenceIndex]!, confidenceLevel),
    { '/group': `/groups/${groupIndex}`, '/reference': `/groups/${referenceIndex}`, '': '' },
  );
  return {
    method: 'counts',
    confidenceLevel,
    group: result.group,
    reference: result.reference,
    riskDifference: result.riskDifference,
    riskRatio: result.riskRatio,
    oddsRatio: result.oddsRatio,
    exactOddsRatio: {
      estimate: finiteOrNull(result.fisher.estimate),
      ciLower: result.fisher.ciLower,
      ciUpper: finiteOrNull(result.fisher.ciUpper),
      p: result.fisher.p,
    },
  };
}

export function poolImputations(input: PoolInput): PoolResult {
  const confidenceLevel = input.confidenceLevel ?? 0.95;
  const result = refusingAsValidation(
    () => poolScalar(input.estimates, input.variances, { n: input.n ?? Infinity, k: input.k ?? 1, confidenceLevel }),
    SAME_POINTERS,
  );
  return { ...result, confidenceLevel };
}

export function runMixedModel(input: MixedModelInput): MixedModelResult {
  const confidenceLevel = input.confidenceLevel ?? 0.95;
  const result = refusingAsValidation(
    () =>
      mixedModel({
        rows: input.rows,
        reference: input.reference,
        visits: input.visits,
        covariates: input.covariates ?? [],
        covariance: input.covariance ?? 'unstructured',
        method: input.method ?? 'reml',
        confidenceLevel,
      }),
    SAME_POINTERS,
  );
  return {
    method: result.method,
    covariance: result.covariance,
    confidenceLevel,
    subjects: result.subjects,
    observations: result.observations,
    fixedEffects: result.fixedEffects,
    covarianceMatrix: result.covarianceMatrix,
    logLik: result.logLik,
    aic: result.aic,
    parameters: result.parameters,
    lsMeans: result.lsMeans,
    differences: result.differences,
  };
}
