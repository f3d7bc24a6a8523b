import { NotFoundError, ValidationError } from '../../core/errors';
import type { UseCaseContext } from '../../core/use-case-context';
import type { components } from '../../generated/openapi';
import { analysisDatasetRows } from '../follow-up/follow-up.service';
import { categoryTest } from '../statistics/baseline';
import { runAncova, runBinaryAnalysis, runMixedModel } from '../statistics/outcome-analysis.service';
import { mean, standardDeviation } from '../../lib/statistics/descriptives';
import type { DatasetRow } from '../follow-up/analysis-dataset';
import type { TrialView } from '../trials/trials';
import { meanWithInterval, trajectorySvg } from './trajectory';
import {
  analysisPopulation,
  methodsSentence,
  noPerProtocolReasons,
  type Population,
  POPULATION_DEFINITIONS,
} from './outcome-populations';

type OutcomeAnalysis = components['schemas']['OutcomeAnalysis'];
type CovariateSpec = components['schemas']['CovariateSpec'];

const NUMERIC_TYPES = new Set(['scale', 'number', 'integer', 'count']);

/**
 * A measure's analysis on the trial's own data: ANCOVA at one visit adjusted for the measure's baseline value and
 * the site (the stratification factor), or the MMRM over every post-baseline visit, on one analysis population.
 * Arms are the caller's labels (masked for blinded keys): the dataset rows come labelled.
 */
export async function analyseOutcome(
  ctx: UseCaseContext,
  input: AnalysisInput & { trialId: string },
): Promise<OutcomeAnalysis> {
  const { trial, rows } = await analysisDatasetRows(ctx, { trialId: input.trialId });
  const labeller = await ctx.armLabeller(trial.id);
  return analyseOn(
    trial,
    rows,
    labeller.arms(trial.arms).map((arm) => arm.code),
    input,
  );
}

interface AnalysisInput {
  measure: string;
  visit?: string;
  population?: Population;
  model?: 'ancova' | 'mmrm';
  reference?: string;
}

/** The analysis on rows already read and labelled; `arms` as the caller lists them. */
function analyseOn(trial: TrialView, rows: DatasetRow[], arms: string[], input: AnalysisInput): OutcomeAnalysis {
  const measure = numericMeasure(trial, input.measure);
  const model = input.model ?? 'ancova';
  const population = input.population ?? 'itt';
  const postBaseline = measure.visits.filter((v) => v !== 'baseline');
  const visit = input.visit ?? trial.primaryVisit ?? postBaseline[postBaseline.length - 1];
  if (model === 'ancova' && (visit === undefined || !postBaseline.includes(visit))) {
    throw new ValidationError([
      { pointer: '/visit', detail: `${measure.code} is not measured after baseline at ${visit}` },
    ]);
  }
  const reference = input.reference ?? arms[arms.length - 1]!;
  if (!arms.includes(reference)) {
    throw new ValidationError([{ pointer: '/reference', detail: `must be one of ${arms.join(', ')}` }]);
  }
  const withBaseline = measure.visits.includes('baseline');
  const visits = model === 'ancova' ? [visit!] : postBaseline;
  const selected = analysisPopulation(rows, { measure: measure.code, visits, population, withBaseline });

  const sites = new Set(selected.analysed.map((row) => row.siteCode));
  const adjustForSite = sites.size > 1;
  const covariates: CovariateSpec[] = [
    ...(withBaseline ? [{ name: 'baseline', type: 'number' as const }] : []),
    ...(adjustForSite ? [{ name: 'site', type: 'category' as const }] : []),
  ];
  const covariateValues = (row: (typeof selected.analysed)[number]) => ({
    ...(withBaseline ? { baseline: row.baseline! } : {}),
    ...(adjustForSite ? { site: row.siteCode } : {}),
  });
  const counts = arms.map((arm) => {
    const randomized = selected.randomized.get(arm) ?? 0;
    const outside = selected.perProtocolExcluded.get(arm) ?? { excluded: 0, reasons: noPerProtocolReasons() };
    return {
      arm,
      randomized,
      analysed: new Set(selected.analysed.filter((r) => r.arm === arm).map((r) => r.participantId)).size,
      missingOutcome: selected.missingOutcome.get(arm) ?? 0,
      missingBaseline: selected.missingBaseline.get(arm) ?? 0,
      notYetDue: selected.notYetDue.get(arm) ?? 0,
      perProtocol: { included: randomized - outside.excluded, excluded: outside.excluded, reasons: outside.reasons },
    };
  });
  const base = {
    measure: measure.code,
    label: measure.label,
    model,
    population: { code: population, definition: selected.definition },
    reference,
    covariates: covariates.map((c) => c.name),
    arms: counts,
  };
  /** A model that cannot be fitted on the data recorded so far is an answer that says why, not an error. */
  const fitted = <T>(run: () => T): { result?: T; notEstimable?: string } => {
    try {
      return { result: run() };
    } catch (error) {
      if (error instanceof ValidationError) return { notEstimable: `the ${model} cannot be fitted: ${error.message}` };
      throw error;
    }
  };
  if (model === 'ancova') {
    const { result: ancova, notEstimable } = fitted(() =>
      runAncova({
        reference,
        covariates,
        rows: selected.analysed.map((row) => ({
          group: row.arm,
          outcome: row.outcome,
          covariates: covariateValues(row),
        })),
      }),
    );
    return {
      ...base,
      visit: visit!,
      ...(ancova ? { ancova } : { notEstimable }),
      methods: methodsSentence({
        measure: measure.label,
        visit: visit!,
        model,
        withBaseline,
        adjustForSite,
        population,
      }),
    };
  }
  const { result: mixedModel, notEstimable } = fitted(() =>
    runMixedModel({
      reference,
      visits,
      covariates,
      rows: selected.analysed.map((row) => ({
        subject: row.participantId,
        group: row.arm,
        visit: row.visit,
        outcome: row.outcome,
        covariates: covariateValues(row),
      })),
    }),
  );
  return {
    ...base,
    visit: null,
    ...(mixedModel ? { mixedModel } : { notEstimable }),
    methods: methodsSentence({ measure: measure.label, visit: null, model, withBaseline, adjustForSite, population }),
  };
}

/** The measure, refused as in the analysis when unknown (404) or not numeric (422). */
function numericMeasure(trial: TrialView, code: string) {
  const measure = trial.measures.find((m) => m.code === code);
  if (!measure) throw new NotFoundError(`measure ${code} is not a measure of this trial`);
  if (!NUMERIC_TYPES.has(measure.type)) {
    throw new ValidationError([
      { pointer: '/measure', detail: `is a ${measure.type} measure; only numeric measures are analysed here` },
    ]);
  }
  return measure;
}

/**
 * The trajectory plot: per visit of the measure (baseline included) and arm, the mean of the recorded outcomes with
 * its t-based 95% CI, in the population asked for; arms as the caller sees them.
 */
export async function outcomeTrajectorySvg(
  ctx: UseCaseContext,
  input: { trialId: string; measure: string; population?: 'itt' | 'per_protocol' },
): Promise<string> {
  const population = input.population ?? 'itt';
  const { trial, rows } = await analysisDatasetRows(ctx, { trialId: input.trialId });
  const measure = numericMeasure(trial, input.measure);
  const labeller = await ctx.armLabeller(trial.id);
  const arms = labeller.arms(trial.arms).map((arm) => arm.code);
  const kept = population === 'itt' ? rows : rows.filter((row) => row.perProtocolExclusions.length === 0);
  const points = measure.visits.flatMap((visit) =>
    arms.map((arm) => {
      const values = new Map<string, number>();
      for (const row of kept) {
        if (row.arm !== arm) continue;
        const score = numericScore(
          visit === 'baseline'
            ? row.baselineScores?.[measure.code]?.score
            : row.visit === visit
              ? row.scores?.[measure.code]?.score
              : null,
        );
        if (score !== null) values.set(row.participantId, score);
      }
      return { arm, visit, ...meanWithInterval([...values.values()]) };
    }),
  );
  return trajectorySvg({
    title: trial.title,
    measure: measure.label,
    population: population === 'itt' ? 'intention-to-treat' : 'per-protocol',
    visits: measure.visits,
    arms,
    points,
  });
}

type OutcomeSummary = components['schemas']['OutcomeSummary'];
type SummaryRow = OutcomeSummary['rows'][number];

/**
 * The binary outcome's odds ratio of each arm against the reference from a logistic regression on arm, the
 * measure's baseline value (0/1, when measured at baseline) and the site (when more than one) — the EMA's
 * adjustment, as `POST /v1/stats/binary` with rows (R's glm). Participants need the outcome and its baseline.
 */
function adjustedOddsRatios(
  due: readonly DatasetRow[],
  measure: string,
  withBaseline: boolean,
  reference: string,
): { differences: SummaryRow['differences']; notEstimable: string | null } {
  const rows = due.flatMap((row) => {
    const outcome = row.scores?.[measure]?.score;
    const baseline = row.baselineScores?.[measure]?.score;
    if (typeof outcome !== 'boolean' || (withBaseline && typeof baseline !== 'boolean')) return [];
    return [{ group: row.arm, outcome: outcome ? 1 : 0, baseline: baseline ? 1 : 0, site: row.siteCode }];
  });
  const adjustForSite = new Set(rows.map((row) => row.site)).size > 1;
  const covariates: CovariateSpec[] = [
    ...(withBaseline ? [{ name: 'baseline', type: 'number' as const }] : []),
    ...(adjustForSite ? [{ name: 'site', type: 'category' as const }] : []),
  ];
  try {
    const result = runBinaryAnalysis({
      reference,
      covariates,
      rows: rows.map((row) => ({
        group: row.group,
        outcome: row.outcome,
        covariates: {
          ...(withBaseline ? { baseline: row.baseline } : {}),
          ...(adjustForSite ? { site: row.site } : {}),
        },
      })),
    });
    if (result.method !== 'logistic') return { differences: [], notEstimable: null };
    return {
      differences: result.adjustedOddsRatios.map((or) => ({
        arm: or.group,
        method: 'adjusted_odds_ratio' as const,
        estimate: or.oddsRatio,
        ciLower: or.ciLower,
        ciUpper: or.ciUpper,
        p: or.p,
      })),
      notEstimable: null,
    };
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return { differences: [], notEstimable: `the adjusted odds ratio cannot be estimated: ${error.message}` };
  }
}

const numericScore = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;

/**
 * Table 2: every numeric, binary or category measure at every post-baseline visit, per arm n and mean (SD),
 * events (%) or n (%) per level, and each arm against the reference: the adjusted difference of the ANCOVA
 * (baseline score and site, as `analyseOutcome`) for numeric measures, the risk difference (Wald CI) with
 * Fisher's exact p for binary ones; for category measures Table 1's test of the arm × level table (`categoryTest`).
 * Participants are those whose visit is due, in their randomized arm (ITT, observed outcomes), or with
 * `per_protocol` those of them in the per-protocol population.
 */
export async function outcomeSummary(
  ctx: UseCaseContext,
  input: { trialId: string; reference?: string; population?: 'itt' | 'per_protocol' },
): Promise<{ summary: OutcomeSummary; title: string }> {
  const population = input.population ?? 'itt';
  const dataset = await analysisDatasetRows(ctx, { trialId: input.trialId });
  const trial = dataset.trial;
  const rows =
    population === 'itt' ? dataset.rows : dataset.rows.filter((row) => row.perProtocolExclusions.length === 0);
  const labeller = await ctx.armLabeller(trial.id);
  const arms = labeller.arms(trial.arms).map((arm) => arm.code);
  const reference = input.reference ?? arms[arms.length - 1]!;
  if (!arms.includes(reference)) {
    throw new ValidationError([{ pointer: '/reference', detail: `must be one of ${arms.join(', ')}` }]);
  }
  const others = arms.filter((arm) => arm !== reference);
  const table: SummaryRow[] = [];
  for (const measure of trial.measures) {
    const binary = measure.type === 'binary';
    const category = measure.type === 'category';
    if (!binary && !category && !NUMERIC_TYPES.has(measure.type)) continue;
    for (const visit of measure.visits.filter((v) => v !== 'baseline')) {
      const due = rows.filter((row) => row.visit === visit && row.status !== 'not_due');
      const byArm = arms.map((arm): SummaryRow['byArm'][number] => {
        const own = due.filter((row) => row.arm === arm);
        const scores = own.map((row) => row.scores?.[measure.code]?.score ?? null);
        /** n recorded and missing among those due; the type's own figures are filled in below. */
        const counted = (recorded: readonly unknown[]) => ({
          arm,
          n: recorded.length,
          missing: own.length - recorded.length,
          mean: null,
          sd: null,
          events: null,
          percent: null,
          levels: null,
        });
        const share = (count: number, of: number) => (of === 0 ? null : (100 * count) / of);
        if (category) {
          const recorded = scores.filter((s): s is string => typeof s === 'string');
          const levels = measure.levels!.map((level) => {
            const count = recorded.filter((s) => s === level).length;
            return { level, count, percent: share(count, recorded.length) };
          });
          return { ...counted(recorded), levels };
        }
        if (binary) {
          const recorded = scores.filter((s): s is boolean => typeof s === 'boolean');
          const events = recorded.filter(Boolean).length;
          return { ...counted(recorded), events, percent: share(events, recorded.length) };
        }
        const values = scores.map(numericScore).filter((s): s is number => s !== null);
        return {
          ...counted(values),
          mean: values.length === 0 ? null : mean(values),
          sd: values.length < 2 ? null : standardDeviation(values),
        };
      });
      const differences: SummaryRow['differences'] = [];
      let notEstimable: string | null = null;
      let test: SummaryRow['test'] = null;
      if (category) {
        test = categoryTest(byArm.map((a) => a.levels!.map((l) => l.count)));
        if (!test) notEstimable = 'no test between arms: an arm has no recorded outcome or fewer than two levels occur';
      } else if (binary) {
        for (const arm of others) {
          const group = byArm.find((a) => a.arm === arm)!;
          const base = byArm.find((a) => a.arm === reference)!;
          try {
            const result = runBinaryAnalysis({
              reference,
              groups: [
                { label: arm, events: group.events!, n: group.n },
                { label: reference, events: base.events!, n: base.n },
              ],
            });
            if (result.method !== 'counts') continue;
            const rd = result.riskDifference;
            differences.push({
              arm,
              method: 'risk_difference',
              estimate: rd.estimate,
              ciLower: rd.ciLower,
              ciUpper: rd.ciUpper,
              p: result.exactOddsRatio.p,
            });
          } catch (error) {
            if (!(error instanceof ValidationError)) throw error;
            notEstimable = `the risk difference cannot be computed: ${error.message}`;
          }
        }
        const adjusted = adjustedOddsRatios(due, measure.code, measure.visits.includes('baseline'), reference);
        differences.push(...adjusted.differences);
        if (adjusted.notEstimable) notEstimable = notEstimable ?? adjusted.notEstimable;
      } else {
        const analysis = analyseOn(trial, rows, arms, {
          measure: measure.code,
          visit,
          population,
          model: 'ancova',
          reference,
        });
        if (analysis.ancova) {
          for (const d of analysis.ancova.differences) {
            differences.push({
              arm: d.group,
              method: 'ancova',
              estimate: d.estimate,
              ciLower: d.ciLower,
              ciUpper: d.ciUpper,
              p: d.p,
            });
          }
        } else {
          notEstimable = analysis.notEstimable ?? null;
        }
      }
      table.push({
        measure: measure.code,
        label: measure.label,
        unit: measure.unit ?? null,
        visit,
        type: binary ? 'binary' : category ? 'category' : 'continuous',
        byArm,
        differences,
        test,
        notEstimable,
      });
    }
  }
  return {
    title: trial.title,
    summary: {
      reference,
      arms,
      population: { code: population, definition: POPULATION_DEFINITIONS[population] },
      rows: table,
      note:
        'Continuous measures: mean (SD) of the recorded outcomes; difference = adjusted mean difference (arm − ' +
        `${reference}) from an ANCOVA on arm, baseline score and centre, 95% CI and p. Binary measures: n (%) with ` +
        `the event; differences = risk difference (arm − ${reference}, unadjusted, Wald 95% CI) with Fisher's ` +
        `exact p, and the odds ratio (arm / ${reference}) from a logistic regression on arm, baseline value and ` +
        "centre (Wald 95% CI). Category measures: n (%) per level; test = arm × level, Pearson chi-square (Yates' " +
        "correction on 2 × 2 tables) or Fisher's exact test when an expected count is below 5, as in Table 1.",
    },
  };
}
