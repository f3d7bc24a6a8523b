import {
  appliesTo,
  evaluateEligibility,
  isCorrection,
  isFutureDate,
  labelKey,
  latestToday,
  validateBaseline,
} from './participants';

const criteria = [
  { code: 'age18', kind: 'inclusion' as const, text: 'Aged 18 or above' },
  { code: 'chinese', kind: 'inclusion' as const, text: 'Ethnically Chinese' },
  { code: 'immediate_risk', kind: 'exclusion' as const, text: 'Immediate risk' },
  { code: 'worker_licence', kind: 'inclusion' as const, text: 'Registered', roles: ['case_worker' as const] },
];

describe('evaluateEligibility', () => {
  it('is eligible only when every inclusion is true and every exclusion false', () => {
    const answers = { age18: true, chinese: true, immediate_risk: false };
    expect(evaluateEligibility(criteria, 'service_user', answers)).toEqual({
      errors: [],
      eligible: true,
      unmetCriteria: [],
    });
    expect(
      evaluateEligibility(criteria, 'service_user', { ...answers, chinese: false, immediate_risk: true }).unmetCriteria,
    ).toEqual(['chinese', 'immediate_risk']);
  });

  it('exhaustively: over every answer combination, eligible exactly when no criterion fails', () => {
    const applicable = criteria.filter((c) => appliesTo(c, 'service_user'));
    for (let mask = 0; mask < 1 << applicable.length; mask++) {
      const answers = Object.fromEntries(applicable.map((c, i) => [c.code, Boolean(mask & (1 << i))]));
      const outcome = evaluateEligibility(criteria, 'service_user', answers);
      const expected = applicable
        .filter((c) => (c.kind === 'inclusion' ? !answers[c.code] : answers[c.code]))
        .map((c) => c.code);
      expect(outcome.unmetCriteria).toEqual(expected);
      expect(outcome.eligible).toBe(expected.length === 0);
    }
  });

  it('refuses missing, unknown and other-role answers instead of guessing', () => {
    const outcome = evaluateEligibility(criteria, 'service_user', { age18: true, bogus: true, worker_licence: true });
    expect(outcome.eligible).toBe(false);
    expect(outcome.errors.map((e) => e.pointer)).toEqual([
      '/eligibility/chinese',
      '/eligibility/immediate_risk',
      '/eligibility/bogus',
      '/eligibility/worker_licence',
    ]);
  });

  it('applies only criteria that list the case-worker role to case workers', () => {
    expect(evaluateEligibility(criteria, 'case_worker', { worker_licence: true })).toEqual({
      errors: [],
      eligible: true,
      unmetCriteria: [],
    });
    expect(evaluateEligibility(criteria, 'case_worker', { worker_licence: false }).unmetCriteria).toEqual([
      'worker_licence',
    ]);
  });
});

describe('validateBaseline', () => {
  const variables = [
    { name: 'age', type: 'number' as const, min: 18, max: 120, required: true },
    { name: 'sex', type: 'category' as const, levels: ['female', 'male'] },
    { name: 'children', type: 'integer' as const, min: 0 },
    { name: 'experienceYears', type: 'number' as const, min: 0, roles: ['case_worker' as const] },
  ];

  it('accepts values of the right type, level and range', () => {
    expect(validateBaseline(variables, 'service_user', { age: 45, sex: 'female', children: 2 })).toEqual([]);
    expect(validateBaseline(variables, 'case_worker', { experienceYears: 4.5 })).toEqual([]);
  });

  it('reports each bad value by pointer', () => {
    const errors = validateBaseline(variables, 'service_user', { age: 17, sex: 'other', children: 1.5, shoe: 42 });
    expect(errors.map((e) => e.pointer).sort()).toEqual([
      '/baseline/age',
      '/baseline/children',
      '/baseline/sex',
      '/baseline/shoe',
    ]);
    expect(errors.find((e) => e.pointer === '/baseline/age')!.detail).toBe('must be >= 18');
    expect(errors.find((e) => e.pointer === '/baseline/shoe')!.detail).toBe('is not a baseline variable of this trial');
  });

  it('requires required variables and refuses variables of another role', () => {
    expect(validateBaseline(variables, 'service_user', { sex: 'male' })).toEqual([
      { pointer: '/baseline/age', detail: 'is required' },
    ]);
    expect(validateBaseline(variables, 'service_user', { age: 30, experienceYears: 3 })).toEqual([
      { pointer: '/baseline/experienceYears', detail: 'applies to case workers only' },
    ]);
  });
});

describe('isCorrection', () => {
  it('treats changed and removed values as corrections, added values as not', () => {
    expect(isCorrection({ age: 40 }, { age: 40, sex: 'male' })).toBe(false);
    expect(isCorrection({ age: 40 }, { age: 41 })).toBe(true);
    expect(isCorrection({ age: 40, sex: 'male' }, { age: 40 })).toBe(true);
    expect(isCorrection({}, {})).toBe(false);
  });
});

describe('labels and dates', () => {
  it('compares labels after NFC normalization', () => {
    expect(labelKey('Cafe\u0301')).toBe(labelKey('Caf\u00e9'));
    expect(labelKey('SU-0042')).toBe('SU-0042');
  });

  it('treats as future only dates after today in UTC+14', () => {
    const now = new Date('2019-07-22T23:30:00Z'); // 07:30 on 23 July in Hong Kong
    expect(latestToday(now)).toBe('2019-07-23');
    expect(isFutureDate('2019-07-23', now)).toBe(false);
    expect(isFutureDate('2019-07-24', now)).toBe(true);
  });
});
