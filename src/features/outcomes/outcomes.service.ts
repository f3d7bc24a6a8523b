import { NotFoundError, ValidationError } from '../../core/errors';
import type { UseCaseContext } from '../../core/use-case-context';
import type { components } from '../../generated/openapi';
import { analysisDatasetRows } from '../follow-up/follow-up.service';
import { runAncova, runMixedModel } from '../statistics/outcome-analysis.service';
import { analysisPopulation, methodsSentence, type Population } from './outcome-populations';

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
  input: {
    trialId: string;
    measure: string;
    visit?: string;
    population?: Population;
    model?: 'ancova' | 'mmrm';
    reference?: string;
  },
): Promise<OutcomeAnalysis> {
  const { trial, rows } = await analysisDatasetRows(ctx, { trialId: input.trialId });
  const measure = trial.measures.find((m) => m.code === input.measure);
  if (!measure) throw new NotFoundError(`measure ${input.measure} is not a measure of this trial`);
  if (!NUMERIC_TYPES.has(measure.type)) {
    throw new ValidationError([
      { pointer: '/measure', detail: `is a ${measure.type} measure; only numeric measures are analysed here` },
    ]);
  }
  const model = input.model ?? 'ancova';
  const population = input.population ?? 'itt';
  const postBaseline = measure.visits.filter((v) => v !== 'baseline');
  const visit = input.visit ?? trial.primaryVisit ?? postBaseline[postBaseline.length - 1];
  if (model === 'ancova' && (visit === undefined || !postBaseline.includes(visit))) {
    throw new ValidationError([
      { pointer: '/visit', detail: `${measure.code} is not measured after baseline at ${visit}` },
    ]);
  }
  const labeller = await ctx.armLabeller(trial.id);
  const arms = labeller.arms(trial.arms).map((arm) => arm.code);
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
  const counts = arms.map((arm) => ({
    arm,
    randomized: selected.randomized.get(arm) ?? 0,
    analysed: new Set(selected.analysed.filter((r) => r.arm === arm).map((r) => r.participantId)).size,
    missingOutcome: selected.missingOutcome.get(arm) ?? 0,
    missingBaseline: selected.missingBaseline.get(arm) ?? 0,
    notYetDue: selected.notYetDue.get(arm) ?? 0,
  }));
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
