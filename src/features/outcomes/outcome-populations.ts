import type { DatasetRow } from '../follow-up/analysis-dataset';
import { PER_PROTOCOL_REASONS, PerProtocolReason } from './per-protocol';

export type Population = 'itt' | 'complete_case' | 'per_protocol';

export const POPULATION_DEFINITIONS: Record<Population, string> = {
  itt:
    'Intention to treat: every randomized participant in the arm they were randomized to; those with the ' +
    'outcome (and its baseline value) recorded are analysed, the others are counted as missing (the mixed model ' +
    'uses every recorded post-baseline visit, assuming missing at random).',
  complete_case:
    'Complete cases: randomized participants, by randomized arm, with the baseline value and the outcome at ' +
    'every analysed visit recorded.',
  per_protocol:
    'Per protocol: randomized participants, by randomized arm, except those whose latest analysis event (not ' +
    'retracted) is excluded_from_analysis, those with a major protocol deviation (recorded, or derived from the ' +
    'sessions), and, when the trial has a delivery plan, those whose dose period (intervention period, or until an ' +
    "intervention withdrawal) has ended with fewer sessions than their arm's minimumSessions; of the others, those " +
    'with the outcome (and its baseline value) recorded are analysed.',
};

export interface AnalysisRow {
  participantId: string;
  arm: string;
  siteCode: string;
  visit: string;
  outcome: number;
  baseline: number | null;
}

export interface SelectedPopulation {
  definition: string;
  analysed: AnalysisRow[];
  /** Participants per arm (in the dataset, i.e. randomized and visible to the caller). */
  randomized: Map<string, number>;
  /** Participants per arm without an analysable outcome although one was due, or without a baseline value. */
  missingOutcome: Map<string, number>;
  missingBaseline: Map<string, number>;
  /** Participants per arm none of whose analysed visits is due yet (not counted as missing). */
  notYetDue: Map<string, number>;
  /** Per arm: participants outside the per-protocol population, and how often each reason applies. */
  perProtocolExcluded: Map<string, { excluded: number; reasons: Record<PerProtocolReason, number> }>;
}

export const noPerProtocolReasons = () =>
  Object.fromEntries(PER_PROTOCOL_REASONS.map((reason) => [reason, 0])) as Record<PerProtocolReason, number>;
const increment = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
const numeric = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

/**
 * The rows of an analysis: for each participant, the measure at each of `visits` with its baseline value, kept
 * according to the population. A participant counts once per arm in each tally.
 */
export function analysisPopulation(
  rows: readonly DatasetRow[],
  options: { measure: string; visits: readonly string[]; population: Population; withBaseline: boolean },
): SelectedPopulation {
  const { measure, visits, population, withBaseline } = options;
  const byParticipant = new Map<string, DatasetRow[]>();
  for (const row of rows) {
    const list = byParticipant.get(row.participantId) ?? [];
    list.push(row);
    byParticipant.set(row.participantId, list);
  }
  const selected: SelectedPopulation = {
    definition: POPULATION_DEFINITIONS[population],
    analysed: [],
    randomized: new Map(),
    missingOutcome: new Map(),
    missingBaseline: new Map(),
    notYetDue: new Map(),
    perProtocolExcluded: new Map(),
  };
  for (const [participantId, own] of byParticipant) {
    const arm = own[0]!.arm;
    increment(selected.randomized, arm);
    const exclusions = own[0]!.perProtocolExclusions;
    if (exclusions.length > 0) {
      const tally = selected.perProtocolExcluded.get(arm) ?? { excluded: 0, reasons: noPerProtocolReasons() };
      tally.excluded += 1;
      for (const reason of exclusions) tally.reasons[reason] += 1;
      selected.perProtocolExcluded.set(arm, tally);
      if (population === 'per_protocol') continue;
    }
    const baseline = withBaseline ? numeric(own[0]!.baselineScores?.[measure]?.score) : null;
    const atVisits = visits.map((visit) => own.find((row) => row.visit === visit));
    const due = atVisits.filter((row) => row !== undefined && row.status !== 'not_due');
    if (due.length === 0) {
      increment(selected.notYetDue, arm);
      continue;
    }
    if (withBaseline && baseline === null) {
      increment(selected.missingBaseline, arm);
      continue;
    }
    const observed = atVisits
      .map((row) => (row === undefined ? null : { row, outcome: numeric(row.scores?.[measure]?.score) }))
      .filter((entry): entry is { row: DatasetRow; outcome: number } => entry !== null && entry.outcome !== null);
    const complete = observed.length === visits.length;
    if (observed.length === 0 || (population === 'complete_case' && !complete)) {
      increment(selected.missingOutcome, arm);
      continue;
    }
    for (const { row, outcome } of observed) {
      selected.analysed.push({ participantId, arm, siteCode: row.siteCode, visit: row.visit, outcome, baseline });
    }
  }
  selected.analysed.sort((a, b) =>
    a.participantId === b.participantId
      ? visits.indexOf(a.visit) - visits.indexOf(b.visit)
      : a.participantId < b.participantId
        ? -1
        : 1,
  );
  return selected;
}

/** The sentence for the paper's methods section. */
export function methodsSentence(options: {
  measure: string;
  visit: string | null;
  model: 'ancova' | 'mmrm';
  withBaseline: boolean;
  adjustForSite: boolean;
  population: Population;
}): string {
  const adjusted = [
    'arm',
    ...(options.withBaseline ? ['baseline score'] : []),
    ...(options.adjustForSite ? ['centre (the stratification factor)'] : []),
  ];
  const list = adjusted.length === 1 ? adjusted[0]! : `${adjusted.slice(0, -1).join(', ')} and ${adjusted.at(-1)}`;
  const population = {
    itt: 'in the intention-to-treat population (participants analysed in the arm to which they were randomized)',
    complete_case: 'in complete cases',
    per_protocol:
      'in the per-protocol population (participants not excluded from analysis, without a major protocol ' +
      'deviation and, where a minimum number of sessions was planned, having received it)',
  }[options.population];
  if (options.model === 'ancova') {
    return (
      `Adjusted mean differences in the ${options.measure} at visit ${options.visit} were estimated by analysis of ` +
      `covariance of the score on ${list}, ${population}, with least-squares means averaged over centres with ` +
      `equal weights and 95% confidence intervals; no imputation was made for missing outcomes.`
    );
  }
  return (
    `The ${options.measure} at every post-baseline visit was analysed with a mixed model for repeated measures ` +
    `(fixed effects ${list}, visit and arm-by-visit interaction; unstructured covariance within participant; ` +
    `REML; Satterthwaite degrees of freedom), ${population}, assuming outcomes missing at random.`
  );
}
