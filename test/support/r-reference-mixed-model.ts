/**
 * Compares mixed-model results with test/fixtures/r/mixed-model.json (generate-mixed-model.R: nlme::gls +
 * emmeans, mode = "satterthwaite"). Shared by the unit test, the HTTP test and the accuracy figures.
 *
 * Targets (issue #14): estimates, SEs and logLik within 1e-6, Satterthwaite df within 1e-4 (relative).
 * An estimate's error is taken relative to the larger of |estimate| and its SE, since an estimate near zero
 * (siteB: −0.0076, SE 1.3) has no relative precision to speak of. Quantities that depend on df (interval
 * bounds, p) get the df tolerance. The covariance matrix gets 1e-5: nlme's optimizer stops when the
 * log-likelihood changes by less than 100 ε relative, which fixes the covariance parameters only to ~1e-6
 * (this library's Newton-polished optimum has the higher log-likelihood in every case).
 */
import type { MixedModelInput } from '../../src/lib/statistics/mixed-model';
import { loadFixture, relativeError } from './r-reference';

export const MIXED_MODEL_TIGHT = 1e-6;
export const MIXED_MODEL_DF = 1e-4;
export const MIXED_MODEL_COVARIANCE = 1e-5;

interface Estimate {
  visit: string;
  estimate: number;
  se: number;
  df: number;
  ciLower: number;
  ciUpper: number;
  /** emmeans' df with nlme's own apVar (fdHess), recorded beside the reference df. */
  dfWithNlmeApVar: number;
}

export interface MixedModelExpected {
  subjects: number;
  observations: number;
  fixedEffects: { term: string; estimate: number; se: number }[];
  covarianceMatrix: number[][];
  logLik: number;
  aic: number;
  parameters: number;
  lsMeans: (Estimate & { group: string })[];
  differences: (Estimate & { contrast: string; t: number; p: number })[];
}

export interface MixedModelCase {
  name: string;
  input: MixedModelInput;
  expected: MixedModelExpected;
}

/** What the library returns and the endpoint sends (the fields compared). */
export interface MixedModelAnswer {
  subjects: number;
  observations: number;
  fixedEffects: { term: string; estimate: number; se: number }[];
  covarianceMatrix: number[][];
  logLik: number;
  aic: number;
  parameters: number;
  lsMeans: {
    visit: string;
    group: string;
    estimate: number;
    se: number;
    df: number;
    ciLower: number;
    ciUpper: number;
  }[];
  differences: {
    visit: string;
    group: string;
    reference?: string;
    estimate: number;
    se: number;
    df: number;
    t?: number;
    p?: number;
    ciLower: number;
    ciUpper: number;
  }[];
}

export const mixedModelCases = (): MixedModelCase[] => loadFixture<{ cases: MixedModelCase[] }>('mixed-model').cases;

/** Worst relative error per quantity, and the list of comparisons outside their tolerance. */
export interface MixedModelComparison {
  failures: string[];
  worst: Record<string, number>;
}

export function compareMixedModel(result: MixedModelAnswer, expected: MixedModelExpected, name: string) {
  const failures: string[] = [];
  const worst: Record<string, number> = {};
  const check = (quantity: string, label: string, actual: number, wanted: number, tolerance: number, se?: number) => {
    const scale = Math.max(Math.abs(wanted), se ?? 0);
    const error = se === undefined ? relativeError(actual, wanted) : Math.abs(actual - wanted) / scale;
    worst[quantity] = Math.max(worst[quantity] ?? 0, error);
    if (!(error <= tolerance)) failures.push(`${name} ${label}: got ${actual}, R ${wanted} (relative error ${error})`);
  };
  const same = (label: string, actual: unknown, wanted: unknown) => {
    if (JSON.stringify(actual) !== JSON.stringify(wanted)) {
      failures.push(`${name} ${label}: got ${JSON.stringify(actual)}, R ${JSON.stringify(wanted)}`);
    }
  };
  same('subjects, observations', [result.subjects, result.observations], [expected.subjects, expected.observations]);
  same(
    'terms',
    result.fixedEffects.map((f) => f.term),
    expected.fixedEffects.map((f) => f.term),
  );
  same('parameters', result.parameters, expected.parameters);
  expected.fixedEffects.forEach((f, j) => {
    const got = result.fixedEffects[j];
    if (!got) return;
    check('fixed effect estimate', `${f.term} estimate`, got.estimate, f.estimate, MIXED_MODEL_TIGHT, f.se);
    check('fixed effect se', `${f.term} se`, got.se, f.se, MIXED_MODEL_TIGHT);
  });
  expected.covarianceMatrix.forEach((row, i) =>
    row.forEach((value, j) =>
      check(
        'covariance matrix',
        `covariance[${i}][${j}]`,
        result.covarianceMatrix[i]![j]!,
        value,
        MIXED_MODEL_COVARIANCE,
      ),
    ),
  );
  check('logLik', 'logLik', result.logLik, expected.logLik, MIXED_MODEL_TIGHT);
  check('AIC', 'AIC', result.aic, expected.aic, MIXED_MODEL_TIGHT);
  same(
    'LS mean order',
    result.lsMeans.map((m) => `${m.visit}/${m.group}`),
    expected.lsMeans.map((m) => `${m.visit}/${m.group}`),
  );
  expected.lsMeans.forEach((m, i) => {
    const got = result.lsMeans[i];
    if (!got) return;
    const label = `LS mean ${m.visit}/${m.group}`;
    check('LS mean estimate', `${label} estimate`, got.estimate, m.estimate, MIXED_MODEL_TIGHT, m.se);
    check('LS mean se', `${label} se`, got.se, m.se, MIXED_MODEL_TIGHT);
    check('LS mean df', `${label} df`, got.df, m.df, MIXED_MODEL_DF);
    check('LS mean CI limits', `${label} lower`, got.ciLower, m.ciLower, MIXED_MODEL_DF);
    check('LS mean CI limits', `${label} upper`, got.ciUpper, m.ciUpper, MIXED_MODEL_DF);
    worst['df vs stock emmeans (nlme fdHess apVar)'] = Math.max(
      worst['df vs stock emmeans (nlme fdHess apVar)'] ?? 0,
      relativeError(got.df, m.dfWithNlmeApVar),
    );
  });
  same(
    'difference order',
    result.differences.map((d) => `${d.visit}/${d.group} - ${d.reference}`),
    expected.differences.map((d) => `${d.visit}/${d.contrast}`),
  );
  expected.differences.forEach((d, i) => {
    const got = result.differences[i];
    if (!got) return;
    const label = `difference ${d.visit} ${d.contrast}`;
    check('difference estimate', `${label} estimate`, got.estimate, d.estimate, MIXED_MODEL_TIGHT, d.se);
    check('difference se', `${label} se`, got.se, d.se, MIXED_MODEL_TIGHT);
    check('difference t', `${label} t`, got.t!, d.t, MIXED_MODEL_TIGHT, 1);
    check('difference df', `${label} df`, got.df, d.df, MIXED_MODEL_DF);
    check('difference p', `${label} p`, got.p!, d.p, MIXED_MODEL_DF);
    check('difference CI limits', `${label} lower`, got.ciLower, d.ciLower, MIXED_MODEL_DF);
    check('difference CI limits', `${label} upper`, got.ciUpper, d.ciUpper, MIXED_MODEL_DF);
    worst['df vs stock emmeans (nlme fdHess apVar)'] = Math.max(
      worst['df vs stock emmeans (nlme fdHess apVar)'] ?? 0,
      relativeError(got.df, d.dfWithNlmeApVar),
    );
  });
  return { failures, worst };
}
