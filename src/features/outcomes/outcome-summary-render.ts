import { csvLine } from '../../core/csv';
import type { components } from '../../generated/openapi';

type OutcomeSummary = components['schemas']['OutcomeSummary'];

const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (value: number | null, digits = 1) => (value === null ? '' : value.toFixed(digits));
const fmtP = (p: number | null) => (p === null ? '' : p < 0.001 ? '<0.001' : p.toFixed(3));

type ArmSummary = OutcomeSummary['rows'][number]['byArm'][number];
const levelsText = (levels: ArmSummary['levels']) =>
  levels === null ? null : levels.map((l) => `${l.level}: ${l.count} (${fmt(l.percent)}%)`).join('; ');

type RowTest = NonNullable<OutcomeSummary['rows'][number]['test']>;
/** A category row's test across the arms, e.g. "χ²(2) = 3.21" or "Fisher's exact test". */
const testText = (test: RowTest) =>
  test.method === 'fisher_exact'
    ? "Fisher's exact test"
    : `χ²(${test.df}) = ${fmt(test.statistic, 2)}${test.warning ? ` (${test.warning})` : ''}`;

/**
 * One line per measure, visit and arm; the difference columns are empty on the reference arm's line. The test
 * columns (category rows) hold the row's one test of all arms and repeat on each of its lines.
 */
export function outcomeSummaryCsv(summary: OutcomeSummary): string {
  const header = [
    'measure',
    'label',
    'visit',
    'type',
    'arm',
    'n',
    'missing',
    'mean',
    'sd',
    'events',
    'percent',
    'method',
    'difference',
    'ciLower',
    'ciUpper',
    'p',
    'notEstimable',
    'levels',
    'adjustedOddsRatio',
    'adjustedOddsRatioCiLower',
    'adjustedOddsRatioCiUpper',
    'adjustedOddsRatioP',
    'testMethod',
    'testStatistic',
    'testDf',
    'testP',
  ];
  const lines = [csvLine(header)];
  for (const row of summary.rows) {
    for (const arm of row.byArm) {
      const d = row.differences.find((x) => x.arm === arm.arm && x.method !== 'adjusted_odds_ratio');
      const or = row.differences.find((x) => x.arm === arm.arm && x.method === 'adjusted_odds_ratio');
      lines.push(
        csvLine([
          row.measure,
          row.label,
          row.visit,
          row.type,
          arm.arm,
          arm.n,
          arm.missing,
          arm.mean,
          arm.sd,
          arm.events,
          arm.percent,
          d?.method ?? null,
          d?.estimate ?? null,
          d?.ciLower ?? null,
          d?.ciUpper ?? null,
          d?.p ?? null,
          arm.arm === summary.reference ? null : row.notEstimable,
          levelsText(arm.levels),
          or?.estimate ?? null,
          or?.ciLower ?? null,
          or?.ciUpper ?? null,
          or?.p ?? null,
          row.test?.method ?? null,
          row.test?.statistic ?? null,
          row.test?.df ?? null,
          row.test?.p ?? null,
        ]),
      );
    }
  }
  return lines.join('');
}

/** A printable Table 2: mean (SD) or n (%) per arm, then each arm's difference from the reference. */
export function outcomeSummaryHtml(summary: OutcomeSummary, title: string): string {
  const others = summary.arms.filter((arm) => arm !== summary.reference);
  const cell = (text: string) => `<td>${escapeHtml(text)}</td>`;
  const head =
    `<tr><th>Measure</th><th>Visit</th>${summary.arms.map((a) => `<th>${escapeHtml(a)}</th>`).join('')}` +
    others.map((a) => `<th>${escapeHtml(a)} − ${escapeHtml(summary.reference)} (95% CI)</th><th>p</th>`).join('') +
    '</tr>';
  const body = summary.rows.map((row) => {
    const name = `${row.label}${row.unit ? ` (${row.unit})` : ''}${row.type === 'continuous' ? ', mean (SD)' : ', n (%)'}`;
    const arms = row.byArm.map((a) =>
      cell(
        a.n === 0
          ? '—'
          : row.type === 'category'
            ? `${levelsText(a.levels)}; n = ${a.n}`
            : row.type === 'binary'
              ? `${a.events} / ${a.n} (${fmt(a.percent)}%)`
              : `${fmt(a.mean)} (${fmt(a.sd)}), n = ${a.n}`,
      ),
    );
    if (row.type === 'category') {
      const span = 2 * others.length - 1;
      const text = row.test ? testText(row.test) : (row.notEstimable ?? '—');
      const spanned = `<td${span > 1 ? ` colspan="${span}"` : ''}>${escapeHtml(text)}</td>`;
      return `<tr>${cell(name)}${cell(row.visit)}${arms.join('')}${spanned}${cell(fmtP(row.test?.p ?? null))}</tr>`;
    }
    const differences = others.map((arm) => {
      const d = row.differences.find((x) => x.arm === arm && x.method !== 'adjusted_odds_ratio');
      if (!d || d.estimate === null) return `${cell('not estimable')}${cell('')}`;
      const digits = row.type === 'binary' ? 3 : 2;
      const interval = (x: typeof d) =>
        `${fmt(x.estimate, digits)} (${fmt(x.ciLower, digits)} to ${fmt(x.ciUpper, digits)})`;
      const or = row.differences.find((x) => x.arm === arm && x.method === 'adjusted_odds_ratio');
      const adjusted = or ? `; adjusted OR ${interval(or)}, p ${fmtP(or.p)}` : '';
      return `${cell(`${interval(d)}${adjusted}`)}${cell(fmtP(d.p))}`;
    });
    return `<tr>${cell(name)}${cell(row.visit)}${arms.join('')}${differences.join('')}</tr>`;
  });
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Table 2 – ${escapeHtml(title)}</title>
<style>body{font:14px/1.4 Georgia,serif;margin:2rem}table{border-collapse:collapse;border-top:2px solid #000;border-bottom:2px solid #000}
th,td{padding:.2rem .6rem;text-align:left}tr:first-child th{border-bottom:1px solid #000}p.note{max-width:50rem;font-size:12px}</style>
</head><body>
<h1>Outcomes by arm</h1>
<p>${escapeHtml(title)}</p>
<table>${head}
${body.join('\n')}</table>
<p class="note">${escapeHtml(summary.population.definition)} ${escapeHtml(summary.note)}</p></body></html>`;
}
