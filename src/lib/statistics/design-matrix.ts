import { mean } from './descriptives';
import { StatisticsInputError } from './statistics-input-error';

/** One observation: its group, its outcome and its covariate values by name. */
export interface ModelRow {
  group: string;
  outcome: number;
  covariates?: Readonly<Record<string, number | string>>;
}

export interface CovariateSpec {
  name: string;
  /** 'number': one column; 'category': treatment-coded dummies, the first level in code-point order the base. */
  type: 'number' | 'category';
}

/** Groups and model terms (columns of the design) a request may give rise to. */
export const MAX_GROUPS = 20;
export const MAX_MODEL_TERMS = 30;

/** How least-squares means average over the levels of category covariates (emmeans' `weights`). */
export type LevelWeights = 'equal' | 'proportional';

export interface DesignMatrix {
  /** n rows of p columns, in R's order: (Intercept), group dummies, then each covariate's column(s). */
  x: number[][];
  y: number[];
  /** R's coefficient names: `(Intercept)`, `group<level>`, `<covariate>`, `<covariate><level>`. */
  terms: string[];
  /** Per column, the input pointer to blame when the column is collinear with earlier ones. */
  termPointers: string[];
  /** The reference first, then the other groups in code-point order. */
  groups: string[];
  groupSizes: number[];
  /** Row of the reference grid per group: covariates at their mean, category dummies averaged by `weights`. */
  referenceRows(weights: LevelWeights): number[][];
}

/**
 * Largest magnitude accepted for outcomes and numeric covariates: sums of squares of up to 100,000
 * such values stay finite in double precision (1e100² × 1e5 = 1e205), so no statistic overflows.
 */
export const MAX_MAGNITUDE = 1e100;

const isModest = (value: number) => Number.isFinite(value) && Math.abs(value) <= MAX_MAGNITUDE;

/** Sort in code-point order, which does not depend on the locale (R: sort(method = "radix")). */
const codePointOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Builds the model matrix of `outcome ~ group + covariates` with treatment contrasts, as R's
 * model.matrix with the reference group as the first factor level and category covariates with
 * their levels sorted. Rejects input that leaves the model undefined: unknown or missing
 * covariates, a reference group without rows, a single group, a category with one level.
 */
export function buildDesignMatrix(
  rows: readonly ModelRow[],
  reference: string,
  covariates: readonly CovariateSpec[],
): DesignMatrix {
  if (rows.length === 0) throw new StatisticsInputError('/rows', 'needs at least one row');
  const seen = new Set<string>();
  covariates.forEach((covariate, index) => {
    if (seen.has(covariate.name))
      throw new StatisticsInputError(`/covariates/${index}/name`, `covariate '${covariate.name}' is listed twice`);
    seen.add(covariate.name);
  });
  rows.forEach((row, i) => {
    if (!isModest(row.outcome))
      throw new StatisticsInputError(
        `/rows/${i}/outcome`,
        `must be a finite number of magnitude at most ${MAX_MAGNITUDE}`,
      );
    covariates.forEach((covariate) => {
      const value = row.covariates?.[covariate.name];
      const pointer = `/rows/${i}/covariates/${escapePointer(covariate.name)}`;
      if (value === undefined) throw new StatisticsInputError(pointer, `is missing (covariate '${covariate.name}')`);
      if (covariate.type === 'number' && !(typeof value === 'number' && isModest(value)))
        throw new StatisticsInputError(
          pointer,
          `must be a finite number of magnitude at most ${MAX_MAGNITUDE} (covariate '${covariate.name}' is numeric)`,
        );
      if (covariate.type === 'category' && typeof value !== 'string')
        throw new StatisticsInputError(pointer, `must be a string (covariate '${covariate.name}' is a category)`);
    });
  });

  const labels = [...new Set(rows.map((row) => row.group))];
  if (!labels.includes(reference))
    throw new StatisticsInputError('/reference', `no row belongs to the reference group '${reference}'`);
  if (labels.length < 2) throw new StatisticsInputError('/rows', 'all rows belong to one group; at least 2 are needed');
  // The QR costs rows × terms²: bounding the terms bounds the time one request can hold the process.
  if (labels.length > MAX_GROUPS)
    throw new StatisticsInputError('/rows', `has ${labels.length} groups; at most ${MAX_GROUPS} are supported`);
  const groups = [reference, ...labels.filter((label) => label !== reference).sort(codePointOrder)];
  const groupSizes = groups.map((group) => rows.filter((row) => row.group === group).length);

  const terms = ['(Intercept)', ...groups.slice(1).map((group) => `group${group}`)];
  const termPointers = ['/rows', ...groups.slice(1).map(() => '/rows')];
  /** Per covariate: its columns' values per row and its reference-grid values per weighting. */
  const blocks = covariates.map((covariate, index) => {
    const pointer = `/covariates/${index}`;
    if (covariate.type === 'number') {
      const values = rows.map((row) => row.covariates![covariate.name] as number);
      terms.push(covariate.name);
      termPointers.push(pointer);
      const centre = mean(values);
      return { columns: (i: number) => [values[i]!], grid: () => [centre] };
    }
    const values = rows.map((row) => row.covariates![covariate.name] as string);
    const levels = [...new Set(values)].sort(codePointOrder);
    if (levels.length < 2)
      throw new StatisticsInputError(pointer, `covariate '${covariate.name}' has a single level ('${levels[0]}')`);
    if (levels.length > MAX_MODEL_TERMS)
      throw new StatisticsInputError(
        pointer,
        `covariate '${covariate.name}' has ${levels.length} levels; at most ${MAX_MODEL_TERMS} are supported`,
      );
    const dummies = levels.slice(1);
    for (const level of dummies) {
      terms.push(`${covariate.name}${level}`);
      termPointers.push(pointer);
    }
    const proportions = dummies.map((level) => values.filter((value) => value === level).length / values.length);
    return {
      columns: (i: number) => dummies.map((level) => (values[i] === level ? 1 : 0)),
      grid: (weights: LevelWeights) => (weights === 'equal' ? dummies.map(() => 1 / levels.length) : proportions),
    };
  });

  if (terms.length > MAX_MODEL_TERMS)
    throw new StatisticsInputError(
      '/covariates',
      `the model would have ${terms.length} terms; at most ${MAX_MODEL_TERMS} are supported`,
    );
  const groupColumns = (group: string) => groups.slice(1).map((other) => (other === group ? 1 : 0));
  const x = rows.map((row, i) => [1, ...groupColumns(row.group), ...blocks.flatMap((block) => block.columns(i))]);
  return {
    x,
    y: rows.map((row) => row.outcome),
    terms,
    termPointers,
    groups,
    groupSizes,
    referenceRows: (weights) =>
      groups.map((group) => [1, ...groupColumns(group), ...blocks.flatMap((block) => block.grid(weights))]),
  };
}

/** JSON pointer escaping of one reference token (RFC 6901). */
function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}
