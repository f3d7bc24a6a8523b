/**
 * Compares the outcome analyses (ANCOVA, binary outcomes, logistic regression, Rubin's rules) with
 * the R reference values in test/fixtures/r/{ancova,binary,pool}.json, written by
 * test/fixtures/r/generate-outcomes.R. Shared by the unit tests and scripts/accuracy-report.ts.
 */
import { ancova } from '../../src/lib/statistics/ancova';
import { binaryCounts, type BinaryGroup } from '../../src/lib/statistics/binary';
import type { CovariateSpec, LevelWeights, ModelRow } from '../../src/lib/statistics/design-matrix';
import { logisticRegression } from '../../src/lib/statistics/logistic';
import { poolScalar } from '../../src/lib/statistics/rubin';
import { type Comparison, type Fixture, loadFixture } from './r-reference';

/** Relative agreement promised for logistic regression (an iterative fit) — 1e-10 for the rest. */
export const LOGISTIC_RELATIVE_TOLERANCE = 1e-8;

export interface ModelInput {
  rows: ModelRow[];
  reference: string;
  covariates: CovariateSpec[];
  confidenceLevel: number;
}

export interface AncovaCase {
  name: string;
  input: ModelInput & { weights: LevelWeights };
  expected: {
    n: number;
    residualDf: number;
    sigma: number;
    rSquared: number;
    coefficients: { term: string; estimate: number; se: number; statistic: number; p: number }[];
    groups: { group: string; n: number; lsMean: number; se: number; df: number; ciLower: number; ciUpper: number }[];
    differences: {
      group: string;
      estimate: number;
      se: number;
      df: number;
      t: number;
      p: number;
      ciLower: number;
      ciUpper: number;
    }[];
  };
}

type Pair = [string, number | null, number | null];

function toComparisons(prefix: string, caseName: string, pairs: Pair[]): Comparison[] {
  return pairs.map(([field, actual, expected]) => ({ statistic: `${prefix}.${field}`, caseName, actual, expected }));
}

/** Pairs of each expected row with the actual row of the same key, failing loudly when one is missing. */
function matchRows<E, A>(expected: E[], actual: A[], key: (row: E | A) => string, caseName: string): [E, A][] {
  return expected.map((row) => {
    const match = actual.find((candidate) => key(candidate) === key(row));
    if (!match) throw new Error(`${caseName}: no row '${key(row)}' in the result`);
    return [row, match];
  });
}

export function runAncovaCase(c: AncovaCase) {
  return ancova(c.input.rows, c.input.reference, {
    covariates: c.input.covariates,
    weights: c.input.weights,
    confidenceLevel: c.input.confidenceLevel,
  });
}

export function ancovaComparisons(): Comparison[] {
  return loadFixture<Fixture<AncovaCase>>('ancova').cases.flatMap((c) => {
    const actual = runAncovaCase(c);
    const e = c.expected;
    const pairs: Pair[] = [
      ['n', actual.n, e.n],
      ['residualDf', actual.residualDf, e.residualDf],
      ['sigma', actual.sigma, e.sigma],
      ['rSquared', actual.rSquared, e.rSquared],
    ];
    if (actual.coefficients.length !== e.coefficients.length) throw new Error(`${c.name}: coefficient count differs`);
    for (const [x, a] of matchRows(e.coefficients, actual.coefficients, (row) => row.term, c.name)) {
      pairs.push(['coefficient.estimate', a.estimate, x.estimate]);
      pairs.push(['coefficient.se', a.se, x.se]);
      pairs.push(['coefficient.t', a.t, x.statistic]);
      pairs.push(['coefficient.p', a.p, x.p]);
    }
    for (const [x, a] of matchRows(e.groups, actual.groups, (row) => row.group, c.name)) {
      pairs.push(['group.n', a.n, x.n]);
      pairs.push(['group.lsMean', a.lsMean, x.lsMean]);
      pairs.push(['group.se', a.se, x.se]);
      pairs.push(['group.df', a.df, x.df]);
      pairs.push(['group.ciLower', a.ciLower, x.ciLower]);
      pairs.push(['group.ciUpper', a.ciUpper, x.ciUpper]);
    }
    for (const [x, a] of matchRows(e.differences, actual.differences, (row) => row.group, c.name)) {
      pairs.push(['difference.estimate', a.estimate, x.estimate]);
      pairs.push(['difference.se', a.se, x.se]);
      pairs.push(['difference.df', a.df, x.df]);
      pairs.push(['difference.t', a.t, x.t]);
      pairs.push(['difference.p', a.p, x.p]);
      pairs.push(['difference.ciLower', a.ciLower, x.ciLower]);
      pairs.push(['difference.ciUpper', a.ciUpper, x.ciUpper]);
    }
    return toComparisons('ancova', c.name, pairs);
  });
}

interface Measure {
  estimate: number | null;
  ciLower: number | null;
  ciUpper: number | null;
}

export interface CountsCase {
  name: string;
  input: { groups: [BinaryGroup, BinaryGroup]; reference: string; confidenceLevel: number };
  expected: {
    riskDifference: Measure & { se: number };
    riskRatio: Measure & { logSe: number | null };
    oddsRatio: Measure & { logSe: number | null };
    fisher: { oddsRatio: number; ciLower: number; ciUpper: number; p: number };
  };
}

export interface LogisticCase {
  name: string;
  input: ModelInput;
  rWarnings: string[];
  expected: {
    n: number;
    converged: boolean;
    deviance: number;
    nullDeviance: number;
    aic: number;
    residualDf: number;
    coefficients: {
      term: string;
      estimate: number;
      se: number;
      z: number;
      p: number;
      ciLower: number;
      ciUpper: number;
    }[];
  };
}

export interface BinaryFixture {
  rVersion: string;
  counts: CountsCase[];
  logistic: LogisticCase[];
  separation: LogisticCase[];
}

export function runCountsCase(c: CountsCase) {
  const [group, reference] = c.input.groups;
  return binaryCounts(group, reference, c.input.confidenceLevel);
}

export function binaryCountsComparisons(): Comparison[] {
  return loadFixture<BinaryFixture>('binary').counts.flatMap((c) => {
    const a = runCountsCase(c);
    const e = c.expected;
    return toComparisons('binary', c.name, [
      ['riskDifference.estimate', a.riskDifference.estimate, e.riskDifference.estimate],
      ['riskDifference.se', a.riskDifference.se, e.riskDifference.se],
      ['riskDifference.ciLower', a.riskDifference.ciLower, e.riskDifference.ciLower],
      ['riskDifference.ciUpper', a.riskDifference.ciUpper, e.riskDifference.ciUpper],
      ['riskRatio.estimate', a.riskRatio.estimate, e.riskRatio.estimate],
      ['riskRatio.logSe', a.riskRatio.se, e.riskRatio.logSe],
      ['riskRatio.ciLower', a.riskRatio.ciLower, e.riskRatio.ciLower],
      ['riskRatio.ciUpper', a.riskRatio.ciUpper, e.riskRatio.ciUpper],
      ['oddsRatio.estimate', a.oddsRatio.estimate, e.oddsRatio.estimate],
      ['oddsRatio.logSe', a.oddsRatio.se, e.oddsRatio.logSe],
      ['oddsRatio.ciLower', a.oddsRatio.ciLower, e.oddsRatio.ciLower],
      ['oddsRatio.ciUpper', a.oddsRatio.ciUpper, e.oddsRatio.ciUpper],
      ['fisher.oddsRatio', a.fisher.estimate, e.fisher.oddsRatio],
      ['fisher.ciLower', a.fisher.ciLower, e.fisher.ciLower],
      ['fisher.ciUpper', a.fisher.ciUpper, e.fisher.ciUpper],
      ['fisher.p', a.fisher.p, e.fisher.p],
    ]);
  });
}

export function runLogisticCase(c: LogisticCase) {
  return logisticRegression(c.input.rows, c.input.reference, {
    covariates: c.input.covariates,
    confidenceLevel: c.input.confidenceLevel,
  });
}

export function logisticComparisons(): Comparison[] {
  return loadFixture<BinaryFixture>('binary').logistic.flatMap((c) => {
    const actual = runLogisticCase(c);
    const e = c.expected;
    const pairs: Pair[] = [
      ['n', actual.n, e.n],
      ['deviance', actual.deviance, e.deviance],
      ['nullDeviance', actual.nullDeviance, e.nullDeviance],
      ['aic', actual.aic, e.aic],
      ['residualDf', actual.residualDf, e.residualDf],
    ];
    if (actual.coefficients.length !== e.coefficients.length) throw new Error(`${c.name}: coefficient count differs`);
    for (const [x, a] of matchRows(e.coefficients, actual.coefficients, (row) => row.term, c.name)) {
      pairs.push(['coefficient.estimate', a.estimate, x.estimate]);
      pairs.push(['coefficient.se', a.se, x.se]);
      pairs.push(['coefficient.z', a.z, x.z]);
      pairs.push(['coefficient.p', a.p, x.p]);
      pairs.push(['coefficient.ciLower', a.ciLower, x.ciLower]);
      pairs.push(['coefficient.ciUpper', a.ciUpper, x.ciUpper]);
    }
    for (const odds of actual.adjustedOddsRatios) {
      const x = e.coefficients.find((row) => row.term === `group${odds.group}`)!;
      pairs.push(['adjustedOddsRatio', odds.oddsRatio, Math.exp(x.estimate)]);
      pairs.push(['adjustedOddsRatio.ciLower', odds.ciLower, Math.exp(x.ciLower)]);
      pairs.push(['adjustedOddsRatio.ciUpper', odds.ciUpper, Math.exp(x.ciUpper)]);
    }
    return toComparisons('logistic', c.name, pairs);
  });
}

export interface PoolCase {
  name: string;
  input: { estimates: number[]; variances: number[]; n: number | null; k: number; confidenceLevel: number };
  expected: {
    m: number;
    estimate: number;
    withinVariance: number;
    betweenVariance: number;
    totalVariance: number;
    relativeIncreaseInVariance: number;
    df: number;
    fmi: number;
    se: number;
    t: number;
    p: number;
    ciLower: number;
    ciUpper: number;
  };
}

export function runPoolCase(c: PoolCase) {
  return poolScalar(c.input.estimates, c.input.variances, {
    n: c.input.n ?? Infinity,
    k: c.input.k,
    confidenceLevel: c.input.confidenceLevel,
  });
}

export function poolComparisons(): Comparison[] {
  return loadFixture<Fixture<PoolCase>>('pool').cases.flatMap((c) => {
    const a = runPoolCase(c);
    const e = c.expected;
    return toComparisons('pool', c.name, [
      ['m', a.m, e.m],
      ['estimate', a.estimate, e.estimate],
      ['withinVariance', a.withinVariance, e.withinVariance],
      ['betweenVariance', a.betweenVariance, e.betweenVariance],
      ['totalVariance', a.totalVariance, e.totalVariance],
      ['relativeIncreaseInVariance', a.relativeIncreaseInVariance, e.relativeIncreaseInVariance],
      ['df', a.df, e.df],
      ['fmi', a.fractionMissingInformation, e.fmi],
      ['se', a.se, e.se],
      ['t', a.t, e.t],
      ['p', a.p, e.p],
      ['ciLower', a.ciLower, e.ciLower],
      ['ciUpper', a.ciUpper, e.ciUpper],
    ]);
  });
}
