import { compensatedSum } from './compensated-sum';
import { pnorm, qnorm } from './distributions';
import { StatisticsInputError } from './statistics-input-error';

/** One rater's rating of one unit; null when the rater did not rate the unit. */
export type Rating = string | number | null;
export type Category = string | number;
export type MeasurementLevel = 'nominal' | 'ordinal' | 'interval' | 'ratio';

export interface AgreementInput {
  /** Units × raters: ratings[u][r] is rater r's rating of unit u. Every row has the same length (≥ 2). */
  ratings: readonly (readonly Rating[])[];
  /** Level of measurement; chooses Krippendorff's metric and whether weighted kappas are given. Default nominal. */
  level?: MeasurementLevel;
  /**
   * The possible categories, in order for ordinal data. Required for ordinal string ratings; optional otherwise
   * (numbers order themselves). Unused categories change only the weighted kappas, whose weights span them.
   */
  categories?: readonly Category[];
  /** Level of the kappa confidence intervals, strictly between 0 and 1; default 0.95. */
  confidenceLevel?: number;
}

export interface PercentAgreement {
  /** Share (0–1) of the units rated by every rater in which all ratings are equal; null when no unit is. */
  value: number | null;
  /** 100 × value. */
  percent: number | null;
  reason: string | null;
  agreeing: number;
  units: number;
}

export interface ConfidenceBounds {
  level: number;
  lower: number;
  upper: number;
}

export interface CohensKappaEstimate {
  /** null when kappa is undefined (then every other statistic is null too and reason says why). */
  value: number | null;
  reason: string | null;
  /** Units rated by both raters (the only ones used). */
  units: number;
  /** Large-sample SE under the alternative (Fleiss, Cohen & Everitt 1969); the interval uses it. */
  standardError: number | null;
  /** Large-sample SE under kappa = 0 (Fleiss, Cohen & Everitt 1969); the z test uses it. */
  standardErrorNull: number | null;
  z: number | null;
  /** Two-sided p of z against the standard normal. */
  p: number | null;
  confidenceInterval: ConfidenceBounds | null;
}

export interface CohensKappa {
  unweighted: CohensKappaEstimate;
  /** Only for ordered levels (ordinal, interval, ratio): weights 1 − |s_i − s_j| / (s_max − s_min). */
  linear?: CohensKappaEstimate;
  /** Only for ordered levels: weights 1 − (s_i − s_j)² / (s_max − s_min)². */
  quadratic?: CohensKappaEstimate;
}

export interface FleissKappa {
  value: number | null;
  reason: string | null;
  /** Units rated by every rater (the only ones used). */
  units: number;
  /** SE under kappa = 0 (Fleiss, Nee & Landis 1979), as irr::kappam.fleiss. */
  standardErrorNull: number | null;
  z: number | null;
  p: number | null;
}

export interface KrippendorffAlpha {
  value: number | null;
  reason: string | null;
  level: MeasurementLevel;
  /** Units with at least two ratings. */
  pairableUnits: number;
  /** Ratings in those units (n of Krippendorff 2011). */
  pairableValues: number;
  observedDisagreement: number | null;
  expectedDisagreement: number | null;
}

export interface AgreementResult {
  level: MeasurementLevel;
  units: number;
  raters: number;
  /** The categories in the order used (given, or numbers ascending, or strings in order of appearance). */
  categories: Category[];
  percentAgreement: PercentAgreement;
  /** Exactly two raters only. */
  cohensKappa?: CohensKappa;
  /** Three or more raters only. */
  fleissKappa?: FleissKappa;
  krippendorffAlpha: KrippendorffAlpha;
}

const ONE_RATER_CONSTANT =
  'one rater used a single category, so kappa is 0 whatever the other rater does and has no standard error';
const ONE_CATEGORY = 'every rating is in one category, so chance agreement is 1 and the coefficient is undefined';

/**
 * Inter-rater agreement on units × raters data: percent agreement, Cohen's kappa (2 raters; weighted for
 * ordered levels) with large-sample SEs, Fleiss' kappa (3+ raters), and Krippendorff's alpha at the level.
 * Undefined coefficients are null with a reason, never NaN and never 1.
 */
export function agreement(input: AgreementInput): AgreementResult {
  const level = input.level ?? 'nominal';
  const confidenceLevel = input.confidenceLevel ?? 0.95;
  if (!(confidenceLevel > 0 && confidenceLevel < 1)) {
    throw new StatisticsInputError('/confidenceLevel', 'must be strictly between 0 and 1');
  }
  const { raters, kind } = validateRatings(input.ratings);
  const categories = orderedCategories(input.ratings, level, kind, input.categories);
  const index = new Map<Category, number>(categories.map((c, i) => [c, i]));
  // Rows of category indices (-1 for missing), so everything below works on integers.
  const coded = input.ratings.map((row) => row.map((rating) => (rating === null ? -1 : index.get(rating)!)));

  const result: AgreementResult = {
    level,
    units: coded.length,
    raters,
    categories,
    percentAgreement: percentAgreement(coded),
    krippendorffAlpha: krippendorffAlpha(coded, categories, level),
  };
  if (raters === 2) {
    const scores = level === 'nominal' ? null : categoryScores(categories, level);
    result.cohensKappa = cohensKappa(coded, categories.length, scores, confidenceLevel);
  } else {
    result.fleissKappa = fleissKappa(coded, categories.length);
  }
  return result;
}

function validateRatings(ratings: AgreementInput['ratings']): { raters: number; kind: 'string' | 'number' | null } {
  if (!Array.isArray(ratings) || ratings.length === 0) {
    throw new StatisticsInputError('/ratings', 'must list at least one unit');
  }
  const raters = ratings[0]!.length;
  let kind: 'string' | 'number' | null = null;
  ratings.forEach((row, u) => {
    if (!Array.isArray(row) || row.length < 2) {
      throw new StatisticsInputError(`/ratings/${u}`, 'must hold one rating per rater, at least two raters');
    }
    if (row.length !== raters) {
      throw new StatisticsInputError(`/ratings/${u}`, `has ${row.length} ratings, but the first unit has ${raters}`);
    }
    row.forEach((rating, r) => {
      if (rating === null) return;
      const pointer = `/ratings/${u}/${r}`;
      if (typeof rating === 'number') {
        if (!Number.isFinite(rating)) throw new StatisticsInputError(pointer, 'must be a finite number');
      } else if (typeof rating !== 'string') {
        throw new StatisticsInputError(pointer, 'must be a string, a number or null');
      }
      const thisKind = typeof rating as 'string' | 'number';
      if (kind !== null && thisKind !== kind) {
        throw new StatisticsInputError(pointer, `is a ${thisKind}, but earlier ratings are ${kind}s: do not mix them`);
      }
      kind = thisKind;
    });
  });
  return { raters, kind };
}

function orderedCategories(
  ratings: AgreementInput['ratings'],
  level: MeasurementLevel,
  kind: 'string' | 'number' | null,
  given: readonly Category[] | undefined,
): Category[] {
  if ((level === 'interval' || level === 'ratio') && kind === 'string') {
    throw new StatisticsInputError('/ratings', `${level} data must be numbers`);
  }
  let categories: Category[];
  if (given !== undefined) {
    const seen = new Set<Category>();
    given.forEach((category, i) => {
      const pointer = `/categories/${i}`;
      if (typeof category !== 'string' && !(typeof category === 'number' && Number.isFinite(category))) {
        throw new StatisticsInputError(pointer, 'must be a string or a finite number');
      }
      if (kind !== null && typeof category !== kind) {
        throw new StatisticsInputError(pointer, `must be a ${kind}, like the ratings`);
      }
      if ((level === 'interval' || level === 'ratio') && typeof category !== 'number') {
        throw new StatisticsInputError(pointer, `${level} categories must be numbers`);
      }
      if (seen.has(category)) throw new StatisticsInputError(pointer, 'is listed twice');
      seen.add(category);
    });
    ratings.forEach((row, u) =>
      row.forEach((rating, r) => {
        if (rating !== null && !seen.has(rating)) {
          throw new StatisticsInputError(`/ratings/${u}/${r}`, 'is not one of the listed categories');
        }
      }),
    );
    categories = [...given];
    if (level === 'interval' || level === 'ratio') {
      // The numbers themselves carry the order; a list in another order would contradict them.
      const sorted = [...(categories as number[])].sort((a, b) => a - b);
      if (sorted.some((value, i) => value !== categories[i])) {
        throw new StatisticsInputError('/categories', `${level} categories must be listed in ascending order`);
      }
    }
  } else {
    if (level === 'ordinal' && kind === 'string') {
      throw new StatisticsInputError('/categories', 'ordinal ratings given as strings need the categories in order');
    }
    const seen = new Set<Category>();
    for (const row of ratings) for (const rating of row) if (rating !== null) seen.add(rating);
    categories = [...seen];
    if (kind === 'number') (categories as number[]).sort((a, b) => a - b);
  }
  if (level === 'ratio') {
    const negative = categories.findIndex((c) => (c as number) < 0);
    if (negative >= 0) {
      throw new StatisticsInputError(
        given === undefined ? '/ratings' : `/categories/${negative}`,
        'ratio data cannot be negative (the ratio metric measures from an absolute zero)',
      );
    }
  }
  return categories;
}

/** Scores behind the weights: positions for ordinal data, the values themselves for interval and ratio data. */
function categoryScores(categories: readonly Category[], level: MeasurementLevel): number[] {
  return level === 'ordinal' ? categories.map((_c, i) => i) : (categories as number[]);
}

function percentAgreement(coded: readonly (readonly number[])[]): PercentAgreement {
  let units = 0;
  let agreeing = 0;
  for (const row of coded) {
    if (row.includes(-1)) continue;
    units += 1;
    if (row.every((c) => c === row[0])) agreeing += 1;
  }
  if (units === 0) {
    return { value: null, percent: null, reason: 'no unit was rated by every rater', agreeing, units };
  }
  return { value: agreeing / units, percent: (100 * agreeing) / units, reason: null, agreeing, units };
}

function undefinedKappa(units: number, reason: string): CohensKappaEstimate {
  return {
    value: null,
    reason,
    units,
    standardError: null,
    standardErrorNull: null,
    z: null,
    p: null,
    confidenceInterval: null,
  };
}

function cohensKappa(
  coded: readonly (readonly number[])[],
  categoryCount: number,
  scores: readonly number[] | null,
  confidenceLevel: number,
): CohensKappa {
  const counts = Array.from({ length: categoryCount }, () => new Array<number>(categoryCount).fill(0));
  let units = 0;
  const used = new Set<number>();
  const usedByFirst = new Set<number>();
  const usedBySecond = new Set<number>();
  for (const [first, second] of coded) {
    if (first! < 0 || second! < 0) continue;
    counts[first!]![second!]! += 1;
    used.add(first!).add(second!);
    usedByFirst.add(first!);
    usedBySecond.add(second!);
    units += 1;
  }
  const identity = counts.map((row, i) => row.map((_w, j) => (i === j ? 1 : 0)));
  const estimate = (weights: number[][]): CohensKappaEstimate => {
    if (units === 0) return undefinedKappa(0, 'no unit was rated by both raters');
    if (used.size < 2) return undefinedKappa(units, ONE_CATEGORY);
    if (usedByFirst.size < 2 || usedBySecond.size < 2) {
      // Observed and chance agreement are then equal whatever the other rater does: kappa is exactly 0 and
      // both large-sample variances vanish (a rounding residue would otherwise pass for an SE).
      return { ...undefinedKappa(units, ONE_RATER_CONSTANT), value: 0 };
    }
    return weightedKappa(counts, units, weights, confidenceLevel);
  };
  const result: CohensKappa = { unweighted: estimate(identity) };
  if (scores !== null) {
    const range = scores[scores.length - 1]! - scores[0]!;
    const weightsFrom = (power: number) =>
      scores.map((si) => scores.map((sj) => 1 - Math.abs(si - sj) ** power / range ** power));
    // One category in all means range 0; estimate() answers before the weights (then NaN) are used.
    result.linear = estimate(weightsFrom(1));
    result.quadratic = estimate(weightsFrom(2));
  }
  return result;
}

/**
 * Cohen's (weighted) kappa from a table of counts, with Fleiss, Cohen & Everitt's (1969) large-sample
 * variances under the alternative and under kappa = 0. Agreement weights: 1 on the diagonal.
 */
function weightedKappa(
  counts: readonly (readonly number[])[],
  units: number,
  weights: readonly (readonly number[])[],
  confidenceLevel: number,
): CohensKappaEstimate {
  const k = counts.length;
  const cells = (f: (i: number, j: number) => number) => {
    const terms: number[] = [];
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) terms.push(f(i, j));
    return compensatedSum(terms);
  };
  const p = counts.map((row) => row.map((count) => count / units));
  const rowShare = counts.map((row) => compensatedSum(row) / units);
  const columnShare = counts[0]!.map((_c, j) => compensatedSum(counts.map((row) => row[j]!)) / units);
  const perfect = counts.every((row, i) => row.every((count, j) => count === 0 || weights[i]![j] === 1));
  // Observed agreement from integer counts where possible, so that perfect agreement gives exactly 1.
  const observed = cells((i, j) => weights[i]![j]! * counts[i]![j]!) / units;
  const expected = cells((i, j) => weights[i]![j]! * rowShare[i]! * columnShare[j]!);
  const kappa = (observed - expected) / (1 - expected);
  const rowMeanWeight = rowShare.map((_r, i) => compensatedSum(columnShare.map((c, j) => c * weights[i]![j]!)));
  const columnMeanWeight = columnShare.map((_c, j) => compensatedSum(rowShare.map((r, i) => r * weights[i]![j]!)));

  let variance = 0;
  if (!perfect) {
    const alternativeTerm = cells(
      (i, j) =>
        p[i]![j]! *
        (weights[i]![j]! * (1 - expected) - (rowMeanWeight[i]! + columnMeanWeight[j]!) * (1 - observed)) ** 2,
    );
    const correction = (observed * expected - 2 * expected + observed) ** 2;
    variance = Math.max(0, (alternativeTerm - correction) / (units * (1 - expected) ** 4));
  }
  const nullTerm = cells(
    (i, j) => rowShare[i]! * columnShare[j]! * (weights[i]![j]! - (rowMeanWeight[i]! + columnMeanWeight[j]!)) ** 2,
  );
  const nullNumerator = nullTerm - expected ** 2;
  const standardError = Math.sqrt(variance);
  const half = qnorm(1 - (1 - confidenceLevel) / 2) * standardError;
  const estimate: CohensKappaEstimate = {
    value: kappa,
    reason: null,
    units,
    standardError,
    standardErrorNull: null,
    z: null,
    p: null,
    confidenceInterval: { level: confidenceLevel, lower: kappa - half, upper: kappa + half },
  };
  // Positive whenever each rater used two or more categories (checked by the caller); the guard keeps NaN out.
  if (nullNumerator > 0) {
    const standardErrorNull = Math.sqrt(nullNumerator / (units * (1 - expected) ** 2));
    const z = kappa / standardErrorNull;
    Object.assign(estimate, { standardErrorNull, z, p: 2 * pnorm(-Math.abs(z)) });
  } else {
    estimate.reason = 'the variance under kappa = 0 is zero, so there is no test';
  }
  return estimate;
}

/**
 * Fleiss' (1971) kappa over the units rated by every rater, with the SE under kappa = 0 of Fleiss, Nee &
 * Landis (1979) and its z test (irr::kappam.fleiss with exact = FALSE).
 */
function fleissKappa(coded: readonly (readonly number[])[], categoryCount: number): FleissKappa {
  const complete = coded.filter((row) => !row.includes(-1));
  const units = complete.length;
  const empty = { value: null, units, standardErrorNull: null, z: null, p: null };
  if (units === 0) return { ...empty, reason: 'no unit was rated by every rater' };
  const raters = complete[0]!.length;
  const perUnit = complete.map((row) => {
    const counts = new Array<number>(categoryCount).fill(0);
    for (const c of row) counts[c]! += 1;
    return counts;
  });
  const share = Array.from(
    { length: categoryCount },
    (_x, j) => compensatedSum(perUnit.map((counts) => counts[j]!)) / (units * raters),
  );
  if (share.filter((s) => s > 0).length < 2) return { ...empty, reason: ONE_CATEGORY };
  const unitAgreement = perUnit.map(
    (counts) => (compensatedSum(counts.map((c) => c * c)) - raters) / (raters * (raters - 1)),
  );
  const observed = compensatedSum(unitAgreement) / units;
  const expected = compensatedSum(share.map((s) => s * s));
  const kappa = (observed - expected) / (1 - expected);
  const pq = compensatedSum(share.map((s) => s * (1 - s)));
  const skew = compensatedSum(share.map((s) => s * (1 - s) * (1 - 2 * s)));
  const standardErrorNull = (Math.SQRT2 / (pq * Math.sqrt(units * raters * (raters - 1)))) * Math.sqrt(pq * pq - skew);
  const z = kappa / standardErrorNull;
  return { value: kappa, reason: null, units, standardErrorNull, z, p: 2 * pnorm(-Math.abs(z)) };
}

/** Krippendorff's (2011) alpha from the coincidence matrix of the pairable values. */
function krippendorffAlpha(
  coded: readonly (readonly number[])[],
  categories: readonly Category[],
  level: MeasurementLevel,
): KrippendorffAlpha {
  const k = categories.length;
  const coincidences = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let pairableUnits = 0;
  for (const row of coded) {
    const values = row.filter((c) => c >= 0);
    const m = values.length;
    if (m < 2) continue;
    pairableUnits += 1;
    const counts = new Map<number, number>();
    for (const c of values) counts.set(c, (counts.get(c) ?? 0) + 1);
    for (const [c, nc] of counts) {
      for (const [d, nd] of counts) coincidences[c]![d]! += (nc * (c === d ? nd - 1 : nd)) / (m - 1);
    }
  }
  const margins = coincidences.map((row) => compensatedSum(row));
  const n = compensatedSum(margins);
  const base = { level, pairableUnits, pairableValues: Math.round(n) };
  const none = { value: null, observedDisagreement: null, expectedDisagreement: null };
  if (pairableUnits === 0) return { ...base, ...none, reason: 'no unit has two or more ratings' };
  if (margins.filter((m) => m > 0).length < 2) {
    return {
      ...base,
      ...none,
      reason: 'every pairable rating has the same value, so there is no expected disagreement',
    };
  }
  const delta = squaredDistance(categories, margins, level);
  const terms = (f: (c: number, d: number) => number) => {
    const all: number[] = [];
    for (let c = 0; c < k; c++) for (let d = 0; d < k; d++) if (c !== d) all.push(f(c, d));
    return compensatedSum(all);
  };
  const observedDisagreement = terms((c, d) => coincidences[c]![d]! * delta(c, d)) / n;
  const expectedDisagreement = terms((c, d) => margins[c]! * margins[d]! * delta(c, d)) / (n * (n - 1));
  return {
    ...base,
    value: 1 - observedDisagreement / expectedDisagreement,
    reason: null,
    observedDisagreement,
    expectedDisagreement,
  };
}

/** Krippendorff's squared difference functions δ²(c, d) for c ≠ d (category indices). */
function squaredDistance(
  categories: readonly Category[],
  margins: readonly number[],
  level: MeasurementLevel,
): (c: number, d: number) => number {
  switch (level) {
    case 'nominal':
      return () => 1;
    case 'ordinal': {
      // (Σ_{g=c..d} n_g − (n_c + n_d)/2)², from cumulative margins.
      const cumulative = [0];
      for (const m of margins) cumulative.push(cumulative[cumulative.length - 1]! + m);
      return (c, d) => {
        const [low, high] = c < d ? [c, d] : [d, c];
        return (cumulative[high + 1]! - cumulative[low]! - (margins[low]! + margins[high]!) / 2) ** 2;
      };
    }
    case 'interval': {
      const values = categories as readonly number[];
      return (c, d) => (values[c]! - values[d]!) ** 2;
    }
    case 'ratio': {
      const values = categories as readonly number[];
      return (c, d) => ((values[c]! - values[d]!) / (values[c]! + values[d]!)) ** 2;
    }
  }
}
