import { agreementCases, agreementComparisons } from '../../../test/support/agreement-reference';
import { outsideTolerance } from '../../../test/support/r-reference';
import { agreement, type AgreementResult, type Rating } from './agreement';
import { StatisticsInputError } from './statistics-input-error';

/** Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": observers A–D (columns) over 12 units. */
const KRIPPENDORFF_2011: Rating[][] = [
  [1, 1, null, 1],
  [2, 2, 3, 2],
  [3, 3, 3, 3],
  [3, 3, 3, 3],
  [2, 2, 2, 2],
  [1, 2, 3, 4],
  [4, 4, 4, 4],
  [1, 1, 2, 1],
  [2, 2, 2, 2],
  [null, 5, 5, 5],
  [null, null, 1, 1],
  [null, 3, null, null],
];

/** A seeded generator (mulberry32), so the property checks below are reproducible. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomRatings(random: () => number, units: number, raters: number, categories: Rating[], missing = 0) {
  return Array.from({ length: units }, () => {
    const truth = categories[Math.floor(random() * categories.length)]!;
    return Array.from({ length: raters }, () => {
      if (random() < missing) return null;
      return random() < 0.6 ? truth : categories[Math.floor(random() * categories.length)]!;
    });
  });
}

const refusal = (compute: () => unknown): StatisticsInputError => {
  try {
    compute();
  } catch (error) {
    if (error instanceof StatisticsInputError) return error;
    throw error;
  }
  throw new Error('expected a StatisticsInputError');
};

describe('agreement agrees with R (test/fixtures/r/generate-agreement.R)', () => {
  let comparisons: ReturnType<typeof agreementComparisons>['comparisons'] = [];
  let mismatches: string[] = [];
  beforeAll(() => ({ comparisons, mismatches } = agreementComparisons()));

  it('matches every number of every case to 1e-10 relative, with nulls where R has them', () => {
    expect(comparisons.length).toBeGreaterThan(1000);
    expect(mismatches).toEqual([]);
    expect(outsideTolerance(comparisons)).toEqual([]);
  });

  it('covers weighted and unweighted kappa, Fleiss kappa and alpha at all four levels, with missing ratings', () => {
    const statistics = new Set(comparisons.filter((c) => c.expected !== null).map((c) => c.statistic));
    for (const statistic of [
      'cohensKappa.unweighted.standardError',
      'cohensKappa.linear.standardErrorNull',
      'cohensKappa.quadratic.confidenceInterval.upper',
      'fleissKappa.standardErrorNull',
      'krippendorffAlpha.value',
    ]) {
      expect(statistics).toContain(statistic);
    }
    const cases = agreementCases();
    for (const level of ['nominal', 'ordinal', 'interval', 'ratio']) {
      expect(cases.some((c) => c.input.level === level && c.input.ratings.some((row) => row.includes(null)))).toBe(
        true,
      );
    }
  });

  it('gives a reason wherever R has no value', () => {
    for (const c of agreementCases()) {
      const result = agreement(c.input) as unknown as Record<string, Record<string, unknown>>;
      const estimates = [
        result.percentAgreement,
        result.krippendorffAlpha,
        result.fleissKappa,
        ...Object.values((result.cohensKappa ?? {}) as Record<string, Record<string, unknown>>),
      ].filter((e): e is Record<string, unknown> => e !== undefined);
      for (const estimate of estimates) {
        const hasNull = Object.entries(estimate).some(([key, v]) => key !== 'reason' && v === null);
        expect([c.name, typeof estimate.reason]).toEqual([c.name, hasNull ? 'string' : 'object']);
      }
    }
  });
});

describe('published examples', () => {
  it.each([
    ['nominal', 0.743],
    ['ordinal', 0.815],
    ['interval', 0.849],
    ['ratio', 0.797],
  ] as const)("Krippendorff's 4 coders × 12 units: %s alpha = %s", (level, published) => {
    const alpha = agreement({ ratings: KRIPPENDORFF_2011, level }).krippendorffAlpha;
    expect(alpha.value!.toFixed(3)).toBe(published.toFixed(3));
    // Unit 12 has a single value and is not pairable; the other 11 units hold 40 values.
    expect(alpha.pairableUnits).toBe(11);
    expect(alpha.pairableValues).toBe(40);
  });

  it('the seed paper: two researchers agree on 15 of 17 codings, 88.2%', () => {
    const codes = ['goal', 'hope', 'relationship', 'goal', 'stigma', 'hope', 'relationship', 'access', 'hope'];
    const ratings: Rating[][] = [...codes, ...codes.slice(0, 8)].map((code) => [code, code]);
    ratings[4] = ['stigma', 'access'];
    ratings[11] = ['goal', 'hope'];
    const { percentAgreement } = agreement({ ratings });
    expect(percentAgreement).toMatchObject({ agreeing: 15, units: 17, reason: null });
    expect(percentAgreement.percent!.toFixed(1)).toBe('88.2');
    expect(percentAgreement.value).toBe(15 / 17);
  });

  it("Cohen's 2 × 2 example (po = 0.7, pe = 0.5): kappa = 0.4", () => {
    const ratings: Rating[][] = [
      ...Array<Rating[]>(20).fill(['yes', 'yes']),
      ...Array<Rating[]>(5).fill(['yes', 'no']),
      ...Array<Rating[]>(10).fill(['no', 'yes']),
      ...Array<Rating[]>(15).fill(['no', 'no']),
    ];
    expect(agreement({ ratings }).cohensKappa!.unweighted.value).toBeCloseTo(0.4, 14);
  });
});

describe('undefined and degenerate cases answer null with a reason', () => {
  it('every rating in one category: kappa and alpha are null, not 1 and not NaN', () => {
    const two = agreement({
      ratings: [
        ['a', 'a'],
        ['a', 'a'],
        ['a', 'a'],
      ],
      level: 'nominal',
    });
    expect(two.percentAgreement.value).toBe(1);
    expect(two.cohensKappa!.unweighted).toMatchObject({ value: null, standardError: null, confidenceInterval: null });
    expect(two.cohensKappa!.unweighted.reason).toMatch(/one category/);
    expect(two.krippendorffAlpha).toMatchObject({ value: null, observedDisagreement: null });
    expect(two.krippendorffAlpha.reason).toMatch(/same value/);

    const ordinal = agreement({
      ratings: [
        [2, 2],
        [2, 2],
      ],
      level: 'ordinal',
      categories: [1, 2, 3],
    });
    expect(ordinal.cohensKappa!.linear!.value).toBeNull();
    expect(ordinal.cohensKappa!.quadratic!.reason).toMatch(/one category/);

    const three = agreement({
      ratings: [
        ['x', 'x', 'x'],
        ['x', 'x', null],
      ],
    });
    expect(three.fleissKappa).toMatchObject({ value: null, units: 1, z: null });
    expect(three.fleissKappa!.reason).toMatch(/one category/);
  });

  it('no unit rated by both raters; no unit with two ratings', () => {
    const result = agreement({
      ratings: [
        ['a', null],
        [null, 'b'],
      ],
    });
    expect(result.percentAgreement).toMatchObject({ value: null, units: 0 });
    expect(result.percentAgreement.reason).toMatch(/every rater/);
    expect(result.cohensKappa!.unweighted).toMatchObject({ value: null, units: 0 });
    expect(result.cohensKappa!.unweighted.reason).toMatch(/both raters/);
    expect(result.krippendorffAlpha).toMatchObject({ value: null, pairableUnits: 0, pairableValues: 0 });
    expect(result.krippendorffAlpha.reason).toMatch(/two or more/);
  });

  it('one rater using a single category: kappa is exactly 0, with no SE and no test', () => {
    const result = agreement({
      ratings: [
        ['a', 'a'],
        ['a', 'b'],
        ['a', 'a'],
        ['a', 'c'],
      ],
    }).cohensKappa!.unweighted;
    expect(result).toMatchObject({ value: 0, standardError: null, standardErrorNull: null, z: null, p: null });
    expect(result.reason).toMatch(/single category/);
  });

  it('perfect agreement: kappa and alpha are exactly 1 and the SE under the alternative is 0', () => {
    const result = agreement({
      ratings: [
        [1, 1],
        [2, 2],
        [3, 3],
        [1, 1],
      ],
      level: 'ordinal',
    });
    for (const estimate of [
      result.cohensKappa!.unweighted,
      result.cohensKappa!.linear!,
      result.cohensKappa!.quadratic!,
    ]) {
      expect(estimate).toMatchObject({ value: 1, standardError: 0, confidenceInterval: { lower: 1, upper: 1 } });
      expect(typeof estimate.p).toBe('number');
    }
    expect(result.krippendorffAlpha.value).toBe(1);
  });
});

describe('properties', () => {
  const random = seededRandom(16);
  const samples = Array.from({ length: 40 }, (_x, i) =>
    randomRatings(random, 5 + Math.floor(random() * 60), 2 + (i % 4), ['a', 'b', 'c', 'd'], i % 3 === 0 ? 0.2 : 0),
  );

  const numbersOf = (result: AgreementResult) => JSON.parse(JSON.stringify({ ...result, categories: [] })) as unknown;
  const close = (a: unknown, b: unknown): boolean => {
    if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b));
    if (a === null || typeof a !== 'object') return a === b;
    if (b === null || typeof b !== 'object') return false;
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => close((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  };

  it('the order of the units does not matter', () => {
    for (const ratings of samples) {
      const reversed = [...ratings].reverse();
      expect(close(numbersOf(agreement({ ratings: reversed })), numbersOf(agreement({ ratings })))).toBe(true);
    }
  });

  it('the order of the raters does not matter (kappa, Fleiss kappa, alpha)', () => {
    for (const ratings of samples) {
      const swapped = ratings.map((row) => [...row].reverse());
      const a = agreement({ ratings: swapped });
      const b = agreement({ ratings });
      expect(close(numbersOf(a), numbersOf(b))).toBe(true);
    }
  });

  it('renaming nominal categories does not matter', () => {
    const rename: Record<string, string> = { a: 'z', b: 'y', c: 'x', d: 'w' };
    for (const ratings of samples) {
      const renamed = ratings.map((row) => row.map((r) => (r === null ? null : rename[r as string]!)));
      expect(close(numbersOf(agreement({ ratings: renamed })), numbersOf(agreement({ ratings })))).toBe(true);
    }
  });

  it('bounds: proportions in [0, 1], kappa and alpha at most 1, intervals contain kappa, p in [0, 1]', () => {
    for (const ratings of samples) {
      for (const level of ['nominal', 'ordinal'] as const) {
        const result = agreement({ ratings, level, categories: ['a', 'b', 'c', 'd'] });
        const pa = result.percentAgreement.value;
        if (pa !== null) expect(pa >= 0 && pa <= 1).toBe(true);
        if (result.krippendorffAlpha.value !== null) expect(result.krippendorffAlpha.value).toBeLessThanOrEqual(1);
        const kappas = result.cohensKappa ? Object.values(result.cohensKappa) : [result.fleissKappa!];
        for (const kappa of kappas) {
          if (kappa.value === null) continue;
          expect(kappa.value).toBeLessThanOrEqual(1 + 1e-15);
          if (kappa.p !== null) expect(kappa.p >= 0 && kappa.p <= 1).toBe(true);
          if ('confidenceInterval' in kappa && kappa.confidenceInterval) {
            expect(kappa.confidenceInterval.lower).toBeLessThanOrEqual(kappa.value);
            expect(kappa.confidenceInterval.upper).toBeGreaterThanOrEqual(kappa.value);
          }
        }
      }
    }
  });

  it('two raters, nominal, no missing: alpha = 1 − (2n − 1)/(2n) (1 − Scott’s pi) (Krippendorff 2011)', () => {
    for (const ratings of samples.filter((r) => r[0]!.length === 2 && r.every((row) => !row.includes(null)))) {
      const n = ratings.length;
      const shares = new Map<Rating, number>();
      for (const row of ratings) for (const r of row) shares.set(r, (shares.get(r) ?? 0) + 1 / (2 * n));
      const expected = [...shares.values()].reduce((s, p) => s + p * p, 0);
      const observed = ratings.filter(([x, y]) => x === y).length / n;
      const pi = (observed - expected) / (1 - expected);
      const alpha = agreement({ ratings }).krippendorffAlpha.value!;
      expect(alpha).toBeCloseTo(1 - ((2 * n - 1) / (2 * n)) * (1 - pi), 12);
    }
  });

  it('linear and quadratic weights coincide with unweighted kappa for two categories', () => {
    const ratings = randomRatings(seededRandom(3), 40, 2, ['lo', 'hi']);
    const kappa = agreement({ ratings, level: 'ordinal', categories: ['lo', 'hi'] }).cohensKappa!;
    for (const weighted of [kappa.linear!, kappa.quadratic!]) {
      expect(weighted.value).toBeCloseTo(kappa.unweighted.value!, 14);
      expect(weighted.standardError).toBeCloseTo(kappa.unweighted.standardError!, 14);
      expect(weighted.standardErrorNull).toBeCloseTo(kappa.unweighted.standardErrorNull!, 14);
    }
  });

  it('interval weights use the values: equally spaced numbers weigh as ordinal positions', () => {
    const ratings = randomRatings(seededRandom(5), 50, 2, [10, 20, 30, 40]);
    const interval = agreement({ ratings, level: 'interval', categories: [10, 20, 30, 40] }).cohensKappa!;
    const ordinal = agreement({ ratings, level: 'ordinal', categories: [10, 20, 30, 40] }).cohensKappa!;
    expect(interval.quadratic!.value).toBeCloseTo(ordinal.quadratic!.value!, 14);
  });

  it('the confidence level widens the interval as qnorm says', () => {
    const ratings = randomRatings(seededRandom(7), 60, 2, ['a', 'b', 'c']);
    const at = (confidenceLevel: number) => agreement({ ratings, confidenceLevel }).cohensKappa!.unweighted;
    const width = (level: number) => at(level).confidenceInterval!.upper - at(level).confidenceInterval!.lower;
    expect(width(0.99) / width(0.95)).toBeCloseTo(2.5758293035489 / 1.9599639845401, 10);
    expect(at(0.9).confidenceInterval!.level).toBe(0.9);
  });
});

describe('input checks', () => {
  it.each<[string, Parameters<typeof agreement>[0], string, RegExp]>([
    ['no units', { ratings: [] }, '/ratings', /at least one unit/],
    ['one rater', { ratings: [['a'], ['b']] }, '/ratings/0', /two raters/],
    [
      'ragged rows',
      {
        ratings: [
          ['a', 'b'],
          ['a', 'b', 'c'],
        ],
      },
      '/ratings/1',
      /first unit has 2/,
    ],
    [
      'mixed types',
      {
        ratings: [
          ['a', 'b'],
          [1, 'b'],
        ],
      },
      '/ratings/1/0',
      /do not mix/,
    ],
    ['non-finite', { ratings: [[1, Number.NaN]] }, '/ratings/0/1', /finite/],
    ['ordinal strings without order', { ratings: [['a', 'b']], level: 'ordinal' }, '/categories', /in order/],
    ['interval strings', { ratings: [['a', 'b']], level: 'interval' }, '/ratings', /numbers/],
    ['negative ratio', { ratings: [[1, -2]], level: 'ratio' }, '/ratings', /negative/],
    ['unlisted rating', { ratings: [['a', 'q']], categories: ['a', 'b'] }, '/ratings/0/1', /not one of/],
    ['duplicate category', { ratings: [['a', 'b']], categories: ['a', 'b', 'a'] }, '/categories/2', /twice/],
    ['category of the wrong type', { ratings: [[1, 2]], categories: [1, '2'] }, '/categories/1', /number/],
    [
      'interval categories out of order',
      { ratings: [[1, 2]], level: 'interval', categories: [2, 1] },
      '/categories',
      /ascending/,
    ],
    ['confidence level', { ratings: [['a', 'b']], confidenceLevel: 1 }, '/confidenceLevel', /between 0 and 1/],
  ])('%s', (_name, input, pointer, reason) => {
    const error = refusal(() => agreement(input));
    expect(error.pointer).toBe(pointer);
    expect(error.reason).toMatch(reason);
  });
});
