import {
  compareAmendment,
  FollowUpConfiguration,
  Measure,
  validateFollowUpConfiguration,
  Visit,
} from './follow-up-configuration';

const visits: Visit[] = [
  { code: 'baseline', label: 'Baseline', day: 0, windowBefore: 30, windowAfter: 14 },
  { code: 'm6', label: '6-month follow-up', day: 182, windowBefore: 30, windowAfter: 30 },
  { code: 'm12', label: '12-month follow-up', day: 365, windowBefore: 30, windowAfter: 30 },
];
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
const employed: Measure = { code: 'employed', label: 'Employed', type: 'binary', visits: ['baseline', 'm6', 'm12'] };
const smcm: FollowUpConfiguration = { visits, measures: [hope, employed], primaryVisit: 'm12' };

const errorsOf = (config: Partial<FollowUpConfiguration>) => validateFollowUpConfiguration({ ...smcm, ...config });

describe('validateFollowUpConfiguration', () => {
  it('accepts the SMCM follow-up and an empty one', () => {
    expect(errorsOf({})).toEqual([]);
    expect(validateFollowUpConfiguration({ visits: [], measures: [], primaryVisit: null })).toEqual([]);
  });

  it('points at duplicate visit codes and days', () => {
    const twice = [...visits, { ...visits[1]!, label: 'again' }];
    expect(errorsOf({ visits: twice })).toEqual([
      { pointer: '/visits/3/code', detail: 'duplicates the code of /visits/1' },
      { pointer: '/visits/3/day', detail: 'is the day of /visits/1; two visits cannot share a target day' },
    ]);
  });

  it('keeps the baseline on day 0 and follow-up windows after randomization', () => {
    expect(errorsOf({ visits: [{ ...visits[0]!, day: 7 }, visits[1]!, visits[2]!] })).toContainEqual({
      pointer: '/visits/0/day',
      detail: 'the baseline visit is on day 0',
    });
    expect(errorsOf({ visits: [visits[0]!, { ...visits[1]!, windowBefore: 182 }, visits[2]!] })).toEqual([
      {
        pointer: '/visits/1/windowBefore',
        detail: 'a follow-up window must open after the randomization date (day 1 at the earliest)',
      },
    ]);
    expect(errorsOf({ visits: [visits[0]!, { ...visits[1]!, windowBefore: 181 }, visits[2]!] })).toEqual([]);
  });

  it('points at measures that name unknown visits', () => {
    expect(errorsOf({ measures: [{ ...employed, visits: ['baseline', 'm3'] }] })).toEqual([
      { pointer: '/measures/0/visits/1', detail: '"m3" is not a visit of this trial' },
    ]);
  });

  it('checks scales: the required fields, the item range, reverse items and the missing allowance', () => {
    const { items: _items, score: _score, ...bare } = hope;
    expect(errorsOf({ measures: [bare as Measure] })).toEqual([
      { pointer: '/measures/0/items', detail: 'is required for a scale' },
      { pointer: '/measures/0/score', detail: 'is required for a scale' },
    ]);
    expect(errorsOf({ measures: [{ ...hope, itemMin: 4, itemMax: 4 }] })).toEqual([
      { pointer: '/measures/0/itemMax', detail: 'must be greater than itemMin (4)' },
    ]);
    expect(errorsOf({ measures: [{ ...hope, reverseItems: [3, 13] }] })).toEqual([
      { pointer: '/measures/0/reverseItems/1', detail: 'names item 13; the scale has 12 items' },
    ]);
    expect(errorsOf({ measures: [{ ...hope, maxMissingItems: 12 }] })).toEqual([
      { pointer: '/measures/0/maxMissingItems', detail: 'must leave at least one of the 12 items answered' },
    ]);
    expect(errorsOf({ measures: [{ ...hope, maxMissingItems: 11 }] })).toEqual([]);
  });

  it('refuses fields of other measure types', () => {
    expect(errorsOf({ measures: [hope, { ...employed, levels: ['yes', 'no'], items: 3 }] })).toEqual([
      { pointer: '/measures/1/items', detail: 'applies to scale measures only' },
      { pointer: '/measures/1/levels', detail: 'applies to category measures only' },
    ]);
    const age: Measure = { code: 'age', label: 'Age', type: 'integer', min: 18.5, max: 10, visits: ['baseline'] };
    expect(errorsOf({ measures: [hope, age] })).toEqual([
      { pointer: '/measures/1/max', detail: 'must be at least min (18.5)' },
      { pointer: '/measures/1/min', detail: 'must be a whole number' },
    ]);
    const housing: Measure = { code: 'housing', label: 'Housing', type: 'category', visits: ['m6'] };
    expect(errorsOf({ measures: [hope, housing] })).toEqual([
      { pointer: '/measures/1/levels', detail: 'a category measure needs its levels' },
    ]);
    const admissions: Measure = { code: 'adm', label: 'Admissions', type: 'count', max: 2.5, visits: ['m6'] };
    expect(errorsOf({ measures: [hope, admissions] })).toEqual([
      { pointer: '/measures/1/max', detail: 'must be a whole number from 0' },
    ]);
  });

  it('allows one primary outcome, measured at the primary visit', () => {
    expect(errorsOf({ measures: [hope, { ...employed, primary: true }] })).toEqual([
      { pointer: '/measures/1/primary', detail: 'only one measure is the primary outcome' },
    ]);
    expect(errorsOf({ measures: [{ ...hope, visits: ['baseline', 'm6'] }, employed] })).toEqual([
      { pointer: '/measures/0/visits', detail: 'the primary outcome must be measured at the primary visit "m12"' },
    ]);
  });

  it('requires a primary visit once there are visits, after baseline and defined', () => {
    expect(errorsOf({ primaryVisit: null })).toEqual([
      { pointer: '/primaryVisit', detail: 'names the visit of the primary analysis; required once visits are defined' },
    ]);
    expect(errorsOf({ primaryVisit: 'm24' })).toEqual([
      { pointer: '/primaryVisit', detail: '"m24" is not a visit of this trial' },
    ]);
    expect(errorsOf({ primaryVisit: 'baseline' })[0]?.pointer).toBe('/primaryVisit');
  });
});

describe('compareAmendment', () => {
  const m3: Visit = { code: 'm3', label: '3-month call', day: 91, windowBefore: 14, windowAfter: 14 };

  it('accepts added visits and measures, added visits of a measure and reworded labels', () => {
    const gse: Measure = {
      code: 'gse',
      label: 'GSE',
      type: 'scale',
      items: 10,
      itemMin: 1,
      itemMax: 4,
      score: 'mean',
      visits: ['m3'],
    };
    const amended: FollowUpConfiguration = {
      visits: [...visits.map((v) => ({ ...v, label: `${v.label} (revised)` })), m3],
      measures: [{ ...hope, label: 'HHI' }, { ...employed, visits: [...employed.visits, 'm3'] }, gse],
      primaryVisit: 'm12',
    };
    expect(compareAmendment(smcm, amended)).toEqual({
      conflicts: [],
      diff: { addedVisits: ['m3'], changedMeasures: ['employed', 'gse'] },
    });
  });

  it('refuses removing a visit or a measure, or a measure from a visit', () => {
    const amended: FollowUpConfiguration = {
      visits: [visits[0]!, visits[1]!],
      measures: [{ ...employed, visits: ['baseline', 'm6'] }],
      primaryVisit: 'm12',
    };
    expect(compareAmendment(smcm, amended).conflicts).toEqual([
      { pointer: '/visits/2', detail: 'visit "m12" is defined and cannot be removed' },
      { pointer: '/measures/0', detail: 'measure "hope" is defined and cannot be removed' },
      { pointer: '/measures/0/visits', detail: 'measure "employed" is assessed at "m12"; that cannot be removed' },
    ]);
  });

  it('refuses moving a visit or its window, re-scoring a measure, or moving the primary visit', () => {
    const amended: FollowUpConfiguration = {
      visits: [visits[0]!, { ...visits[1]!, windowAfter: 45 }, visits[2]!],
      measures: [
        { ...hope, reverseItems: [3] },
        { ...employed, type: 'count' },
      ],
      primaryVisit: 'm6',
    };
    expect(compareAmendment(smcm, amended).conflicts).toEqual([
      { pointer: '/visits/1/windowAfter', detail: 'visit "m6" has windowAfter 30; it cannot change' },
      { pointer: '/measures/0', detail: 'measure "hope" is defined; its type, range and scoring cannot change' },
      { pointer: '/measures/1', detail: 'measure "employed" is defined; its type, range and scoring cannot change' },
      { pointer: '/primaryVisit', detail: 'the primary visit is "m12"; it cannot change' },
    ]);
  });

  it('lets a trial without follow-up name its primary visit in the first amendment', () => {
    const none: FollowUpConfiguration = { visits: [], measures: [], primaryVisit: null };
    expect(compareAmendment(none, smcm)).toEqual({
      conflicts: [],
      diff: { addedVisits: ['baseline', 'm6', 'm12'], changedMeasures: ['hope', 'employed'] },
    });
  });
});
