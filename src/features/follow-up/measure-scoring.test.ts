import type { FieldError } from '../../core/errors';
import type { Measure } from './follow-up-configuration';
import { scoreAssessment, scoreMeasure } from './measure-scoring';

const hope: Measure = {
  code: 'hope',
  label: 'Herth Hope Index',
  type: 'scale',
  items: 12,
  itemMin: 1,
  itemMax: 4,
  reverseItems: [3, 6],
  score: 'sum',
  maxMissingItems: 1,
  visits: ['baseline', 'm6', 'm12'],
  primary: true,
};
const efficacy: Measure = {
  code: 'gse',
  label: 'General Self-Efficacy Scale',
  type: 'scale',
  items: 10,
  itemMin: 1,
  itemMax: 4,
  score: 'mean',
  maxMissingItems: 2,
  visits: ['baseline', 'm6'],
};
const employed: Measure = { code: 'employed', label: 'Employed', type: 'binary', visits: ['baseline', 'm6', 'm12'] };
const admissions: Measure = { code: 'admissions', label: 'Admissions', type: 'count', max: 50, visits: ['m6', 'm12'] };
const income: Measure = {
  code: 'income',
  label: 'Income',
  type: 'number',
  min: 0,
  max: 100000,
  unit: 'HKD',
  visits: ['m6'],
};
const days: Measure = { code: 'days', label: 'Days worked', type: 'integer', min: 0, max: 31, visits: ['m6'] };
const housing: Measure = {
  code: 'housing',
  label: 'Housing',
  type: 'category',
  levels: ['own', 'rented', 'hostel'],
  visits: ['m6'],
};

const score = (measure: Measure, value: unknown) => {
  const errors: FieldError[] = [];
  const result = scoreMeasure(measure, value, `/values/${measure.code}`, errors);
  return { result, errors };
};

describe('scale scoring', () => {
  const all = [3, 4, 2, 3, 3, 4, 3, 2, 3, 4, 3, 2];

  it('sums the items with reverse-scored items mirrored', () => {
    // Items 3 and 6 (2 and 4) score 5-2=3 and 5-4=1: 3+4+3+3+3+1+3+2+3+4+3+2 = 34.
    expect(score(hope, { items: all })).toEqual({
      result: { score: 34, missingItems: 0, prorated: false },
      errors: [],
    });
  });

  it('mirrors every reverse item over the whole item range', () => {
    for (let answer = 1; answer <= 4; answer += 1) {
      const items = Array(12).fill(1);
      items[2] = answer;
      expect(score(hope, { items }).result?.score).toBe(14 + (5 - answer));
    }
  });

  it('prorates a sum with exactly maxMissingItems missing', () => {
    const items = [...all.slice(0, 11), null];
    // Answered 11 items score 34 - 2 = 32; prorated to 12 items: 32 / 11 * 12.
    expect(score(hope, { items }).result).toEqual({ score: (32 / 11) * 12, missingItems: 1, prorated: true });
  });

  it('leaves the score missing, with the reason, with one more than maxMissingItems missing', () => {
    const items = [null, ...all.slice(1, 11), null];
    expect(score(hope, { items })).toEqual({
      result: {
        score: null,
        missingItems: 2,
        prorated: false,
        reason: '2 of 12 items unanswered; at most 1 may be missing',
      },
      errors: [],
    });
  });

  it('takes the mean of the answered items for a mean-scored scale', () => {
    expect(score(efficacy, { items: [4, 4, 3, 3, 2, 2, 1, 1, 4, 4] }).result).toEqual({
      score: 2.8,
      missingItems: 0,
      prorated: false,
    });
    expect(score(efficacy, { items: [4, 4, 3, 3, 2, 2, 1, 1, null, null] }).result).toEqual({
      score: 2.5,
      missingItems: 2,
      prorated: true,
    });
    expect(score(efficacy, { items: [4, 4, 3, 3, 2, 2, 1, null, null, null] }).result?.score).toBeNull();
  });

  it('treats a scale without maxMissingItems as allowing none missing', () => {
    const strict: Measure = { ...efficacy, maxMissingItems: undefined };
    expect(score(strict, { items: [4, 4, 3, 3, 2, 2, 1, 1, 4, null] }).result).toMatchObject({
      score: null,
      missingItems: 1,
    });
  });

  it('names the failing item by pointer', () => {
    const items = [...all];
    items[4] = 5;
    items[7] = 2.5;
    expect(score(hope, { items }).errors).toEqual([
      { pointer: '/values/hope/items/4', detail: 'must be a whole number from 1 to 4, or null' },
      { pointer: '/values/hope/items/7', detail: 'must be a whole number from 1 to 4, or null' },
    ]);
    expect(score(hope, { items: all.slice(1) }).errors).toEqual([
      { pointer: '/values/hope/items', detail: 'must have 12 answers (null for unanswered); has 11' },
    ]);
    expect(score(hope, 34).errors[0]?.pointer).toBe('/values/hope');
    expect(score(hope, { items: all, total: 34 }).errors[0]?.pointer).toBe('/values/hope');
    expect(score(hope, { items: [...all.slice(0, 11), '3'] }).errors[0]?.pointer).toBe('/values/hope/items/11');
  });
});

describe('single-value measures', () => {
  it('checks numbers against min and max, both included', () => {
    expect(score(income, 0).result).toEqual({ score: 0 });
    expect(score(income, 100000).result).toEqual({ score: 100000 });
    expect(score(income, 1234.5).result).toEqual({ score: 1234.5 });
    expect(score(income, -1).errors).toEqual([{ pointer: '/values/income', detail: 'must be at least 0' }]);
    expect(score(income, 100000.01).errors).toEqual([{ pointer: '/values/income', detail: 'must be at most 100000' }]);
    expect(score(income, '12').errors[0]?.detail).toBe('must be a number; got "12"');
  });

  it('wants whole numbers for integers and counts, and counts from 0', () => {
    expect(score(days, 31).result).toEqual({ score: 31 });
    expect(score(days, 2.5).errors[0]?.pointer).toBe('/values/days');
    expect(score(days, 32).errors[0]?.detail).toBe('must be at most 31');
    expect(score(admissions, 0).result).toEqual({ score: 0 });
    expect(score(admissions, 50).result).toEqual({ score: 50 });
    expect(score(admissions, -1).errors[0]?.detail).toContain('a whole number from 0');
    expect(score(admissions, 1.5).errors).toHaveLength(1);
    expect(score(admissions, 51).errors[0]?.detail).toBe('must be at most 50');
  });

  it('takes true or false for binary and one of the levels for a category', () => {
    expect(score(employed, true).result).toEqual({ score: true });
    expect(score(employed, false).result).toEqual({ score: false });
    expect(score(employed, 1).errors[0]?.detail).toBe('must be true or false; got 1');
    expect(score(housing, 'hostel').result).toEqual({ score: 'hostel' });
    expect(score(housing, 'Hostel').errors[0]?.detail).toBe('must be one of "own", "rented", "hostel"; got "Hostel"');
  });

  it('scores a null value as missing, not as an error', () => {
    for (const measure of [hope, income, days, admissions, employed, housing])
      expect(score(measure, null)).toEqual({ result: { score: null, reason: 'not recorded' }, errors: [] });
  });
});

describe('scoreAssessment', () => {
  const measures = [hope, efficacy, employed, admissions, income];

  it('scores every measure of the visit, missing ones as not recorded', () => {
    const { scores, errors } = scoreAssessment(measures, 'm12', { employed: true, admissions: 2 });
    expect(errors).toEqual([]);
    expect(scores).toEqual({
      hope: { score: null, reason: 'not recorded' },
      employed: { score: true },
      admissions: { score: 2 },
    });
  });

  it('refuses values of unknown measures and of measures not assessed at the visit', () => {
    const { errors } = scoreAssessment(measures, 'm12', { gse: { items: Array(10).fill(3) }, mood: 3 });
    expect(errors).toEqual([
      { pointer: '/values/gse', detail: '"gse" is not assessed at visit "m12"' },
      { pointer: '/values/mood', detail: '"mood" is not a measure of this trial' },
    ]);
  });

  it('collects every failing value in one answer', () => {
    const { errors } = scoreAssessment(measures, 'm6', { employed: 'yes', admissions: -2, income: 'a lot' });
    expect(errors.map((e) => e.pointer)).toEqual(['/values/employed', '/values/admissions', '/values/income']);
  });
});
