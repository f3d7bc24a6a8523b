import { agreementCases, compareAgreement } from './support/agreement-reference';
import { outsideTolerance } from './support/r-reference';
import { startTestApp, TestApp } from './support/test-app';

/*
 * POST /v1/stats/agreement: the R reference cases (test/fixtures/r/generate-agreement.R) through HTTP, so
 * that what a client receives — after validation, JSON encoding and the error mapping — agrees with R to 1e-10.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe('agreement endpoint against R', () => {
  it('matches every fixture case in every field', async () => {
    const comparisons = [];
    const mismatches: string[] = [];
    for (const c of agreementCases()) {
      const res = await t.call('post', '/v1/stats/agreement', { body: c.input });
      expect([c.name, res.status]).toEqual([c.name, 200]);
      expect(res.text).not.toMatch(/NaN|Infinity/);
      const compared = compareAgreement(c, res.body);
      comparisons.push(...compared.comparisons);
      mismatches.push(...compared.mismatches);
    }
    expect(comparisons.length).toBeGreaterThan(1000);
    expect(mismatches).toEqual([]);
    expect(outsideTolerance(comparisons)).toEqual([]);
  });

  it("reproduces the seed paper's coding agreement: 15 of 17 = 88.2%", async () => {
    const seed = agreementCases().find((c) => c.name.startsWith('seed paper'))!;
    const res = await t.call('post', '/v1/stats/agreement', { body: seed.input });
    expect(res.body.percentAgreement).toMatchObject({ agreeing: 15, units: 17 });
    expect(res.body.percentAgreement.percent.toFixed(1)).toBe('88.2');
  });

  it('answers an undefined coefficient with null and a reason', async () => {
    const res = await t.call('post', '/v1/stats/agreement', {
      body: {
        ratings: [
          ['a', 'a'],
          ['a', 'a'],
          ['a', null],
        ],
        level: 'nominal',
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.percentAgreement).toMatchObject({ value: 1, agreeing: 2, units: 2 });
    expect(res.body.cohensKappa.unweighted).toMatchObject({ value: null, standardError: null });
    expect(res.body.cohensKappa.unweighted.reason).toMatch(/one category/);
    expect(res.body.krippendorffAlpha.value).toBeNull();
    expect(res.body.krippendorffAlpha.reason).toMatch(/same value/);
  });

  it('is open to every role that uses /v1/stats and closed without a key', async () => {
    const { key } = await t.createKey('monitor');
    const body = {
      ratings: [
        ['x', 'y'],
        ['y', 'y'],
        ['x', 'x'],
      ],
    };
    expect((await t.call('post', '/v1/stats/agreement', { body, key })).status).toBe(200);
    expect((await t.call('post', '/v1/stats/agreement', { body, key: null })).status).toBe(401);
  });

  it.each<[string, object, string]>([
    [
      'ratings of mixed types',
      {
        ratings: [
          ['a', 'b'],
          [1, 'b'],
        ],
      },
      '/ratings/1/0',
    ],
    [
      'ragged rows',
      {
        ratings: [
          ['a', 'b'],
          ['a', 'b', 'c'],
        ],
      },
      '/ratings/1',
    ],
    ['ordinal strings without their order', { ratings: [['lo', 'hi']], level: 'ordinal' }, '/categories'],
    ['a rating outside the categories', { ratings: [['a', 'q']], categories: ['a', 'b'] }, '/ratings/0/1'],
    ['negative ratio data', { ratings: [[1, -1]], level: 'ratio' }, '/ratings'],
    ['a single rater', { ratings: [['a'], ['b']] }, '/ratings/0'],
    ['a rating longer than 200 characters', { ratings: [['a', 'b'.repeat(201)]] }, '/ratings/0/1'],
    ['more than 50 raters', { ratings: [Array(51).fill('a')] }, '/ratings/0'],
    ['an unknown level', { ratings: [['a', 'b']], level: 'circular' }, '/level'],
    ['an object as a rating', { ratings: [['a', { code: 'b' }]] }, '/ratings/0/1'],
  ])('refuses %s with 422 naming the field', async (_name, body, pointer) => {
    const res = await t.call('post', '/v1/stats/agreement', { body });
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
  });
});
