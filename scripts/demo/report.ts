import type { components } from '../../src/generated/openapi';
import type { Cohort } from './cohort';
import { formatProcessEvaluation } from './substudy';
import type { BaselineTable, ConsortReport, DemoRun, FollowUpCompleteness, TTestResult } from './run';
import { formatSafety } from './safety';
import { visitPlan, visitRequests } from './visits';

type NumberSummary = components['schemas']['NumberSummary'];
type CategorySummary = components['schemas']['CategorySummary'];
type BaselineTest = components['schemas']['BaselineTest'];
type ReasonedCount = components['schemas']['ConsortReasonedCount'];

const fixed = (value: number | null | undefined, digits = 1) =>
  value === null || value === undefined ? '–' : value.toFixed(digits);
const signed = (value: number | null | undefined, digits = 2) =>
  value === null || value === undefined ? '–' : (value < 0 ? '' : ' ') + value.toFixed(digits);
export const formatP = (p: number) => (p < 0.001 ? '<0.001' : p.toFixed(3));

function table(rows: string[][], alignRight: (column: number) => boolean): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) =>
    row
      .map((cell, column) => (alignRight(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd(),
  );
}

export function formatConsort(report: ConsortReport): string {
  const { enrollment } = report;
  const { excluded } = enrollment;
  const lines = [`CONSORT flow (service users, as of ${report.asOf})`, '', 'Enrollment'];
  // Counts first for the reasons: the criteria texts are long and would push a count column far right.
  const reasons = (items: readonly { count: number; label: string }[]) =>
    items.map((item) => `      ${String(item.count).padStart(4)}  ${item.label}`);
  const heading = (label: string, value: number) => `${label.padEnd(36)}${String(value).padStart(5)}`;
  const notMeeting = excluded.notMeetingInclusionCriteria;
  lines.push(
    heading('  Assessed for eligibility', enrollment.assessedForEligibility),
    heading('  Excluded', excluded.total),
    heading('    Not meeting inclusion criteria', notMeeting.total),
    ...reasons(
      notMeeting.reasons.map((reason) => ({ count: reason.count, label: `${reason.text} (${reason.reason})` })),
    ),
  );
  if (notMeeting.reasons.reduce((sum, reason) => sum + reason.count, 0) > notMeeting.total) {
    lines.push('            (someone failing two criteria is listed under both and counted once in the total)');
  }
  lines.push(
    heading('    Declined to participate', excluded.declinedToParticipate.total),
    ...reasons(excluded.declinedToParticipate.reasons.map((reason) => ({ count: reason.count, label: reason.reason }))),
    heading('    Other reasons', excluded.otherReasons.total),
    ...reasons(excluded.otherReasons.reasons.map((reason) => ({ count: reason.count, label: reason.reason }))),
    heading('  Pending randomization', enrollment.pendingRandomization),
    heading('  Randomized', enrollment.randomized),
  );

  const arms = report.arms;
  const rows: string[][] = [['', ...arms.map((arm) => arm.arm)]];
  const section = (title: string) => rows.push([title, ...arms.map(() => '')]);
  const count = (label: string, pick: (arm: ConsortReport['arms'][number]) => number) =>
    rows.push([`  ${label}`, ...arms.map((arm) => String(pick(arm)))]);
  const reasoned = (label: string, pick: (arm: ConsortReport['arms'][number]) => ReasonedCount) => {
    count(label, (arm) => pick(arm).total);
    const reasons = [...new Set(arms.flatMap((arm) => pick(arm).reasons.map((reason) => reason.reason)))];
    for (const reason of reasons)
      rows.push([
        `    ${reason}`,
        ...arms.map((arm) => String(pick(arm).reasons.find((r) => r.reason === reason)?.count ?? 0)),
      ]);
  };
  section('Allocation');
  count('Allocated', (arm) => arm.allocated);
  count('Received allocated intervention', (arm) => arm.receivedAllocatedIntervention);
  reasoned('Did not receive allocated intervention', (arm) => arm.didNotReceiveAllocatedIntervention);
  section('Follow-up');
  reasoned('Lost to follow-up', (arm) => arm.lostToFollowUp);
  reasoned('Discontinued intervention', (arm) => arm.discontinuedIntervention);
  section('Analysis');
  count('Analysed', (arm) => arm.analysed);
  reasoned('Excluded from analysis', (arm) => arm.excludedFromAnalysis);
  lines.push('', ...table(rows, (column) => column > 0));

  const holds =
    enrollment.assessedForEligibility === excluded.total + enrollment.pendingRandomization + enrollment.randomized;
  const allocated = arms.reduce((sum, arm) => sum + arm.allocated, 0);
  lines.push(
    '',
    `Check: assessed ${enrollment.assessedForEligibility} = excluded ${excluded.total} + pending ${enrollment.pendingRandomization} + randomized ${enrollment.randomized}: ${holds ? 'holds' : 'DOES NOT HOLD'}`,
    `       allocated ${arms.map((arm) => arm.allocated).join(' + ')} = randomized ${enrollment.randomized}: ${allocated === enrollment.randomized ? 'holds' : 'DOES NOT HOLD'}`,
  );
  return lines.join('\n');
}

function describeTest(test: BaselineTest | null): string {
  if (test === null) return '';
  const df = test.df === null ? '' : `, df ${Number.isInteger(test.df) ? test.df : test.df.toFixed(1)}`;
  switch (test.method) {
    case 'welch':
      return `Welch t ${fixed(test.statistic, 2)}${df}`;
    case 'student':
      return `Student t ${fixed(test.statistic, 2)}${df}`;
    case 'chi_square':
      return `chi-square ${fixed(test.statistic, 2)}${df}`;
    case 'fisher_exact':
      return "Fisher's exact";
  }
}

export function wrap(text: string, width = 100): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

export function formatBaseline(title: string, baseline: BaselineTable, options: { withNote: boolean }): string {
  const arms = baseline.arms;
  const rows: string[][] = [['', ...arms.map((arm) => `${arm.arm} (n=${arm.n})`), 'SMD', 'test', 'p']];
  for (const variable of baseline.variables) {
    const name = `${variable.label ?? variable.name}${variable.unit ? ` (${variable.unit})` : ''}`;
    const test = [signed(variable.smd), describeTest(variable.test), variable.test ? formatP(variable.test.p) : ''];
    if (variable.type === 'category') {
      rows.push([`${name}, n (%)`, ...arms.map(() => ''), ...test]);
      const levels = (baseline.arms.map((arm) => variable.byArm[arm.arm]) as CategorySummary[]).flatMap(
        (summary) => summary?.levels.map((level) => level.level) ?? [],
      );
      for (const level of [...new Set(levels)]) {
        rows.push([
          `  ${level}`,
          ...arms.map((arm) => {
            const found = (variable.byArm[arm.arm] as CategorySummary | undefined)?.levels.find(
              (entry) => entry.level === level,
            );
            return found ? `${found.count} (${fixed(found.percent)})` : '–';
          }),
          '',
          '',
          '',
        ]);
      }
    } else {
      rows.push([
        `${name}, mean (SD)`,
        ...arms.map((arm) => {
          const summary = variable.byArm[arm.arm] as NumberSummary | undefined;
          if (!summary || summary.n === 0) return '–';
          return `${fixed(summary.mean)} (${fixed(summary.sd)})${summary.missing > 0 ? ` [${summary.missing} missing]` : ''}`;
        }),
        ...test,
      ]);
    }
  }
  const note = options.withNote && baseline.note ? ['', ...wrap(`Note: ${baseline.note}`)] : [];
  return [title, '', ...table(rows, (column) => column > 0 && column !== arms.length + 2), ...note].join('\n');
}

export function formatExperienceTest(result: TTestResult): string {
  const [first, second] = result.groups;
  const group = (g: TTestResult['groups'][number] | undefined) =>
    g ? `${g.label} ${g.mean.toFixed(1)} (SD ${fixed(g.sd)}, n ${g.n})` : '';
  const ci = result.confidenceInterval;
  return [
    "Case workers' years of experience, Welch two-sample t-test",
    `  ${group(first)} vs ${group(second)}`,
    `  t ${result.t.toFixed(2)}, df ${result.df.toFixed(1)}, p ${formatP(result.p)}; difference ${result.meanDifference.toFixed(2)} years ` +
      `(${Math.round(ci.level * 100)}% CI ${fixed(ci.lower, 2)} to ${fixed(ci.upper, 2)}); Hedges' g ${fixed(result.hedgesG, 2)}`,
  ].join('\n');
}

export function formatCoupons(run: DemoRun): string {
  if (!run.coupons.available) return 'coupons: not available in this service version';
  const { summary, issued } = run.coupons;
  const money = (amount: number, currency: string) =>
    `${currency === 'HKD' ? 'HK$' : `${currency} `}${amount.toLocaleString('en-US')}`;
  const lines = [
    `Interview coupons: ${issued.length} issued (${issued[0]?.reference ?? ''} … ${issued[issued.length - 1]?.reference ?? ''})`,
  ];
  for (const total of summary.byType) {
    lines.push(
      `  ${total.incentive}: ${total.netCount} net, ${money(total.netAmount, total.currency)} (issued ${total.issuedCount}, voided ${total.voidedCount})`,
    );
  }
  lines.push(
    `  by arm: ${summary.byArm.map((total) => `${total.arm ?? 'not randomized'} ${total.netCount} (${money(total.netAmount, total.currency)})`).join(', ')}`,
  );
  lines.push(`  by site: ${summary.bySite.map((total) => `${total.siteCode} ${total.netCount}`).join(', ')}`);
  return lines.join('\n');
}

export function formatTimings(run: DemoRun, requests: number): string {
  const total = run.timings.reduce((sum, timing) => sum + timing.ms, 0);
  return [
    `Timings: ${(total / 1000).toFixed(1)} s for ${requests} requests (${Math.round(requests / (total / 1000))}/s)`,
    ...run.timings.map((timing) => `  ${timing.phase.padEnd(24)} ${(timing.ms / 1000).toFixed(2).padStart(6)} s`),
  ].join('\n');
}

/**
 * The completeness table of GET …/follow-up/completeness: one line per visit, arm and site, a total line per
 * visit, the reasons for missed visits, and missing data per measure. Its check line says whether every row
 * adds up: randomized = completed (in + out of window) + missed + overdue + open + not due + not expected.
 */
export function formatCompleteness(report: FollowUpCompleteness, randomizedOn: string): string {
  const header = ['Visit', 'Arm', 'Site', 'Rand.', 'Expected', 'In window', 'Out of window', 'Missed', 'Overdue'];
  header.push('Open', 'Not due', 'Not expected');
  const counts = (row: FollowUpCompleteness['visits'][number]) =>
    [
      row.randomized,
      row.expected,
      row.completedInWindow,
      row.completedOutOfWindow,
      row.missed,
      row.overdue,
      row.open,
      row.notDue,
      row.notExpected,
    ].map(String);
  const rows: string[][] = [header];
  const visits = [...new Set(report.visits.map((row) => row.visit))];
  const zero = { randomized: 0, expected: 0, completedInWindow: 0, completedOutOfWindow: 0, missed: 0 };
  const reasons = new Map<string, number>();
  for (const visit of visits) {
    const total = { ...zero, overdue: 0, open: 0, notDue: 0, notExpected: 0 };
    for (const row of report.visits.filter((candidate) => candidate.visit === visit)) {
      rows.push([row.visit, row.arm, row.siteCode, ...counts(row)]);
      for (const key of Object.keys(total) as (keyof typeof total)[]) total[key] += row[key];
      for (const [reason, n] of Object.entries(row.missedByReason))
        reasons.set(`${visit}: ${reason}`, (reasons.get(`${visit}: ${reason}`) ?? 0) + n);
    }
    rows.push([visit, 'all', 'all', ...counts({ ...total, visit, arm: 'all', siteCode: 'all', missedByReason: {} })]);
  }
  const addsUp = report.visits.every(
    (row) =>
      row.randomized ===
      row.completedInWindow +
        row.completedOutOfWindow +
        row.missed +
        row.overdue +
        row.open +
        row.notDue +
        row.notExpected,
  );
  const missedReasons = [...reasons].map(([reason, n]) => `  missed ${reason}: ${n}`);
  const measures = report.measures.map(
    (m) =>
      `  ${m.measure} at ${m.visit}: ${m.assessments} assessments, ${m.missingScores} without a score, ` +
      `${m.missingItems} unanswered items`,
  );
  return [
    ...(randomizedOn === report.today
      ? [
          `Follow-up completeness on ${report.today} (GET …/follow-up/completeness; everyone was randomized today, so`,
          '6 and 12 months are not due yet and only the baseline can be assessed)',
        ]
      : [
          `Follow-up completeness on ${report.today} (GET …/follow-up/completeness; everyone was randomized on ` +
            `${randomizedOn},`,
          "so the 6- and 12-month windows have closed; the demo's service ran on a",
          'calendar that started on the randomization day)',
        ]),
    ...table(rows, (column) => column >= 3).map((line) => `  ${line}`),
    `  Check: randomized = completed + missed + overdue + open + not due + not expected in every row: ${
      addsUp ? 'holds' : 'FAILS'
    }`,
    ...missedReasons,
    'Missing data per measure',
    ...measures,
  ].join('\n');
}

/** Requests the run made, from the cohort: the same arithmetic as the run, for the timing line. */
export function countRequests(cohort: Cohort, run: DemoRun): number {
  let requests = 1 + 3 + 1 + cohort.serviceUsers.length + cohort.caseWorkers.length * 2 + 5 + 1;
  for (const person of cohort.serviceUsers) {
    requests += visitRequests(visitPlan(cohort.seed, person, cohort.today));
    const pathway = person.pathway;
    if (pathway.kind === 'declined_consent') requests += 1;
    if (pathway.kind === 'declined_event') requests += 1;
    if (pathway.kind === 'not_randomized') requests += 3;
    if (pathway.kind === 'pending') requests += 2;
    if (pathway.kind === 'randomized') requests += 3 + pathway.followUp.length;
  }
  // One request reads the contract; a service with sub-studies issues the coupons in the process evaluation.
  if (run.evaluation) requests += run.evaluation.requests + 1;
  else requests += 1 + (run.coupons.available ? run.coupons.issued.length + 1 : 0);
  for (const visits of Object.values(run.laterVisits))
    for (const visit of Object.values(visits)) if (visit.kind === 'assessed' || visit.kind === 'missed') requests += 1;
  return requests + run.safety.requests;
}

export function formatReport(options: { cohort: Cohort; run: DemoRun }): string {
  const { cohort, run } = options;
  return [
    `Trial ${run.trial.code} (${run.trial.registry}), id ${run.trial.id}`,
    `  ${cohort.serviceUsers.length} service users and ${cohort.caseWorkers.length} case workers screened at centres A, B and C; demo seed "${cohort.seed}"`,
    '',
    formatConsort(run.consort),
    '',
    formatBaseline('Baseline characteristics of randomized service users', run.baseline, { withNote: true }),
    '',
    formatBaseline('Baseline characteristics of case workers (by the arm they deliver)', run.workerBaseline, {
      withNote: run.workerBaseline.note !== run.baseline.note,
    }),
    '',
    formatExperienceTest(run.workerExperience),
    '',
    formatCompleteness(run.completeness, cohort.today),
    '',
    formatSafety(run.safety),
    '',
    formatCoupons(run),
    '',
    ...(run.evaluation ? [formatProcessEvaluation(run.evaluation), ''] : []),
    formatTimings(run, countRequests(cohort, run)),
  ].join('\n');
}

/** The path of a trial's CONSORT diagram, relative to the service's base URL. */
export const consortDiagramPath = (trialId: string) => `/v1/trials/${trialId}/consort.svg`;

/** A curl command that saves the diagram; it needs the API key, so a browser cannot open the URL directly. */
export function curlDiagram(baseUrl: string, keyText: string, trialId: string): string {
  const url = `${baseUrl.replace(/\/+$/, '')}${consortDiagramPath(trialId)}`;
  return `curl -s -H "Authorization: Bearer ${keyText}" ${url} -o consort.svg`;
}
