import { agreement } from '../../lib/statistics';
import { agreementTrend, codingErrors, codingMatrix, roundAgreement } from './coding-agreement';

const c = (unit: string, coder: string, code: string) => ({ unit, coder, code });

describe('codingMatrix', () => {
  it('lays codings out as units × coders in order of first appearance, null where a coder gave none', () => {
    expect(codingMatrix(['A', 'B'], [c('u2', 'B', 'x'), c('u1', 'A', 'y'), c('u2', 'A', 'z')])).toEqual([
      ['z', 'x'],
      ['y', null],
    ]);
  });
});

describe('codingErrors', () => {
  it('names a coder not listed and a unit coded twice by one coder, and nothing else', () => {
    expect(codingErrors(['A', 'B'], [c('u', 'A', 'x'), c('u', 'B', 'x')])).toEqual([]);
    expect(codingErrors(['A', 'B'], [c('u', 'A', 'x'), c('u', 'C', 'x'), c('u', 'A', 'y')])).toEqual([
      { pointer: '/codings/1/coder', detail: "C is not one of the round's coders" },
      { pointer: '/codings/2', detail: 'A already coded unit u' },
    ]);
  });
  it('refuses more codes than a round may use', () => {
    const codings = Array.from({ length: 201 }, (_, i) => c(`u${i}`, 'A', `code${i}`));
    expect(codingErrors(['A', 'B'], codings)).toEqual([{ pointer: '/codings', detail: 'uses 201 codes; at most 200' }]);
  });
});

describe('roundAgreement', () => {
  it('counts agreement over fully coded units and per code the units where any and where all coders used it', () => {
    const result = roundAgreement(
      ['A', 'B'],
      [
        c('1', 'A', 'x'),
        c('1', 'B', 'x'),
        c('2', 'A', 'x'),
        c('2', 'B', 'y'),
        c('3', 'A', 'y'),
        c('3', 'B', 'y'),
        c('4', 'A', 'y'),
      ],
    );
    expect(result.units).toBe(4);
    expect(result.agreement.percentAgreement).toMatchObject({ agreeing: 2, units: 3 });
    // Cohen's kappa by hand: po = 2/3; A: x 2/3, y 1/3; B: x 1/3, y 2/3; pe = 2/9 + 2/9 = 4/9.
    expect(result.agreement.cohensKappa!.unweighted.value).toBeCloseTo((2 / 3 - 4 / 9) / (1 - 4 / 9), 14);
    expect(result.byCode).toEqual([
      { code: 'x', unitsWithCode: 2, unitsAllAgree: 1, proportion: 0.5, kappa: expect.any(Number) },
      { code: 'y', unitsWithCode: 2, unitsAllAgree: 1, proportion: 0.5, kappa: expect.any(Number) },
    ]);
    // With two codes, presence of x is the same table as the codes themselves.
    expect(result.byCode[0]!.kappa).toBeCloseTo(result.agreement.cohensKappa!.unweighted.value!, 14);
  });

  it('gives a null per-code kappa and proportion when no unit is coded by every coder', () => {
    const result = roundAgreement(['A', 'B'], [c('1', 'A', 'x'), c('2', 'B', 'x')]);
    expect(result.byCode).toEqual([{ code: 'x', unitsWithCode: 0, unitsAllAgree: 0, proportion: null, kappa: null }]);
    expect(result.agreement.percentAgreement.value).toBeNull();
  });

  it('uses Fleiss kappa per code for three coders', () => {
    const codings = ['1', '2', '3'].flatMap((u) => ['A', 'B', 'C'].map((coder) => c(u, coder, u === '3' ? 'y' : 'x')));
    const result = roundAgreement(['A', 'B', 'C'], codings);
    expect(result.agreement.fleissKappa!.value).toBeCloseTo(1, 14);
    expect(result.byCode.map((b) => b.kappa)).toEqual([expect.closeTo(1, 14), expect.closeTo(1, 14)]);
  });
});

describe('agreementTrend', () => {
  it('reports each round and the change in percent agreement from the round before', () => {
    const first = roundAgreement(['A', 'B'], [c('1', 'A', 'x'), c('1', 'B', 'y'), c('2', 'A', 'x'), c('2', 'B', 'x')]);
    const second = roundAgreement(['A', 'B'], [c('1', 'A', 'x'), c('1', 'B', 'x'), c('2', 'A', 'y'), c('2', 'B', 'y')]);
    const trend = agreementTrend([
      { round: 1, agreement: first.agreement },
      { round: 2, agreement: second.agreement },
    ]);
    expect(trend.map((r) => [r.round, r.percentAgreement, r.change])).toEqual([
      [1, 50, null],
      [2, 100, 50],
    ]);
    expect(trend[1]!.kappa).toBeCloseTo(1, 14);
  });
});

describe('presenceKappa', () => {
  it('equals the R-matched agreement() kappa on the present/absent matrix, for two and for more coders', () => {
    let state = 12345;
    const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const coderCount of [2, 3, 5]) {
      for (let trial = 0; trial < 20; trial++) {
        const coders = Array.from({ length: coderCount }, (_, i) => `C${i}`);
        const codings = Array.from({ length: 10 + Math.floor(next() * 40) }, (_, u) =>
          coders.map((coder) => c(`u${u}`, coder, ['x', 'y', 'z'][Math.floor(next() * 3)]!)),
        ).flat();
        const result = roundAgreement(coders, codings);
        for (const code of result.byCode) {
          const presence = codingMatrix(coders, codings).map((row) => row.map((x) => (x === code.code ? 'p' : 'a')));
          const reference = agreement({ ratings: presence });
          const expected = reference.cohensKappa?.unweighted.value ?? reference.fleissKappa?.value ?? null;
          if (expected === null) expect(code.kappa).toBeNull();
          else expect(code.kappa).toBeCloseTo(expected, 12);
        }
      }
    }
  });
});
