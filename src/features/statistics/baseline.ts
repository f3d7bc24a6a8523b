import type { components } from '../../generated/openapi';
import {
  categoricalSmd,
  chiSquareTest,
  fisherExactTest,
  numericSmd,
  StatisticsInputError,
  tTest,
} from '../../lib/statistics';

export type BaselineTable = components['schemas']['BaselineTable'];

/**
 * The SMD, or null where it is undefined: e.g. each arm with all its observations in one level and
 * the levels differ (one woman in one arm, one man in the other), where the pooled covariance is singular.
 */
function smdOrNull(compute: () => number): number | null {
  try {
    return compute();
  } catch (error) {
    if (error instanceof StatisticsInputError) return null;
    throw error;
  }
}
type BaselineVariable = components['schemas']['BaselineVariable'];
type NumberSummary = components['schemas']['NumberSummary'];
type CategorySummary = components['schemas']['CategorySummary'];
type BaselineTest = components['schemas']['BaselineTest'];
export type TestChoice = 'welch' | 'student' | 'none';

/** One arm's aggregates of a numeric variable, as SQL computes them. */
export interface NumericAggregate {
  arm: string;
  n: number;
  missing: number;
  mean: number | null;
  sd: number | null;
  q1: number | null;
  median: number | null;
  q3: number | null;
  min: number | null;
  max: number | null;
}

/** Count of one level (null: missing) in one arm. */
export interface LevelCount {
  arm: string;
  level: string | null;
  count: number;
}

export const BASELINE_NOTE =
  'CONSORT 2010 (item 15) and CONSORT 2025 discourage significance tests of baseline differences in randomized trials: ' +
  'with concealed randomization any difference is due to chance, so a p-value tests a null hypothesis known to be true. ' +
  'The standardized mean difference describes the size of an imbalance instead; values above about 0.1 are commonly flagged. ' +
  'Tests are shown on request (tests=welch|student) and can be switched off (tests=none).';

function numericRow(
  arms: string[],
  aggregates: NumericAggregate[],
  tests: TestChoice,
): Pick<BaselineTable['variables'][number], 'byArm' | 'smd' | 'test'> {
  const byArm: Record<string, NumberSummary> = {};
  for (const arm of arms) {
    const a = aggregates.find((row) => row.arm === arm);
    byArm[arm] = {
      n: a?.n ?? 0,
      missing: a?.missing ?? 0,
      mean: a?.mean ?? null,
      sd: a && a.n >= 2 ? a.sd : null,
      median: a?.median ?? null,
      q1: a?.q1 ?? null,
      q3: a?.q3 ?? null,
      min: a?.min ?? null,
      max: a?.max ?? null,
    };
  }
  if (arms.length !== 2) return { byArm, smd: null, test: null };
  const [first, second] = [byArm[arms[0]!]!, byArm[arms[1]!]!];
  const summaries =
    first.n >= 2 && second.n >= 2
      ? ([
          { mean: first.mean!, sd: first.sd!, n: first.n },
          { mean: second.mean!, sd: second.sd!, n: second.n },
        ] as const)
      : null;
  let smd: number | null = null;
  let test: BaselineTest | null = null;
  if (summaries) {
    smd = smdOrNull(() => numericSmd(summaries[0], summaries[1]));
    if (tests !== 'none') {
      try {
        const result = tTest(summaries[0], summaries[1], { method: tests });
        test = { method: tests, statistic: result.t, df: result.df, p: result.p };
      } catch (error) {
        if (!(error instanceof StatisticsInputError)) throw error;
      }
    }
  }
  return { byArm, smd, test };
}

/**
 * Table 1's test of an arm x level table of counts, also used by Table 2's category rows. Levels that occur in
 * no arm are left out (R's chisq.test gives NaN for them), then: Pearson's chi-square with Yates' continuity
 * correction (R's chisq.test default; it changes only 2 x 2 tables), or Fisher's exact test when an expected
 * count is below 5. When the exact test
 * is refused (table too large) the chi-square is given with a warning. Null when an arm has no counts or fewer
 * than two levels occur.
 */
export function categoryTest(counts: readonly (readonly number[])[]): BaselineTest | null {
  const table = counts.map((row) => row.filter((_, j) => counts.some((other) => other[j]! > 0)));
  if (table.length < 2 || table[0]!.length < 2 || !table.every((row) => row.some((c) => c > 0))) return null;
  const chi = chiSquareTest(table, { continuityCorrection: true });
  const chiTest: BaselineTest = { method: 'chi_square', statistic: chi.statistic, df: chi.df, p: chi.p };
  if (chi.minimumExpectedCount >= 5) return chiTest;
  try {
    return { method: 'fisher_exact', statistic: null, df: null, p: fisherExactTest(table).p };
  } catch (error) {
    if (!(error instanceof StatisticsInputError)) throw error;
    return {
      ...chiTest,
      warning: `an expected count is below 5 but the table is too large for Fisher's exact test (${error.reason}); chi-square shown`,
    };
  }
}

function categoryRow(
  arms: string[],
  levels: string[],
  counts: LevelCount[],
  tests: TestChoice,
): Pick<BaselineTable['variables'][number], 'byArm' | 'smd' | 'test'> {
  const byArm: Record<string, CategorySummary> = {};
  const matrix: number[][] = [];
  for (const arm of arms) {
    const inArm = counts.filter((c) => c.arm === arm);
    const levelCounts = levels.map((level) => inArm.find((c) => c.level === level)?.count ?? 0);
    const n = levelCounts.reduce((sum, c) => sum + c, 0);
    byArm[arm] = {
      n,
      missing: inArm.filter((c) => c.level === null).reduce((sum, c) => sum + c.count, 0),
      levels: levels.map((level, i) => ({
        level,
        count: levelCounts[i]!,
        percent: n ? (100 * levelCounts[i]!) / n : null,
      })),
    };
    matrix.push(levelCounts);
  }
  if (arms.length !== 2) return { byArm, smd: null, test: null };
  // Levels that occur in no arm carry no information; tableone and the tests leave them out.
  const present = levels.map((_, j) => matrix.some((row) => row[j]! > 0));
  const table = matrix.map((row) => row.filter((_, j) => present[j]));
  let smd: number | null = null;
  let test: BaselineTest | null = null;
  if (table.every((row) => row.some((c) => c > 0)) && table[0]!.length >= 1) {
    smd = table[0]!.length === 1 ? 0 : smdOrNull(() => categoricalSmd(table[0]!, table[1]!));
  }
  if (tests !== 'none') test = categoryTest(table);
  return { byArm, smd, test };
}

export interface BaselineInputs {
  trialId: string;
  role: 'service_user' | 'case_worker';
  asOf: string | null;
  tests: TestChoice;
  arms: { arm: string; n: number }[];
  variables: BaselineVariable[];
  numeric: ReadonlyMap<string, NumericAggregate[]>;
  categories: ReadonlyMap<string, LevelCount[]>;
}

/** Assembles Table 1 from SQL aggregates: summaries per arm, SMDs, and the tests asked for. */
export function buildBaselineTable(input: BaselineInputs): BaselineTable {
  const armCodes = input.arms.map((a) => a.arm);
  return {
    trialId: input.trialId,
    role: input.role,
    asOf: input.asOf,
    arms: input.arms,
    variables: input.variables.map((variable) => ({
      name: variable.name,
      ...(variable.label ? { label: variable.label } : {}),
      ...(variable.unit ? { unit: variable.unit } : {}),
      type: variable.type,
      ...(variable.type === 'category'
        ? categoryRow(armCodes, variable.levels ?? [], input.categories.get(variable.name) ?? [], input.tests)
        : numericRow(armCodes, input.numeric.get(variable.name) ?? [], input.tests)),
    })),
    note: BASELINE_NOTE,
  };
}
