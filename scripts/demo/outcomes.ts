import type { TrialdeskClient } from '../../src/client';
import type { components } from '../../src/generated/openapi';

type OutcomeAnalysis = components['schemas']['OutcomeAnalysis'];
type OutcomeSummary = components['schemas']['OutcomeSummary'];

export interface DemoOutcomes {
  trialId: string;
  /** The primary measure and the trial's primary visit (null when the trial names none). */
  measure: string;
  visit: string | null;
  /**
   * The default analysis of the primary outcome (GET …/outcomes/{measure}/analysis without parameters: ANCOVA at the
   * primary visit, ITT, adjusted for the baseline score and the centre); null while that visit has no data.
   */
  analysis: OutcomeAnalysis | null;
  /** Table 2 (ITT): every measure at every post-baseline visit. */
  summary: OutcomeSummary;
  /** The forest plot of Table 2's adjusted differences (GET …/outcomes/forest.svg); null without an analysis. */
  forestSvg: string | null;
  /** The analysis dataset as CSV (GET …/analysis-dataset, Accept: text/csv), what R reads; null without an analysis. */
  datasetCsv: string | null;
}

/**
 * The end of the demo, through the API as a statistician would: Table 2 for the trial, the default analysis of the
 * primary outcome at the trial's primary visit (the 12-month visit, whose window has closed on the demo's
 * calendar), the forest plot and the analysis dataset that R reads to check the numbers.
 */
export async function demoOutcomes(
  client: TrialdeskClient,
  trial: { id: string; primaryVisit?: string | null; measures?: { code: string; primary?: boolean }[] },
): Promise<DemoOutcomes> {
  const trialId = trial.id;
  const summary = await client.get('/v1/trials/{trialId}/outcomes/summary', { params: { path: { trialId } } });
  const measures = trial.measures ?? [];
  const primary = measures.find((m) => m.primary) ?? measures[0]!;
  const visit = trial.primaryVisit ?? null;
  const hasData = summary.rows.some(
    (row) => row.measure === primary.code && row.visit === visit && row.byArm.some((arm) => arm.n > 0),
  );
  if (!hasData)
    return { trialId, measure: primary.code, visit, analysis: null, summary, forestSvg: null, datasetCsv: null };
  const analysis = await client.get('/v1/trials/{trialId}/outcomes/{measure}/analysis', {
    params: { path: { trialId, measure: primary.code } },
  });
  const text = async (request: Promise<{ data?: unknown; error?: unknown }>, what: string): Promise<string> => {
    const { data, error } = await request;
    if (error !== undefined || typeof data !== 'string') throw new Error(`${what} could not be fetched`);
    return data;
  };
  const forestSvg = await text(
    client.api.GET('/v1/trials/{trialId}/outcomes/forest.svg', { params: { path: { trialId } }, parseAs: 'text' }),
    'the forest plot',
  );
  const datasetCsv = await text(
    client.api.GET('/v1/trials/{trialId}/analysis-dataset', {
      params: { path: { trialId } },
      headers: { Accept: 'text/csv' },
      parseAs: 'text',
    }),
    'the analysis dataset',
  );
  return { trialId, measure: primary.code, visit, analysis, summary, forestSvg, datasetCsv };
}

/** The requests `demoOutcomes` sent: Table 2, and the analysis, forest plot and dataset when the visit has data. */
export const outcomeRequestCount = (outcomes: DemoOutcomes) => 1 + (outcomes.analysis === null ? 0 : 3);

const fixed = (value: number | null | undefined, digits: number) =>
  value === null || value === undefined ? '—' : value.toFixed(digits);
const pValue = (p: number | null | undefined) =>
  p === null || p === undefined ? '—' : p < 0.001 ? '<0.001' : p.toFixed(3);

/** Table 2 and the primary analysis as the demo prints them. */
export function formatOutcomes(
  outcomes: DemoOutcomes,
  files: { forest?: string | null; dataset?: string | null } = {},
): string {
  const { summary, analysis } = outcomes;
  const lines = [
    '',
    `Outcomes by arm (Table 2, ${summary.population.code.toUpperCase()}; difference vs ${summary.reference})`,
  ];
  for (const row of summary.rows) {
    if (row.byArm.every((arm) => arm.n === 0)) continue;
    const arms = row.byArm.map((arm) =>
      row.type === 'continuous'
        ? `${arm.arm} ${fixed(arm.mean, 1)} (${fixed(arm.sd, 1)}), n=${arm.n}`
        : row.type === 'binary'
          ? `${arm.arm} ${arm.events}/${arm.n} (${fixed(arm.percent, 1)}%)`
          : `${arm.arm} n=${arm.n}`,
    );
    const differences = row.differences.map(
      (d) =>
        `${d.method === 'ancova' ? 'adj. diff' : d.method === 'risk_difference' ? 'RD' : 'adj. OR'} ` +
        `${fixed(d.estimate, 2)} (${fixed(d.ciLower, 2)} to ${fixed(d.ciUpper, 2)}), p ${pValue(d.p)}`,
    );
    lines.push(
      `  ${row.label} at ${row.visit}: ${arms.join('; ')}${differences.length ? ` — ${differences.join('; ')}` : ''}`,
    );
  }
  if (analysis === null) {
    lines.push(
      `No ${outcomes.measure} outcome is recorded at the primary visit${outcomes.visit ? ` (${outcomes.visit})` : ''} ` +
        'yet: the primary analysis waits for data.',
    );
    return lines.join('\n');
  }
  lines.push(
    '',
    `Primary outcome: ${analysis.label} at ${analysis.visit} (${analysis.model.toUpperCase()}, ${analysis.population.code})`,
  );
  for (const arm of analysis.arms) {
    lines.push(
      `  ${arm.arm}: randomized ${arm.randomized}, analysed ${arm.analysed}, missing outcome ${arm.missingOutcome}, ` +
        `missing baseline ${arm.missingBaseline}, not yet due ${arm.notYetDue}`,
    );
  }
  if (analysis.ancova) {
    for (const g of analysis.ancova.groups)
      lines.push(
        `  LS mean ${g.group}: ${fixed(g.lsMean, 2)} (95% CI ${fixed(g.ciLower, 2)} to ${fixed(g.ciUpper, 2)})`,
      );
    for (const d of analysis.ancova.differences)
      lines.push(
        `  ${d.group} − ${analysis.reference}: ${fixed(d.estimate, 2)} (95% CI ${fixed(d.ciLower, 2)} to ` +
          `${fixed(d.ciUpper, 2)}), p ${pValue(d.p)}`,
      );
  } else {
    lines.push(`  Not estimable: ${analysis.notEstimable}`);
  }
  lines.push(
    `  Methods: ${analysis.methods}`,
    `  Population: ${analysis.population.definition}`,
    `  GET /v1/trials/${outcomes.trialId}/outcomes/${analysis.measure}/analysis (?visit=, ?population=, ?model=mmrm)`,
    `Forest plot of Table 2's adjusted differences: GET /v1/trials/${outcomes.trialId}/outcomes/forest.svg` +
      (files.forest ? ` (written to ${files.forest})` : ''),
    `Analysis dataset (what R reads): GET /v1/trials/${outcomes.trialId}/analysis-dataset with Accept: text/csv` +
      (files.dataset ? ` (written to ${files.dataset})` : ''),
  );
  return lines.join('\n');
}
