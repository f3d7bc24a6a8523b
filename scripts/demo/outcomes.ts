import type { TrialdeskClient } from '../../src/client';
import type { components } from '../../src/generated/openapi';

type OutcomeAnalysis = components['schemas']['OutcomeAnalysis'];
type OutcomeSummary = components['schemas']['OutcomeSummary'];

export interface DemoOutcomes {
  /** The primary measure and the latest visit of it with recorded outcomes (null when none is recorded yet). */
  measure: string;
  visit: string | null;
  /** The ANCOVA of the primary measure at that visit (ITT), null when no visit has data. */
  analysis: OutcomeAnalysis | null;
  /** Table 2 (ITT): every measure at every post-baseline visit. */
  summary: OutcomeSummary;
}

/**
 * The end of the demo: Table 2 for the trial, then the analysis of the primary outcome at the latest visit the demo
 * has data for (the 6-month visit: the 12-month window has not opened), both through the API as a statistician would.
 */
export async function demoOutcomes(
  client: TrialdeskClient,
  trial: { id: string; measures?: { code: string; primary?: boolean }[] },
): Promise<DemoOutcomes> {
  const trialId = trial.id;
  const summary = await client.get('/v1/trials/{trialId}/outcomes/summary', { params: { path: { trialId } } });
  const measures = trial.measures ?? [];
  const primary = measures.find((m) => m.primary) ?? measures[0]!;
  const withData = summary.rows.filter((row) => row.measure === primary.code && row.byArm.some((arm) => arm.n > 0));
  const visit = withData.at(-1)?.visit ?? null;
  const analysis =
    visit === null
      ? null
      : await client.get('/v1/trials/{trialId}/outcomes/{measure}/analysis', {
          params: { path: { trialId, measure: primary.code }, query: { visit } },
        });
  return { measure: primary.code, visit, analysis, summary };
}

/** The requests `demoOutcomes` sent: Table 2, and the analysis when a visit has data. */
export const outcomeRequestCount = (outcomes: DemoOutcomes) => 1 + (outcomes.analysis === null ? 0 : 1);

const fixed = (value: number | null | undefined, digits: number) =>
  value === null || value === undefined ? '—' : value.toFixed(digits);
const pValue = (p: number | null | undefined) =>
  p === null || p === undefined ? '—' : p < 0.001 ? '<0.001' : p.toFixed(3);

/** Table 2 and the primary analysis as the demo prints them. */
export function formatOutcomes(outcomes: DemoOutcomes): string {
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
    lines.push(`No ${outcomes.measure} outcome is recorded after baseline yet: the primary analysis waits for data.`);
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
  lines.push(`  Methods: ${analysis.methods}`);
  return lines.join('\n');
}
