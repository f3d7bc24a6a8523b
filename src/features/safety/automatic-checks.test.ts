import type { components } from '../../generated/openapi';
import { assessmentFindings, baselineFindings } from './automatic-checks';

type Measure = components['schemas']['Measure'];

const variables: components['schemas']['BaselineVariable'][] = [
  { name: 'age', type: 'integer', min: 16, max: 99, softRange: { min: 18, max: 80 } },
  { name: 'onsetYears', type: 'number', softRange: { max: 40 } },
  { name: 'experienceYears', type: 'number', roles: ['case_worker'], softRange: { max: 30 } },
  { name: 'sex', type: 'category', levels: ['female', 'male'] },
];

const measures: Measure[] = [
  {
    code: 'hope',
    label: 'HOPE',
    type: 'scale',
    items: 3,
    itemMin: 1,
    itemMax: 4,
    score: 'sum',
    visits: ['baseline', 'm6'],
  },
  { code: 'days', label: 'Days in hospital', type: 'count', max: 365, softRange: { max: 90 }, visits: ['m6'] },
  { code: 'weight', label: 'Weight', type: 'number', softRange: { min: 35, max: 200 }, visits: ['baseline'] },
  { code: 'work', label: 'Working', type: 'binary', visits: ['m6'] },
];

describe('automatic checks', () => {
  it('find baseline values outside the soft range of the variables that apply to the role', () => {
    const su = { id: 'p1', role: 'service_user', baseline: { age: 85, onsetYears: 41, experienceYears: 50, sex: 'x' } };
    expect(baselineFindings(variables, su).map((f) => [f.pointer, f.check])).toEqual([
      ['/baseline/age', 'soft_range'],
      ['/baseline/onsetYears', 'soft_range'],
    ]);
    expect(baselineFindings(variables, { ...su, baseline: { age: 80, onsetYears: 40 } })).toEqual([]);
    const cw = { id: 'w1', role: 'case_worker', baseline: { experienceYears: 31, age: 10 } };
    expect(baselineFindings(variables, cw)).toEqual([
      {
        kind: 'participant',
        id: 'w1',
        pointer: '/baseline/experienceYears',
        check: 'soft_range',
        text: 'Automatic check: 31 is above the plausible range (at most 30); please confirm against the source or correct it.',
      },
    ]);
  });

  it('find empty measures, unanswered scale items and values outside soft ranges at a completed visit', () => {
    const m6 = { id: 'a6', visit: 'm6', values: { hope: { items: [1, null, null] }, days: 120, work: null } };
    expect(assessmentFindings(measures, m6).map((f) => [f.pointer, f.check])).toEqual([
      ['/values/hope/items/1', 'missing_item'],
      ['/values/hope/items/2', 'missing_item'],
      ['/values/days', 'soft_range'],
      ['/values/work', 'missing_item'],
    ]);
    const baseline = { id: 'a0', visit: 'baseline', values: { weight: 30 } };
    expect(assessmentFindings(measures, baseline).map((f) => [f.pointer, f.check, f.text])).toEqual([
      ['/values/hope', 'missing_item', 'Automatic check: HOPE is missing at the completed visit baseline.'],
      [
        '/values/weight',
        'soft_range',
        'Automatic check: 30 is below the plausible range (35 to 200); please confirm against the source or correct it.',
      ],
    ]);
    const clean = { id: 'a1', visit: 'm6', values: { hope: { items: [1, 2, 3] }, days: 90, work: false } };
    expect(assessmentFindings(measures, clean)).toEqual([]);
  });
});
