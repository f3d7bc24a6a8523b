import { relativeError } from './support/r-reference';
import { startTestApp, TestApp } from './support/test-app';
import contingencyFixture from './fixtures/r/contingency.json';
import rankSumFixture from './fixtures/r/rank-sum.json';
import seedPaperFixture from './fixtures/r/seed-paper.json';
import tTestFixture from './fixtures/r/t-test.json';
import singleValueFixture from './fixtures/r/t-test-single-value.json';

/*
 * The R reference cases (test/fixtures/r, made by generate.R) sent through the HTTP API, so that what
 * a client receives — after validation, JSON encoding and the error mapping — agrees with R to 1e-10.
 */
const TOLERANCE = 1e-10;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

type RAlternative = 'two.sided' | 'less' | 'greater';
const alternative = (a: RAlternative) => (a === 'two.sided' ? 'two-sided' : a);
type Summary = { mean: number; sd: number; n: number };
type TCase = (typeof tTestFixture.cases)[number];

function tTestBody(c: TCase) {
  const group = (label: string, g: number[] | Summary) => (Array.isArray(g) ? { label, values: g } : { label, ...g });
  return {
    method: c.varEqual ? 'student' : 'welch',
    alternative: alternative(c.alternative as RAlternative),
    confidenceLevel: c.confidenceLevel,
    groups: [group('x', c.input.group1 as number[] | Summary), group('y', c.input.group2 as number[] | Summary)],
  };
}

function expectClose(label: string, actual: number | null, expected: number | null, errors: string[]) {
  const error = relativeError(actual, expected);
  if (!(error <= TOLERANCE)) errors.push(`${label}: got ${actual}, R ${expected} (relative error ${error})`);
}

describe('t-test endpoint against R', () => {
  it('matches every fixture case in every field', async () => {
    const errors: string[] = [];
    for (const c of [...tTestFixture.cases, ...seedPaperFixture.cases] as TCase[]) {
      const res = await t.call('post', '/v1/stats/t-test', { body: tTestBody(c) });
      expect(res.status).toBe(200);
      const e = c.expected;
      for (const field of ['t', 'df', 'p', 'meanDifference', 'standardError', 'hedgesG'] as const)
        expectClose(`${c.name} ${field}`, res.body[field], e[field], errors);
      expectClose(`${c.name} lower`, res.body.confidenceInterval.lower, e.confidenceInterval.lower, errors);
      expectClose(`${c.name} upper`, res.body.confidenceInterval.upper, e.confidenceInterval.upper, errors);
      expectClose(`${c.name} sd1`, res.body.groups[0].sd, e.group1.sd, errors);
      expectClose(`${c.name} mean2`, res.body.groups[1].mean, e.group2.mean, errors);
    }
    expect(errors).toEqual([]);
  });

  it("runs Student's test with a group of one value as R does, and refuses Welch's with the reason", async () => {
    const errors: string[] = [];
    for (const c of singleValueFixture.cases as unknown as TCase[]) {
      const res = await t.call('post', '/v1/stats/t-test', { body: tTestBody(c) });
      expect([c.name, res.status]).toEqual([c.name, 200]);
      const e = c.expected as Omit<TCase['expected'], 'hedgesG'> & { hedgesG: number | null };
      for (const field of ['t', 'df', 'p', 'meanDifference', 'standardError', 'hedgesG'] as const)
        expectClose(`${c.name} ${field}`, res.body[field], e[field], errors);
      expectClose(`${c.name} lower`, res.body.confidenceInterval.lower, e.confidenceInterval.lower, errors);
      expectClose(`${c.name} upper`, res.body.confidenceInterval.upper, e.confidenceInterval.upper, errors);
      expectClose(`${c.name} sd1`, res.body.groups[0].sd, e.group1.sd, errors);
      expectClose(`${c.name} sd2`, res.body.groups[1].sd, e.group2.sd, errors);
    }
    expect(errors).toEqual([]);

    const issue = await t.call('post', '/v1/stats/t-test', {
      body: {
        method: 'student',
        groups: [
          { label: 'one', values: [1] },
          { label: 'three', values: [2, 3, 4] },
        ],
      },
    });
    expect(issue.status).toBe(200);
    expect(issue.body).toMatchObject({ df: 2, groups: [{ label: 'one', n: 1, mean: 1, sd: null }, { n: 3 }] });
    expect(issue.body.t).toBeCloseTo(-1.732051, 6);
    expect(issue.body.p).toBeCloseTo(0.2254, 4);

    const welchReason = expect.stringMatching(/^Welch's t-test needs at least 2 values in each group/);
    const welchRaw = await t.call('post', '/v1/stats/t-test', {
      body: {
        groups: [
          { label: 'one', values: [1] },
          { label: 'three', values: [2, 3, 4] },
        ],
      },
    });
    expect(welchRaw.status).toBe(422);
    expect(welchRaw.body.errors).toEqual([{ pointer: '/groups/0', detail: welchReason }]);
    const welchSummary = await t.call('post', '/v1/stats/t-test', {
      body: {
        method: 'welch',
        groups: [
          { label: 'three', values: [2, 3, 4] },
          { label: 'one', mean: 1, sd: 0, n: 1 },
        ],
      },
    });
    expect(welchSummary.status).toBe(422);
    expect(welchSummary.body.errors).toEqual([{ pointer: '/groups/1/n', detail: welchReason }]);
    const twoValues = await t.call('post', '/v1/stats/t-test', {
      body: {
        method: 'student',
        groups: [
          { label: 'a', values: [1] },
          { label: 'b', values: [2] },
        ],
      },
    });
    expect(twoValues.status).toBe(422);
    expect(twoValues.body.errors[0].detail).toMatch(/^Student's t-test needs at least 3 values/);
  });

  it("reproduces the seed paper's case-worker Welch test: t(6.76) = -1.29, p = .24", async () => {
    const res = await t.call('post', '/v1/stats/t-test', {
      body: {
        groups: [
          { label: 'SMCM', mean: 4.29, sd: 2.08, n: 7 },
          { label: 'TAU', mean: 8.43, sd: 8.24, n: 7 },
        ],
      },
    });
    expect(res.body.method).toBe('welch');
    expect(res.body.df.toFixed(2)).toBe('6.76');
    expect(res.body.t.toFixed(2)).toBe('-1.29');
    expect(res.body.p.toFixed(2)).toBe('0.24');
    expect(res.body.confidenceInterval).toMatchObject({ level: 0.95 });
  });

  it('reports one-sided intervals with null for the infinite bound', async () => {
    const res = await t.call('post', '/v1/stats/t-test', {
      body: {
        alternative: 'greater',
        groups: [
          { label: 'a', values: [1, 2, 3, 4] },
          { label: 'b', values: [2, 3, 5, 9] },
        ],
      },
    });
    expect(res.body.confidenceInterval.upper).toBeNull();
    expect(typeof res.body.confidenceInterval.lower).toBe('number');
  });

  it('refuses degenerate input with the reason, never NaN', async () => {
    const cases: [object, string][] = [
      [
        {
          groups: [
            { label: 'a', values: [1] },
            { label: 'b', values: [2, 3] },
          ],
        },
        '/groups/0',
      ],
      [
        {
          groups: [
            { label: 'a', values: [2, 2, 2] },
            { label: 'b', values: [5, 5] },
          ],
        },
        '',
      ],
      [
        {
          groups: [
            { label: 'a', mean: 1, sd: 1, n: 1 },
            { label: 'b', mean: 1, sd: 1, n: 5 },
          ],
        },
        '/groups/0',
      ],
    ];
    for (const [body, pointerStart] of cases) {
      const res = await t.call('post', '/v1/stats/t-test', { body });
      expect(res.status).toBe(422);
      expect(res.text).not.toMatch(/NaN|Infinity/);
      expect(res.body.errors[0].pointer.startsWith(pointerStart)).toBe(true);
    }
    const huge = await t.call('post', '/v1/stats/t-test', {
      raw: {
        contentType: 'application/json',
        data: '{"groups":[{"label":"a","values":[1e999,2]},{"label":"b","values":[1,2]}]}',
      },
    });
    expect(huge.status).toBe(422);
  });
});

describe('contingency endpoint against R', () => {
  it('matches chisq.test and fisher.test on every fixture table', async () => {
    const errors: string[] = [];
    const fisherByTable = new Map(contingencyFixture.fisher.map((c) => [JSON.stringify(c.table), c.expected.p]));
    for (const c of contingencyFixture.chisq) {
      const res = await t.call('post', '/v1/stats/contingency', { body: { table: c.table, correction: c.correct } });
      expect([c.name, res.status]).toEqual([c.name, 200]);
      const chi = res.body.chiSquare;
      expectClose(`${c.name} statistic`, chi.statistic, c.expected.statistic, errors);
      expectClose(`${c.name} p`, chi.p, c.expected.p, errors);
      expectClose(`${c.name} expectedMin`, chi.expectedMin, c.expected.minimumExpectedCount, errors);
      expect([c.name, chi.df, chi.correction]).toEqual([c.name, c.expected.df, c.expected.continuityCorrected]);
      const fisherP = fisherByTable.get(JSON.stringify(c.table));
      if (fisherP !== undefined) expectClose(`${c.name} fisher`, res.body.fisherExact.p, fisherP, errors);
    }
    for (const c of contingencyFixture.fisher) {
      const res = await t.call('post', '/v1/stats/contingency', { body: { table: c.table } });
      // fisher.test gives 1 for a table with an empty row, chisq.test NaN; the combined endpoint refuses it.
      const hasEmptyMargin =
        c.table.some((row) => row.every((x) => x === 0)) ||
        c.table[0]!.some((_, j) => c.table.every((row) => row[j] === 0));
      expect([c.name, res.status]).toEqual([c.name, hasEmptyMargin ? 422 : 200]);
      if (hasEmptyMargin) continue;
      expectClose(`${c.name} fisher`, res.body.fisherExact.p, c.expected.p, errors);
    }
    expect(errors).toEqual([]);
    // Every exact r×c fixture through HTTP: ~30 s alone on 2 cores, over 60 s when the machine is shared.
  }, 240_000);

  it('refuses an empty row and tables beyond the exact-test limit with 422', async () => {
    const empty = await t.call('post', '/v1/stats/contingency', {
      body: {
        table: [
          [0, 0],
          [3, 4],
        ],
      },
    });
    expect(empty.status).toBe(422);
    expect(empty.body.errors[0].pointer).toMatch(/^\/table/);
    const big = await t.call('post', '/v1/stats/contingency', {
      body: {
        table: [
          [40, 35, 30, 25, 20],
          [20, 25, 30, 35, 40],
          [30, 30, 30, 30, 30],
          [25, 35, 20, 40, 30],
          [33, 27, 31, 29, 30],
        ],
      },
    });
    expect(big.status).toBe(422);
    expect(big.body.errors[0].detail).toMatch(/limit|large|steps/i);
  }, 120_000);
});

describe('Mann-Whitney endpoint against R', () => {
  it('matches wilcox.test on every fixture case', async () => {
    const errors: string[] = [];
    for (const c of rankSumFixture.cases) {
      const res = await t.call('post', '/v1/stats/mann-whitney', {
        body: { x: c.group1, y: c.group2, alternative: alternative(c.alternative as RAlternative) },
      });
      expect(res.status).toBe(200);
      expectClose(`${c.name} W`, res.body.W, c.expected.w, errors);
      expectClose(`${c.name} p`, res.body.p, c.expected.p, errors);
      expect([c.name, res.body.method]).toEqual([c.name, c.expected.method]);
    }
    expect(errors).toEqual([]);
  });
});
