import {
  cholesky,
  choleskyInverse,
  choleskySolve,
  logDeterminant,
  type Matrix,
  matrixVector,
  quadraticForm,
  zeros,
} from './dense-matrix';
import { pt, qt } from './distributions';
import { StatisticsInputError } from './statistics-input-error';

/**
 * Mixed model for repeated measures (MMRM) fitted by generalized least squares, as R's
 *   nlme::gls(outcome ~ group * visit + covariates, correlation = corSymm(form = ~ 1 | subject),
 *             weights = varIdent(form = ~ 1 | visit), method = "REML" | "ML")      (unstructured)
 *   nlme::gls(..., correlation = corCompSymm(form = ~ 1 | subject))                 (compound symmetry)
 * with least-squares means and group differences per visit as emmeans(fit, ~ group | visit,
 * mode = "satterthwaite"). Subjects contribute the visits they have (missing at random).
 */

export interface MixedModelRow {
  subject: string;
  group: string;
  visit: string;
  outcome: number;
  covariates?: Readonly<Record<string, number | string>>;
}

export interface MixedModelCovariate {
  name: string;
  type: 'number' | 'category';
}

export interface MixedModelInput {
  rows: readonly MixedModelRow[];
  /** The reference group: the first level of group, and the one differences are taken against. */
  reference: string;
  /** Visits in schedule order; the first is the reference level of visit and of the variance ratios. */
  visits: readonly string[];
  covariates?: readonly MixedModelCovariate[];
  covariance?: 'unstructured' | 'compound_symmetry';
  method?: 'reml' | 'ml';
  confidenceLevel?: number;
}

export interface MixedModelEstimate {
  estimate: number;
  se: number;
  df: number;
  ciLower: number;
  ciUpper: number;
}

export interface MixedModelResult {
  method: 'reml' | 'ml';
  covariance: 'unstructured' | 'compound_symmetry';
  subjects: number;
  observations: number;
  fixedEffects: { term: string; estimate: number; se: number }[];
  /** Estimated covariance matrix of the outcome over the visits (rows and columns in `visits` order). */
  covarianceMatrix: number[][];
  logLik: number;
  aic: number;
  /** Number of estimated parameters counted by AIC (fixed effects + covariance parameters), as nlme. */
  parameters: number;
  lsMeans: ({ visit: string; group: string } & MixedModelEstimate)[];
  differences: ({ visit: string; group: string; reference: string; t: number; p: number } & MixedModelEstimate)[];
  /** Optimizer iterations (quasi-Newton, then Newton). */
  iterations: number;
}

interface Subject {
  visits: number[];
  y: number[];
  x: number[][];
}

interface Pattern {
  visits: number[];
  subjects: Subject[];
}

interface Evaluation {
  logLik: number;
  beta: number[];
  /** X' Σ⁻¹ X. */
  information: Matrix;
  informationInverse: Matrix;
  /** Σ r' Σ⁻¹ r. */
  quadratic: number;
  /** ∂ logLik / ∂Σ, as a symmetric matrix (each off-diagonal element counted once per position). */
  gradient?: Matrix;
}

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * What one fit may cost. An evaluation of the likelihood costs (missingness patterns ≤ 2^visits − 1) ×
 * visits² × fixed effects², and the optimizer and the Satterthwaite df need a few hundred of them, growing with
 * the covariance parameters (visits (visits + 1) / 2). Measured with `npx tsx scripts/bench/mixed-model.ts` on the
 * shared 2-core machine, quiet: 2,000 subjects × 4 visits, 11 fixed effects, 0.2–0.3 s; 3,000 × 6 visits × 3
 * groups, 21 fixed effects, 0.9 s. Under heavy load (2,000 × 4 then took 2.0 s): 3,000 × 5 visits × 3 groups
 * (18) 6.3 s, 3,000 × 6 × 2 groups (15) 8.6 s, 6 visits and 21–24 fixed effects 12–13 s, 8 visits and 35 fixed
 * effects 14 s even when quiet. Hence at most 6 visits and 20 fixed effects (the contract caps rows at 20,000).
 */
export const MAX_FIXED_EFFECTS = 20;
export const MAX_VISITS = 6;

/** Fits the MMRM; throws StatisticsInputError for unusable input and when the fit does not converge. */
export function mixedModel(input: MixedModelInput): MixedModelResult {
  const method = input.method ?? 'reml';
  const structure = input.covariance ?? 'unstructured';
  const confidenceLevel = input.confidenceLevel ?? 0.95;
  if (!(confidenceLevel > 0 && confidenceLevel < 1)) {
    throw new StatisticsInputError('/confidenceLevel', 'must be strictly between 0 and 1');
  }
  const design = buildDesign(input);
  const reml = method === 'reml';
  const model = new Likelihood(design.patterns, design.columns.length, design.observations, reml);
  const visitCount = input.visits.length;

  const parameterization = structure === 'unstructured' ? unstructured(visitCount) : compoundSymmetry(visitCount);
  const start = parameterization.start(design.residualVariances);
  const fit = maximize(
    (phi) => model.evaluate(parameterization.sigma(phi), false)?.logLik ?? null,
    (phi) => {
      const sigma = parameterization.sigma(phi);
      const evaluation = model.evaluate(sigma, true);
      return evaluation === null ? null : parameterization.gradient(phi, sigma, evaluation.gradient!);
    },
    start,
  );
  const sigma = parameterization.sigma(fit.phi);
  const evaluation = model.evaluate(sigma, false)!;
  const covarianceParameters = structure === 'unstructured' ? (visitCount * (visitCount + 1)) / 2 : 2;
  const parameters = design.columns.length + covarianceParameters;

  // nlme's vcov scales the ML estimate's (X'Σ⁻¹X)⁻¹ by N / (N − p) (gls: varBeta · (N − REML p) / (N − p)).
  const vcovFactor = reml ? 1 : design.observations / (design.observations - design.columns.length);
  const vcov = evaluation.informationInverse.map((row) => row.map((value) => value * vcovFactor));
  const satterthwaite = new SatterthwaiteDf(model, sigma, structure, vcov);
  const quantile = (df: number) => qt(1 - (1 - confidenceLevel) / 2, df);
  const estimateFor = (k: number[]): MixedModelEstimate => {
    const estimate = k.reduce((sum, value, j) => sum + value * evaluation.beta[j]!, 0);
    const variance = quadraticForm(vcov, k);
    const se = Math.sqrt(variance);
    const df = satterthwaite.df(k, variance);
    const half = quantile(df) * se;
    return { estimate, se, df, ciLower: estimate - half, ciUpper: estimate + half };
  };

  const lsMeans: MixedModelResult['lsMeans'] = [];
  const differences: MixedModelResult['differences'] = [];
  input.visits.forEach((visit, v) => {
    const reference = design.gridRow(0, v);
    design.groups.forEach((group, g) => {
      const k = design.gridRow(g, v);
      lsMeans.push({ visit, group, ...estimateFor(k) });
      if (g === 0) return;
      const contrast = estimateFor(k.map((value, j) => value - reference[j]!));
      const t = contrast.estimate / contrast.se;
      differences.push({
        visit,
        group,
        reference: design.groups[0]!,
        ...contrast,
        t,
        p: 2 * pt(-Math.abs(t), contrast.df),
      });
    });
  });

  return {
    method,
    covariance: structure,
    subjects: design.subjects,
    observations: design.observations,
    fixedEffects: design.columns.map((term, j) => ({
      term,
      estimate: evaluation.beta[j]!,
      se: Math.sqrt(vcov[j]![j]!),
    })),
    covarianceMatrix: sigma,
    logLik: evaluation.logLik,
    aic: -2 * evaluation.logLik + 2 * parameters,
    parameters,
    lsMeans,
    differences,
    iterations: fit.iterations,
  };
}

// ---- design --------------------------------------------------------------------------------------

interface Design {
  columns: string[];
  groups: string[];
  patterns: Pattern[];
  subjects: number;
  observations: number;
  /** Per-visit mean squared OLS residual: starting values. */
  residualVariances: number[];
  /** The reference-grid row (emmeans: numeric covariates at their mean, factors averaged equally). */
  gridRow: (group: number, visit: number) => number[];
}

function buildDesign(input: MixedModelInput): Design {
  const { rows, visits } = input;
  const covariates = input.covariates ?? [];
  if (!Array.isArray(rows) || rows.length === 0) throw new StatisticsInputError('/rows', 'must not be empty');
  if (visits.length < 2) throw new StatisticsInputError('/visits', 'a repeated-measures model needs two visits');
  if (visits.length > MAX_VISITS) throw new StatisticsInputError('/visits', `at most ${MAX_VISITS} visits are fitted`);
  const visitIndex = new Map<string, number>();
  visits.forEach((visit, i) => {
    if (visitIndex.has(visit)) throw new StatisticsInputError(`/visits/${i}`, 'is listed twice');
    visitIndex.set(visit, i);
  });
  const names = new Set<string>();
  covariates.forEach((c, i) => {
    if (['subject', 'group', 'visit', 'outcome'].includes(c.name) || names.has(c.name)) {
      throw new StatisticsInputError(`/covariates/${i}/name`, 'must be unique and not a column of the model');
    }
    names.add(c.name);
  });

  const groups = [input.reference];
  const categoryLevels = covariates.map(() => new Set<string>());
  const subjectGroup = new Map<string, string>();
  const seen = new Set<string>();
  rows.forEach((row, i) => {
    if (!Number.isFinite(row.outcome)) throw new StatisticsInputError(`/rows/${i}/outcome`, 'must be a finite number');
    if (!visitIndex.has(row.visit)) throw new StatisticsInputError(`/rows/${i}/visit`, 'is not one of the visits');
    const key = JSON.stringify([row.subject, row.visit]);
    if (seen.has(key)) throw new StatisticsInputError(`/rows/${i}`, 'repeats a subject at a visit');
    seen.add(key);
    const known = subjectGroup.get(row.subject);
    if (known !== undefined && known !== row.group) {
      throw new StatisticsInputError(`/rows/${i}/group`, `subject ${row.subject} is in group ${known} elsewhere`);
    }
    subjectGroup.set(row.subject, row.group);
    if (!groups.includes(row.group)) groups.push(row.group);
    covariates.forEach((c, j) => {
      const value = row.covariates?.[c.name];
      const pointer = `/rows/${i}/covariates/${c.name}`;
      if (c.type === 'number') {
        if (typeof value !== 'number' || !Number.isFinite(value)) {
          throw new StatisticsInputError(pointer, 'must be a finite number');
        }
      } else {
        if (typeof value !== 'string') throw new StatisticsInputError(pointer, 'must be a category (string)');
        categoryLevels[j]!.add(value);
      }
    });
  });
  if (!rows.some((row) => row.group === input.reference)) {
    throw new StatisticsInputError('/reference', 'no row has the reference group');
  }
  if (groups.length < 2) throw new StatisticsInputError('/rows', 'needs at least two groups');
  const levels = categoryLevels.map((set) => [...set].sort());

  const columns = ['(Intercept)'];
  groups.slice(1).forEach((g) => columns.push(`group${g}`));
  visits.slice(1).forEach((v) => columns.push(`visit${v}`));
  covariates.forEach((c, j) => {
    if (c.type === 'number') columns.push(c.name);
    else levels[j]!.slice(1).forEach((level) => columns.push(`${c.name}${level}`));
  });
  // Interaction columns in R's order: the group varies fastest.
  visits.slice(1).forEach((v) => groups.slice(1).forEach((g) => columns.push(`group${g}:visit${v}`)));
  const p = columns.length;
  if (p > MAX_FIXED_EFFECTS) {
    throw new StatisticsInputError(
      '/rows',
      `the model has ${p} fixed effects (groups × visits + covariate columns); at most ${MAX_FIXED_EFFECTS} are fitted`,
    );
  }

  const counts = groups.map(() => new Array<number>(visits.length).fill(0));
  const numericSums = covariates.map(() => 0);
  const rowVector = (group: number, visit: number, covariateValues: (j: number) => number[]): number[] => {
    const x = [1];
    groups.slice(1).forEach((_g, i) => x.push(group === i + 1 ? 1 : 0));
    visits.slice(1).forEach((_v, i) => x.push(visit === i + 1 ? 1 : 0));
    covariates.forEach((_c, j) => x.push(...covariateValues(j)));
    visits
      .slice(1)
      .forEach((_v, t) => groups.slice(1).forEach((_g, i) => x.push(group === i + 1 && visit === t + 1 ? 1 : 0)));
    return x;
  };

  const bySubject = new Map<string, { visit: number; y: number; x: number[] }[]>();
  rows.forEach((row) => {
    const group = groups.indexOf(row.group);
    const visit = visitIndex.get(row.visit)!;
    counts[group]![visit]! += 1;
    const x = rowVector(group, visit, (j) => {
      const c = covariates[j]!;
      const value = row.covariates![c.name]!;
      if (c.type === 'number') {
        numericSums[j]! += value as number;
        return [value as number];
      }
      return levels[j]!.slice(1).map((level) => (level === value ? 1 : 0));
    });
    const list = bySubject.get(row.subject) ?? [];
    list.push({ visit, y: row.outcome, x });
    bySubject.set(row.subject, list);
  });
  counts.forEach((perVisit, g) =>
    perVisit.forEach((count, v) => {
      if (count === 0) {
        throw new StatisticsInputError('/rows', `group ${groups[g]} has no outcome at visit ${visits[v]}`);
      }
    }),
  );

  const patterns = new Map<string, Pattern>();
  for (const observations of bySubject.values()) {
    observations.sort((a, b) => a.visit - b.visit);
    const subject: Subject = {
      visits: observations.map((o) => o.visit),
      y: observations.map((o) => o.y),
      x: observations.map((o) => o.x),
    };
    const key = subject.visits.join(',');
    const pattern = patterns.get(key) ?? { visits: subject.visits, subjects: [] };
    pattern.subjects.push(subject);
    patterns.set(key, pattern);
  }

  // Ordinary least squares: the rank check and starting values.
  const xtx = zeros(p);
  const xty = new Array<number>(p).fill(0);
  for (const pattern of patterns.values()) {
    for (const s of pattern.subjects) {
      s.x.forEach((x, r) => {
        for (let a = 0; a < p; a++) {
          xty[a]! += x[a]! * s.y[r]!;
          for (let b = 0; b < p; b++) xtx[a]![b]! += x[a]! * x[b]!;
        }
      });
    }
  }
  const xtxFactor = cholesky(xtx, 1e-10);
  if (xtxFactor === null) {
    throw new StatisticsInputError('/rows', 'the design is rank deficient (a covariate is constant or collinear)');
  }
  const ols = choleskySolve(xtxFactor, xty);
  const squares = new Array<number>(visits.length).fill(0);
  const perVisit = new Array<number>(visits.length).fill(0);
  for (const pattern of patterns.values()) {
    for (const s of pattern.subjects) {
      s.x.forEach((x, r) => {
        const residual = s.y[r]! - x.reduce((sum, value, j) => sum + value * ols[j]!, 0);
        squares[s.visits[r]!]! += residual * residual;
        perVisit[s.visits[r]!]! += 1;
      });
    }
  }
  const residualVariances = squares.map((sum, v) => Math.max(sum / perVisit[v]!, 1e-8));
  if (rows.length <= p) throw new StatisticsInputError('/rows', `needs more than ${p} outcomes for ${p} fixed effects`);

  const means = numericSums.map((sum) => sum / rows.length);
  const gridRow = (group: number, visit: number) =>
    rowVector(group, visit, (j) =>
      covariates[j]!.type === 'number' ? [means[j]!] : levels[j]!.slice(1).map(() => 1 / levels[j]!.length),
    );

  return {
    columns,
    groups,
    patterns: [...patterns.values()],
    subjects: bySubject.size,
    observations: rows.length,
    residualVariances,
    gridRow,
  };
}

// ---- likelihood ----------------------------------------------------------------------------------

/**
 * A missingness pattern (the set of visits a subject has) with what the likelihood needs of its subjects.
 * Its subjects share Σ's sub-matrix and so its inverse W; every quantity of the likelihood is then a sum over
 * visit pairs (a, b) of W_ab times a sum over subjects (Σ x_a x_b', Σ x_a y_b, Σ y_a y_b), which are formed once.
 * An evaluation costs (visits² × fixed effects²) per pattern instead of per subject: at 2,000 subjects × 4 visits
 * the fit went from 10 s to well under a second. A pattern with few subjects keeps them raw, since its sums
 * would take more memory than its rows.
 */
interface PatternSums {
  visits: number[];
  count: number;
  /** Σ_s x_a x_b' for a ≤ b, at index a * m + b (p × p, row-major). */
  xx: (Float64Array | undefined)[];
  /** Σ_s x_a y_b, at index a * m + b (p). */
  xy: Float64Array[];
  /** Σ_s y_a y_b, at index a * m + b. */
  yy: Float64Array;
  /** The subjects themselves when the pattern is small. */
  raw?: Subject[];
}

class Likelihood {
  private readonly sums: PatternSums[];
  /** The outcomes' mean, taken out before the sums are formed (y − c is fitted; c returns in the intercept). */
  private readonly shift: number;

  constructor(
    patterns: readonly Pattern[],
    readonly p: number,
    readonly n: number,
    readonly reml: boolean,
  ) {
    let total = 0;
    for (const pattern of patterns) for (const s of pattern.subjects) for (const y of s.y) total += y;
    this.shift = total / n;
    this.sums = patterns.map((pattern) => this.summarize(pattern));
  }

  private summarize(pattern: Pattern): PatternSums {
    const m = pattern.visits.length;
    const p = this.p;
    const subjects = pattern.subjects.map((s) => ({ ...s, y: s.y.map((y) => y - this.shift) }));
    const yy = new Float64Array(m * m);
    const xy = Array.from({ length: m * m }, () => new Float64Array(p));
    for (const s of subjects) {
      for (let a = 0; a < m; a++) {
        for (let b = 0; b < m; b++) {
          yy[a * m + b]! += s.y[a]! * s.y[b]!;
          const target = xy[a * m + b]!;
          const x = s.x[a]!;
          const y = s.y[b]!;
          for (let j = 0; j < p; j++) target[j]! += x[j]! * y;
        }
      }
    }
    const base = { visits: pattern.visits, count: subjects.length, xy, yy };
    // The sums cost m(m+1)/2 p² per evaluation, the raw rows about m p² per subject.
    if (subjects.length <= m) return { ...base, xx: [], raw: subjects };
    const xx: (Float64Array | undefined)[] = new Array(m * m);
    for (let a = 0; a < m; a++) for (let b = a; b < m; b++) xx[a * m + b] = new Float64Array(p * p);
    for (const s of subjects) {
      for (let a = 0; a < m; a++) {
        const xa = s.x[a]!;
        for (let b = a; b < m; b++) {
          const xb = s.x[b]!;
          const target = xx[a * m + b]!;
          for (let i = 0; i < p; i++) {
            const xi = xa[i]!;
            if (xi === 0) continue;
            const offset = i * p;
            for (let j = 0; j < p; j++) target[offset + j]! += xi * xb[j]!;
          }
        }
      }
    }
    return { ...base, xx };
  }

  /**
   * The log-likelihood (ML) or restricted log-likelihood (REML, nlme's: without the constant ½ log |X'X|) at the
   * covariance matrix Σ over the visits, with β at its GLS estimate; null when Σ is not positive definite.
   */
  evaluate(sigma: Matrix, withGradient: boolean): Evaluation | null {
    const p = this.p;
    const information = zeros(p);
    const xtvy = new Array<number>(p).fill(0);
    let logDetSum = 0;
    const inverses: Matrix[] = [];
    for (const pattern of this.sums) {
      const m = pattern.visits.length;
      const sub = pattern.visits.map((a) => pattern.visits.map((b) => sigma[a]![b]!));
      const factor = cholesky(sub, 1e-13);
      if (factor === null) return null;
      const inverse = choleskyInverse(factor);
      inverses.push(inverse);
      logDetSum += pattern.count * logDeterminant(factor);
      for (let a = 0; a < m; a++) {
        for (let b = 0; b < m; b++) {
          const w = inverse[a]![b]!;
          const sums = pattern.xy[a * m + b]!;
          for (let j = 0; j < p; j++) xtvy[j]! += w * sums[j]!;
        }
      }
      if (pattern.raw) {
        for (const s of pattern.raw) addWeightedCrossProduct(information, s.x, inverse, p);
        continue;
      }
      for (let a = 0; a < m; a++) {
        for (let b = a; b < m; b++) {
          const w = inverse[a]![b]!;
          const sums = pattern.xx[a * m + b]!;
          for (let i = 0; i < p; i++) {
            const row = information[i]!;
            const offset = i * p;
            if (a === b) {
              for (let j = 0; j < p; j++) row[j]! += w * sums[offset + j]!;
            } else {
              // W_ab C_ab + W_ba C_ba with C_ba = C_ab'.
              for (let j = 0; j < p; j++) row[j]! += w * (sums[offset + j]! + sums[j * p + i]!);
            }
          }
        }
      }
    }
    const informationFactor = cholesky(information, 1e-13);
    if (informationFactor === null) return null;
    const centredBeta = choleskySolve(informationFactor, xtvy);
    const informationInverse = choleskyInverse(informationFactor);

    let quadratic = 0;
    const gradient = withGradient ? zeros(sigma.length) : undefined;
    this.sums.forEach((pattern, index) => {
      const inverse = inverses[index]!;
      const m = pattern.visits.length;
      // Σ_s r_a r_b over the pattern's subjects (+ Σ_s x_a' (X'Σ⁻¹X)⁻¹ x_b for REML's gradient).
      const outer = zeros(m);
      const xb = new Array<number>(m * m);
      for (let a = 0; a < m; a++) {
        for (let b = 0; b < m; b++) xb[a * m + b] = dot(centredBeta, pattern.xy[a * m + b]!);
      }
      // Raw subjects: Σ_s (x_a'β)(x_b'β) and Σ_s x_a' M x_b, each subject's fitted values and M x once.
      const fittedProducts = zeros(m);
      const projections = zeros(m);
      for (const s of pattern.raw ?? []) {
        const fitted = s.x.map((x) => dot(x, centredBeta));
        const projected = gradient && this.reml ? s.x.map((x) => matrixVector(informationInverse, x)) : [];
        for (let a = 0; a < m; a++) {
          for (let b = a; b < m; b++) {
            fittedProducts[a]![b]! += fitted[a]! * fitted[b]!;
            if (projected.length > 0) projections[a]![b]! += dot(s.x[a]!, projected[b]!);
          }
        }
      }
      for (let a = 0; a < m; a++) {
        for (let b = a; b < m; b++) {
          let value = pattern.yy[a * m + b]! - xb[a * m + b]! - xb[b * m + a]!;
          let projection = 0;
          if (pattern.raw) {
            value += fittedProducts[a]![b]!;
            projection = projections[a]![b]!;
          } else {
            const sums = pattern.xx[a * m + b]!;
            value += bilinear(sums, centredBeta, centredBeta, p);
            if (gradient && this.reml) projection = frobeniusFlat(informationInverse, sums, p);
          }
          outer[a]![b] = value;
          outer[b]![a] = value;
          quadratic += (a === b ? 1 : 2) * inverse[a]![b]! * value;
          if (gradient && this.reml) {
            outer[a]![b]! += projection;
            if (a !== b) outer[b]![a]! += projection;
          }
        }
      }
      if (!gradient) return;
      // ½ Σ⁻¹ (Σ r r' [+ Σ X (X'Σ⁻¹X)⁻¹ X'] ) Σ⁻¹ − ½ count Σ⁻¹, placed at the pattern's visits.
      const sandwich = multiplySquare(multiplySquare(inverse, outer), inverse);
      pattern.visits.forEach((va, a) =>
        pattern.visits.forEach((vb, b) => {
          gradient[va]![vb]! += 0.5 * (sandwich[a]![b]! - pattern.count * inverse[a]![b]!);
        }),
      );
    });

    const logLik = this.reml
      ? -0.5 * ((this.n - p) * LOG_2PI + logDetSum + quadratic + logDeterminant(informationFactor))
      : -0.5 * (this.n * LOG_2PI + logDetSum + quadratic);
    const beta = [...centredBeta];
    beta[0]! += this.shift;
    return { logLik, beta, information, informationInverse, quadratic, gradient };
  }
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
};

/** u' C v for a p × p matrix stored row-major. */
function bilinear(c: Float64Array, u: readonly number[], v: readonly number[], p: number): number {
  let sum = 0;
  for (let i = 0; i < p; i++) {
    const ui = u[i]!;
    if (ui === 0) continue;
    let inner = 0;
    for (let j = 0; j < p; j++) inner += c[i * p + j]! * v[j]!;
    sum += ui * inner;
  }
  return sum;
}

/** Σ_ij M_ij C_ij, i.e. tr(M C') = Σ_s x_a' M x_b when C = Σ_s x_a x_b'. */
function frobeniusFlat(m: Matrix, c: Float64Array, p: number): number {
  let sum = 0;
  for (let i = 0; i < p; i++) {
    const row = m[i]!;
    for (let j = 0; j < p; j++) sum += row[j]! * c[i * p + j]!;
  }
  return sum;
}

/** information += X' W X for one subject's rows X. */
function addWeightedCrossProduct(information: Matrix, x: readonly number[][], w: Matrix, p: number): void {
  const weighted = w.map((row) => {
    const sum = new Array<number>(p).fill(0);
    row.forEach((value, r) => {
      const xr = x[r]!;
      for (let j = 0; j < p; j++) sum[j]! += value * xr[j]!;
    });
    return sum;
  });
  x.forEach((xr, r) => {
    const wr = weighted[r]!;
    for (let a = 0; a < p; a++) {
      if (xr[a] === 0) continue;
      const row = information[a]!;
      for (let b = 0; b < p; b++) row[b]! += xr[a]! * wr[b]!;
    }
  });
}

function multiplySquare(a: Matrix, b: Matrix): Matrix {
  const n = a.length;
  const out = zeros(n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i]![k]!;
      for (let j = 0; j < n; j++) out[i]![j]! += aik * b[k]![j]!;
    }
  }
  return out;
}

// ---- covariance parameterizations used by the optimizer -------------------------------------------

interface Parameterization {
  start(residualVariances: number[]): number[];
  sigma(phi: readonly number[]): Matrix;
  /** ∂ logLik / ∂φ from ∂ logLik / ∂Σ. */
  gradient(phi: readonly number[], sigma: Matrix, gradientSigma: Matrix): number[];
}

/** Σ = L L' with L lower triangular, its diagonal on the log scale: every positive definite Σ, unconstrained. */
function unstructured(size: number): Parameterization {
  const positions: [number, number][] = [];
  for (let i = 0; i < size; i++) for (let j = 0; j <= i; j++) positions.push([i, j]);
  const factor = (phi: readonly number[]) => {
    const l = zeros(size);
    positions.forEach(([i, j], k) => (l[i]![j] = i === j ? Math.exp(phi[k]!) : phi[k]!));
    return l;
  };
  return {
    start: (variances) => positions.map(([i, j]) => (i === j ? 0.5 * Math.log(variances[i]!) : 0)),
    sigma: (phi) => {
      const l = factor(phi);
      return l.map((row) => l.map((other) => row.reduce((sum, value, k) => sum + value * other[k]!, 0)));
    },
    gradient: (phi, _sigma, g) => {
      // d logLik = tr(G dΣ) = 2 tr(L' G dL) for symmetric G, so ∂/∂L = 2 G L (lower triangle).
      const l = factor(phi);
      return positions.map(([i, j]) => {
        let value = 0;
        for (let k = 0; k < size; k++) value += 2 * g[i]![k]! * l[k]![j]!;
        return i === j ? value * l[i]![i]! : value;
      });
    },
  };
}

/** Σ = s² ((1 − ρ) I + ρ J), φ = (log s, log((ρ + c) / (1 − ρ))) with c = 1 / (visits − 1), as nlme. */
function compoundSymmetry(size: number): Parameterization {
  const c = 1 / (size - 1);
  const rho = (z: number) => (Math.exp(z) - c) / (1 + Math.exp(z));
  const sigma = (phi: readonly number[]) => {
    const variance = Math.exp(2 * phi[0]!);
    const r = rho(phi[1]!);
    return zeros(size).map((row, i) => row.map((_x, j) => variance * (i === j ? 1 : r)));
  };
  return {
    start: (variances) => [0.5 * Math.log(variances.reduce((a, b) => a + b, 0) / size), Math.log(c)],
    sigma,
    gradient: (phi, s, g) => {
      const variance = Math.exp(2 * phi[0]!);
      const e = Math.exp(phi[1]!);
      const dRho = (e * (1 + c)) / (1 + e) ** 2;
      let dLogS = 0;
      let dR = 0;
      for (let i = 0; i < size; i++) {
        for (let j = 0; j < size; j++) {
          dLogS += g[i]![j]! * 2 * s[i]![j]!;
          if (i !== j) dR += g[i]![j]! * variance;
        }
      }
      return [dLogS, dR * dRho];
    },
  };
}

// ---- optimizer ---------------------------------------------------------------------------------------

/**
 * Maximizes f by BFGS with a backtracking line search, then Newton steps on a finite-difference Hessian
 * of the analytic gradient, until the Newton decrement (the log-likelihood still to gain) is below 1e-14
 * of |f| (and 1e-10 absolute). Throws when that is not reached: a non-converged fit is never returned.
 */
function maximize(
  f: (x: number[]) => number | null,
  gradient: (x: number[]) => number[] | null,
  start: number[],
): { phi: number[]; iterations: number } {
  const n = start.length;
  let x = [...start];
  let fx = f(x);
  let g = gradient(x);
  if (fx === null || g === null) {
    throw new StatisticsInputError('', 'the model cannot be fitted from its starting values (singular covariance)');
  }
  let inverseHessian = zeros(n).map((row, i) => ((row[i] = 1), row));
  let iterations = 0;
  const notConverged = (why: string) =>
    new StatisticsInputError('', `the fit did not converge (${why}); the model may be over-parameterized for the data`);

  for (; iterations < 1000; iterations++) {
    // Ascent direction d = H g.
    let d = matrixVector(inverseHessian, g);
    let slope = d.reduce((sum, value, i) => sum + value * g![i]!, 0);
    if (!(slope > 0)) {
      inverseHessian = zeros(n).map((row, i) => ((row[i] = 1), row));
      d = [...g];
      slope = d.reduce((sum, value) => sum + value * value, 0);
    }
    if (slope < 1e-12 * Math.max(1, Math.abs(fx))) break;
    let step = 1;
    let next: number[] = [];
    let fNext: number | null = null;
    for (let halving = 0; halving < 60; halving++) {
      next = x.map((value, i) => value + step * d[i]!);
      fNext = f(next);
      if (fNext !== null && fNext >= fx + 1e-4 * step * slope) break;
      step /= 2;
      fNext = null;
    }
    if (fNext === null) break;
    const gNext = gradient(next);
    if (gNext === null) break;
    const s = next.map((value, i) => value - x[i]!);
    const y = g.map((value, i) => value - gNext[i]!); // gradient of −f
    const sy = s.reduce((sum, value, i) => sum + value * y[i]!, 0);
    if (sy > 1e-12) {
      const hy = matrixVector(inverseHessian, y);
      const yhy = y.reduce((sum, value, i) => sum + value * hy[i]!, 0);
      inverseHessian = inverseHessian.map((row, i) =>
        row.map(
          (value, j) => value + ((sy + yhy) * s[i]! * s[j]!) / (sy * sy) - (hy[i]! * s[j]! + s[i]! * hy[j]!) / sy,
        ),
      );
    }
    const gain = fNext - fx;
    x = next;
    fx = fNext;
    g = gNext;
    if (gain < 1e-10 * Math.max(1, Math.abs(fx)) && Math.max(...g.map(Math.abs)) < 1e-4) break;
  }

  // Newton polishing.
  for (let newton = 0; newton < 50; newton++, iterations++) {
    const hessian = numericalJacobian(gradient, x);
    if (hessian === null) throw notConverged('the Hessian could not be evaluated');
    const negative = hessian.map((row) => row.map((value) => -value));
    const factor = cholesky(negative, 1e-14);
    if (factor === null) throw notConverged('the Hessian is not negative definite at the optimum');
    const d = choleskySolve(factor, g!);
    const decrement = d.reduce((sum, value, i) => sum + value * g![i]!, 0);
    if (decrement < Math.max(1e-10, 1e-14 * Math.abs(fx))) return { phi: x, iterations };
    let step = 1;
    let accepted = false;
    for (let halving = 0; halving < 40; halving++) {
      const next = x.map((value, i) => value + step * d[i]!);
      const fNext = f(next);
      if (fNext !== null && fNext >= fx - 1e-12 * Math.abs(fx)) {
        const gNext = gradient(next);
        if (gNext !== null) {
          x = next;
          fx = fNext;
          g = gNext;
          accepted = true;
          break;
        }
      }
      step /= 2;
    }
    if (!accepted) throw notConverged('no step improves the likelihood');
  }
  throw notConverged('Newton iterations exhausted');
}

/** Central-difference Jacobian of a vector function (symmetrized: it is used for Hessians). */
function numericalJacobian(fn: (x: number[]) => number[] | null, x: readonly number[]): Matrix | null {
  const n = x.length;
  const jacobian = zeros(n);
  for (let j = 0; j < n; j++) {
    const h = 1e-5 * Math.max(1, Math.abs(x[j]!));
    const plus = fn(x.map((value, i) => (i === j ? value + h : value)));
    const minus = fn(x.map((value, i) => (i === j ? value - h : value)));
    if (plus === null || minus === null) return null;
    for (let i = 0; i < n; i++) jacobian[i]![j] = (plus[i]! - minus[i]!) / (2 * h);
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const mean = (jacobian[i]![j]! + jacobian[j]![i]!) / 2;
      jacobian[i]![j] = mean;
      jacobian[j]![i] = mean;
    }
  }
  return jacobian;
}

// ---- Satterthwaite degrees of freedom, as emmeans for gls -------------------------------------------

/**
 * emmeans (mode = "satterthwaite") for a gls fit: df = 2 (k'Vk)² / (g' A g). The parameters are nlme's: θ for
 * the shape of Σ = σ² Σ̃(θ) (correlations and log variance ratios to the first visit, or the compound-symmetry
 * correlation) and log σ, σ² the first visit's variance. A is the inverse of the negative Hessian of the
 * (restricted) log-likelihood in (θ, log σ), β at its GLS estimate (nlme's apVar, computed accurately here);
 * g_θ = k' ∂(σ² (X'Σ̃(θ)⁻¹X)⁻¹)/∂θ k at fixed σ (emmeans' gls_grad), and g_σ = 2 k'Vk with V nlme's vcov,
 * which for ML carries the factor N / (N − p). The result does not depend on how θ parameterizes the shape.
 */
class SatterthwaiteDf {
  private readonly covarianceOfParameters: Matrix;
  private readonly derivatives: Matrix[];

  constructor(model: Likelihood, sigma: Matrix, structure: 'unstructured' | 'compound_symmetry', vcov: Matrix) {
    const size = sigma.length;
    const scaled = structure === 'unstructured' ? unstructuredScaled(size) : compoundSymmetryScaled(size);
    const theta = scaled.fromSigma(sigma);
    const variance = sigma[0]![0]!;
    const sigmaAt = (parameters: readonly number[]) => {
      const shape = scaled.sigma(parameters.slice(0, -1));
      const scale = Math.exp(2 * parameters[parameters.length - 1]!);
      return shape.map((row) => row.map((value) => value * scale));
    };
    const gradientAt = (parameters: number[]): number[] | null => {
      const evaluation = model.evaluate(sigmaAt(parameters), true);
      if (evaluation === null) return null;
      return parameters.map((_p, j) => frobenius(evaluation.gradient!, derivativeOfMatrix(sigmaAt, parameters, j)));
    };
    const hessian = numericalJacobian(gradientAt, [...theta, 0.5 * Math.log(variance)]);
    const factor = hessian
      ? cholesky(
          hessian.map((row) => row.map((value) => -value)),
          1e-14,
        )
      : null;
    if (factor === null) {
      throw new StatisticsInputError(
        '',
        'the fit did not converge (the variance parameters have no finite covariance)',
      );
    }
    this.covarianceOfParameters = choleskyInverse(factor);
    const rawVcovAt = (t: number[]): Matrix => {
      const evaluation = model.evaluate(
        scaled.sigma(t).map((row) => row.map((value) => value * variance)),
        false,
      );
      if (evaluation === null) throw new StatisticsInputError('', 'the fit did not converge (singular covariance)');
      return evaluation.informationInverse;
    };
    this.derivatives = theta.map((_t, j) => derivativeOfMatrix(rawVcovAt, theta, j, 1e-3));
    this.derivatives.push(vcov.map((row) => row.map((value) => 2 * value)));
  }

  df(k: readonly number[], variance: number): number {
    const g = this.derivatives.map((d) => quadraticForm(d, k));
    return (2 * variance * variance) / quadraticForm(this.covarianceOfParameters, g);
  }
}

const frobenius = (a: Matrix, b: Matrix) =>
  a.reduce((sum, row, i) => sum + row.reduce((inner, value, j) => inner + value * b[i]![j]!, 0), 0);

/** ∂M/∂x_j by central differences with one Richardson extrapolation (error of order h⁴). */
function derivativeOfMatrix(fn: (x: number[]) => Matrix, x: readonly number[], j: number, baseStep = 1e-4): Matrix {
  const difference = (h: number) => {
    const plus = fn(x.map((value, i) => (i === j ? value + h : value)));
    const minus = fn(x.map((value, i) => (i === j ? value - h : value)));
    return plus.map((row, a) => row.map((value, b) => (value - minus[a]![b]!) / (2 * h)));
  };
  const h = baseStep * Math.max(1, Math.abs(x[j]!));
  const coarse = difference(h);
  const fine = difference(h / 2);
  return fine.map((row, a) => row.map((value, b) => (4 * value - coarse[a]![b]!) / 3));
}

interface ScaledParameterization {
  /** θ of the fitted Σ (σ = √Σ₁₁ taken out). */
  fromSigma(sigma: Matrix): number[];
  /** Σ̃(θ) = Σ / σ², whose first diagonal element is 1. */
  sigma(theta: readonly number[]): Matrix;
}

/**
 * Σ̃ = D R D with D = diag(1, δ₂, …) (varIdent, first visit the reference) and R a correlation matrix written
 * through a unit lower-triangular C: R = diag(CC')^(−½) CC' diag(CC')^(−½). θ = (C below the diagonal, log δ).
 */
function unstructuredScaled(size: number): ScaledParameterization {
  const below: [number, number][] = [];
  for (let i = 1; i < size; i++) for (let j = 0; j < i; j++) below.push([i, j]);
  return {
    fromSigma: (sigma) => {
      const sd = sigma.map((row, i) => Math.sqrt(row[i]!));
      const correlation = sigma.map((row, i) => row.map((value, j) => value / (sd[i]! * sd[j]!)));
      const l = cholesky(correlation, 0)!;
      return [...below.map(([i, j]) => l[i]![j]! / l[i]![i]!), ...sd.slice(1).map((s) => Math.log(s / sd[0]!))];
    },
    sigma: (theta) => {
      const c = zeros(size);
      for (let i = 0; i < size; i++) c[i]![i] = 1;
      below.forEach(([i, j], k) => (c[i]![j] = theta[k]!));
      const a = c.map((row) => c.map((other) => row.reduce((sum, value, k) => sum + value * other[k]!, 0)));
      const delta = [1, ...theta.slice(below.length).map(Math.exp)];
      return a.map((row, i) =>
        row.map((value, j) => (value / Math.sqrt(a[i]![i]! * a[j]![j]!)) * delta[i]! * delta[j]!),
      );
    },
  };
}

function compoundSymmetryScaled(size: number): ScaledParameterization {
  const c = 1 / (size - 1);
  return {
    fromSigma: (sigma) => {
      const rho = sigma[1]![0]! / sigma[0]![0]!;
      return [Math.log((rho + c) / (1 - rho))];
    },
    sigma: (theta) => {
      const e = Math.exp(theta[0]!);
      const rho = (e - c) / (1 + e);
      return zeros(size).map((row, i) => row.map((_x, j) => (i === j ? 1 : rho)));
    },
  };
}
