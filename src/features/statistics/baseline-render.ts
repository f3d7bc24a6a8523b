import { csvLine } from '../../core/csv';
import type { BaselineTable } from './baseline';

type Variable = BaselineTable['variables'][number];
type Summary = Variable['byArm'][string];

const isCategory = (s: Summary): s is Extract<Summary, { levels: unknown }> => 'levels' in s;

/**
 * Long-format CSV: one row per variable and statistic, one column per arm, SMD and test on each variable's first row.
 */
export function baselineTableCsv(table: BaselineTable): string {
  const arms = table.arms.map((a) => a.arm);
  let out = csvLine(['variable', 'statistic', ...arms, 'smd', 'test', 'test_statistic', 'df', 'p']);
  for (const variable of table.variables) {
    const rows: [string, (s: Summary) => unknown][] = [
      ['n', (s) => s.n],
      ['missing', (s) => s.missing],
    ];
    const first = variable.byArm[arms[0]!];
    if (first && isCategory(first)) {
      first.levels.forEach((level, i) => {
        rows.push([`${level.level}: count`, (s) => (isCategory(s) ? s.levels[i]!.count : '')]);
        rows.push([`${level.level}: percent`, (s) => (isCategory(s) ? s.levels[i]!.percent : '')]);
      });
    } else {
      for (const stat of ['mean', 'sd', 'median', 'q1', 'q3', 'min', 'max'] as const)
        rows.push([stat, (s) => (isCategory(s) ? '' : s[stat])]);
    }
    rows.forEach(([statistic, pick], i) => {
      const test =
        i === 0 && variable.test
          ? [variable.test.method, variable.test.statistic, variable.test.df, variable.test.p]
          : ['', '', '', ''];
      out += csvLine([
        variable.name,
        statistic,
        ...arms.map((arm) => pick(variable.byArm[arm]!)),
        i === 0 ? variable.smd : '',
        ...test,
      ]);
    });
  }
  return out;
}

const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (x: number | null | undefined, digits = 1) => (x === null || x === undefined ? '–' : x.toFixed(digits));
const fmtP = (p: number) => (p < 0.001 ? '<0.001' : p.toFixed(3));

/** A printable Table 1 in the usual layout: mean (SD), median [Q1, Q3], n (%) per level. */
export function baselineTableHtml(table: BaselineTable, title: string): string {
  const arms = table.arms;
  const cell = (text: string) => `<td>${escapeHtml(text)}</td>`;
  const rows: string[] = [
    `<tr><th></th>${arms.map((a) => `<th>${escapeHtml(a.arm)}<br>(n = ${a.n})</th>`).join('')}<th>SMD</th><th>test</th><th>p</th></tr>`,
  ];
  for (const v of table.variables) {
    const name = `${v.label ?? v.name}${v.unit ? ` (${v.unit})` : ''}`;
    const test = v.test ? `${v.test.method.replace('_', ' ')}` : '';
    const tail = `${cell(v.smd === null ? '' : v.smd.toFixed(3))}${cell(test)}${cell(v.test ? fmtP(v.test.p) : '')}`;
    const first = v.byArm[arms[0]!.arm];
    if (first && isCategory(first)) {
      rows.push(
        `<tr class="var"><th>${escapeHtml(name)}, n (%)</th>${arms.map(() => '<td></td>').join('')}${tail}</tr>`,
      );
      first.levels.forEach((level, i) => {
        rows.push(
          `<tr><td class="level">${escapeHtml(level.level)}</td>${arms
            .map((a) => {
              const s = v.byArm[a.arm]!;
              const l = isCategory(s) ? s.levels[i]! : undefined;
              return cell(l ? `${l.count} (${fmt(l.percent)})` : '');
            })
            .join('')}<td></td><td></td><td></td></tr>`,
        );
      });
    } else {
      rows.push(
        `<tr class="var"><th>${escapeHtml(name)}, mean (SD)</th>${arms
          .map((a) => {
            const s = v.byArm[a.arm]!;
            return cell(isCategory(s) ? '' : `${fmt(s.mean)} (${fmt(s.sd)})`);
          })
          .join('')}${tail}</tr>`,
      );
      rows.push(
        `<tr><td class="level">median [Q1, Q3]</td>${arms
          .map((a) => {
            const s = v.byArm[a.arm]!;
            return cell(isCategory(s) ? '' : `${fmt(s.median)} [${fmt(s.q1)}, ${fmt(s.q3)}]`);
          })
          .join('')}<td></td><td></td><td></td></tr>`,
      );
    }
    const missing = arms.map((a) => v.byArm[a.arm]!.missing);
    if (missing.some((m) => m > 0))
      rows.push(
        `<tr><td class="level">missing</td>${missing.map((m) => cell(String(m))).join('')}<td></td><td></td><td></td></tr>`,
      );
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Table 1 – ${escapeHtml(title)}</title>
<style>body{font:14px/1.4 Georgia,serif;margin:2rem}table{border-collapse:collapse}th,td{padding:.2rem .6rem;text-align:left}
tr.var th{padding-top:.6rem}td.level{padding-left:1.5rem}thead,tr:first-child th{border-bottom:1px solid #000}table{border-top:2px solid #000;border-bottom:2px solid #000}
p.note{max-width:50rem;font-size:12px}</style></head><body>
<h1>Baseline characteristics (${table.role === 'service_user' ? 'service users' : 'case workers'})</h1>
<p>${escapeHtml(title)}${table.asOf ? ` — as of ${table.asOf}` : ''}</p>
<table>${rows.join('\n')}</table>
<p class="note">SMD: standardized mean difference (tableone definitions). ${escapeHtml(table.note)}</p></body></html>`;
}
