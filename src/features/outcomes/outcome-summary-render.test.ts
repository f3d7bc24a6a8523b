import { parseCsv } from '../../core/csv';
import type { components } from '../../generated/openapi';
import { outcomeSummaryCsv, outcomeSummaryHtml } from './outcome-summary-render';

type OutcomeSummary = components['schemas']['OutcomeSummary'];

const arm = (name: string, extra: Partial<OutcomeSummary['rows'][number]['byArm'][number]>) => ({
  arm: name,
  n: 10,
  missing: 1,
  mean: null,
  sd: null,
  events: null,
  percent: null,
  levels: null,
  ...extra,
});

type Row = OutcomeSummary['rows'][number];
/** n (%) of the two housing levels. */
const housing = (own: number, hostel: number) => [
  { level: 'own', count: own, percent: own + hostel ? (100 * own) / (own + hostel) : null },
  { level: 'hostel', count: hostel, percent: own + hostel ? (100 * hostel) / (own + hostel) : null },
];
const housingRow = (visit: string, byArm: Row['byArm'], rest: Pick<Row, 'test' | 'notEstimable'>): Row => ({
  measure: 'housing',
  label: 'Housing',
  unit: null,
  visit,
  type: 'category',
  byArm,
  differences: [],
  ...rest,
});

const summary: OutcomeSummary = {
  reference: 'TAU',
  arms: ['SMCM', 'TAU'],
  population: { code: 'itt', definition: 'Intention to treat.' },
  note: 'note',
  rows: [
    {
      measure: 'employed',
      label: 'In paid employment',
      unit: null,
      visit: 'm12',
      type: 'binary',
      byArm: [arm('SMCM', { events: 4, percent: 40 }), arm('TAU', { events: 2, percent: 20 })],
      differences: [
        { arm: 'SMCM', method: 'risk_difference', estimate: 0.2, ciLower: -0.19, ciUpper: 0.59, p: 0.63 },
        { arm: 'SMCM', method: 'adjusted_odds_ratio', estimate: 2.5, ciLower: 0.3, ciUpper: 20.1, p: 0.39 },
      ],
      test: null,
      notEstimable: null,
    },
    housingRow('m12', [arm('SMCM', { levels: housing(7, 3) }), arm('TAU', { n: 0, levels: housing(0, 0) })], {
      test: null,
      notEstimable: 'no test between arms: an arm has no recorded outcome or fewer than two levels occur',
    }),
    housingRow('m6', [arm('SMCM', { levels: housing(7, 3) }), arm('TAU', { levels: housing(2, 8) })], {
      test: { method: 'chi_square', statistic: 3.2323232323, df: 1, p: 0.0721 },
      notEstimable: null,
    }),
  ],
};

describe('Table 2 rendering of binary and category rows (with the test of a category row)', () => {
  it('puts the risk difference and the adjusted odds ratio in their CSV columns, and category levels in one', () => {
    const [header, ...lines] = parseCsv(outcomeSummaryCsv(summary));
    const at = (line: string[], column: string) => line[header!.indexOf(column)];
    const smcmEmployed = lines.find((l) => l[0] === 'employed' && l[4] === 'SMCM')!;
    expect([at(smcmEmployed, 'method'), at(smcmEmployed, 'difference')]).toEqual(['risk_difference', '0.2']);
    expect(
      ['adjustedOddsRatio', 'adjustedOddsRatioCiLower', 'adjustedOddsRatioCiUpper', 'adjustedOddsRatioP'].map((c) =>
        at(smcmEmployed, c),
      ),
    ).toEqual(['2.5', '0.3', '20.1', '0.39']);
    const smcmHousing = lines.find((l) => l[0] === 'housing' && l[4] === 'SMCM')!;
    expect(at(smcmHousing, 'levels')).toBe('own: 7 (70.0%); hostel: 3 (30.0%)');
    expect(['testMethod', 'testStatistic', 'testDf', 'testP'].map((c) => at(smcmHousing, c))).toEqual(['', '', '', '']);
    const tested = lines.filter((l) => l[0] === 'housing' && l[2] === 'm6');
    expect(tested.map((l) => ['testMethod', 'testStatistic', 'testDf', 'testP'].map((c) => at(l, c)))).toEqual([
      ['chi_square', '3.2323232323', '1', '0.0721'],
      ['chi_square', '3.2323232323', '1', '0.0721'],
    ]);
    expect(lines).toHaveLength(6);
  });

  it('prints n (%) per level and both binary differences in the HTML table', () => {
    const html = outcomeSummaryHtml(summary, 'Trial');
    expect(html).toContain('0.200 (-0.190 to 0.590); adjusted OR 2.500 (0.300 to 20.100), p 0.390');
    expect(html).toContain('own: 7 (70.0%); hostel: 3 (30.0%); n = 10');
    expect(html).toContain('<td>Housing, n (%)</td>');
    expect(html).toContain('<td>χ²(1) = 3.23</td><td>0.072</td></tr>');
    expect(html).toContain(
      '<td>no test between arms: an arm has no recorded outcome or fewer than two levels occur</td><td></td></tr>',
    );
  });
});
