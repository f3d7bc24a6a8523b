import {
  applyPatch,
  currencyDecimals,
  fromMinorUnits,
  ifMatchHolds,
  isStratifiedBySite,
  toMinorUnits,
  TrialConfiguration,
  validateTrialConfiguration,
} from './trials';

function smcm(): TrialConfiguration {
  return {
    title: 'SMCM vs TAU',
    registry: 'ACTRN12617001435370',
    arms: [
      { code: 'SMCM', name: 'Strengths model case management', ratio: 1 },
      { code: 'TAU', name: 'Treatment as usual', ratio: 1 },
    ],
    randomization: { method: 'permuted_block', blockSizes: [2, 4, 6], stratifyBy: ['site'] },
    eligibility: [
      { code: 'age18', kind: 'inclusion', text: 'Aged 18 or above' },
      { code: 'immediate_risk', kind: 'exclusion', text: 'Immediate risk' },
    ],
    consentForms: [{ code: 'trial', version: '1.0', required: true }],
    baselineVariables: [
      { name: 'age', type: 'number', min: 18, max: 120 },
      { name: 'sex', type: 'category', levels: ['female', 'male'] },
      { name: 'experienceYears', type: 'number', min: 0, roles: ['case_worker'] },
      { name: 'profession', type: 'category', levels: ['nurse', 'social_worker'], roles: ['case_worker'] },
    ],
    incentives: [
      {
        code: 'interview_coupon',
        description: 'Coupon',
        amount: 50,
        currency: 'HKD',
        roles: ['service_user'],
        maxPerParticipant: 1,
      },
    ],
    visits: [{ code: 'm6', label: '6-month follow-up', day: 182, windowBefore: 30, windowAfter: 30 }],
    measures: [{ code: 'employed', label: 'Employed', type: 'binary', visits: ['m6'] }],
    primaryVisit: 'm6',
    delivery: null,
    fidelityScale: null,
  };
}

const pointers = (config: TrialConfiguration) => validateTrialConfiguration(config).map((e) => e.pointer);

describe('validateTrialConfiguration: follow-up', () => {
  it('adds the follow-up rules, with pointers into the trial configuration', () => {
    expect(pointers(smcm())).toEqual([]);
    const config = smcm();
    config.visits.push({ code: 'm12', label: '12 months', day: 365, windowBefore: 30, windowAfter: 30 });
    config.measures[0]!.visits.push('m24');
    expect(pointers(config)).toEqual(['/measures/0/visits/1']);
    expect(pointers({ ...smcm(), primaryVisit: null })).toEqual(['/primaryVisit']);
  });
});

describe('validateTrialConfiguration', () => {
  it('accepts the seed trial', () => {
    expect(validateTrialConfiguration(smcm())).toEqual([]);
  });

  it('reports duplicate codes and names at the later occurrence', () => {
    const config = smcm();
    config.arms.push({ code: 'SMCM', name: 'again', ratio: 1 });
    config.eligibility.push({ code: 'age18', kind: 'inclusion', text: 'again' });
    config.baselineVariables.push({ name: 'age', type: 'integer' });
    config.incentives.push({ ...config.incentives[0]! });
    config.consentForms.push({ code: 'trial', version: '1.0', required: true });
    expect(pointers(config)).toEqual(
      expect.arrayContaining([
        '/arms/2/code',
        '/eligibility/2/code',
        '/baselineVariables/4/name',
        '/incentives/1/code',
        '/consentForms/1/version',
      ]),
    );
  });

  it('requires every block size to be a multiple of the sum of ratios, including unequal ratios', () => {
    const config = smcm();
    config.arms[0]!.ratio = 2; // 2:1 sums to 3
    config.randomization = { method: 'permuted_block', blockSizes: [3, 4, 6] };
    const errors = validateTrialConfiguration(config);
    expect(errors).toEqual([
      { pointer: '/randomization/blockSizes/1', detail: 'must be a multiple of 3, the sum of the arm ratios' },
    ]);
  });

  it('allows stratification only by site or a service-user category variable', () => {
    const config = smcm();
    config.randomization = {
      method: 'permuted_block',
      blockSizes: [4],
      stratifyBy: ['site', 'sex', 'age', 'profession', 'nope'],
    };
    expect(pointers(config)).toEqual([
      '/randomization/stratifyBy/2',
      '/randomization/stratifyBy/3',
      '/randomization/stratifyBy/4',
    ]);
    config.randomization = { method: 'minimization', factors: ['sex', 'age'] };
    expect(pointers(config)).toEqual(['/randomization/factors/1']);
  });

  it('checks variable definitions against their type', () => {
    const config = smcm();
    config.baselineVariables = [
      { name: 'a', type: 'category' },
      { name: 'b', type: 'number', levels: ['x'] },
      { name: 'c', type: 'number', min: 5, max: 1 },
      { name: 'd', type: 'integer', min: 0.5 },
      { name: 'e', type: 'category', levels: ['x'], min: 1, unit: 'kg' },
    ];
    expect(pointers(config)).toEqual([
      '/baselineVariables/0/levels',
      '/baselineVariables/1/levels',
      '/baselineVariables/2/max',
      '/baselineVariables/3/min',
      '/baselineVariables/4/min',
      '/baselineVariables/4/unit',
    ]);
  });

  it('requires the versions of one consent form to agree on whether it is required', () => {
    const config = smcm();
    config.consentForms.push({ code: 'trial', version: '2.0', required: false });
    expect(pointers(config)).toEqual(['/consentForms/1/required']);
  });

  it('refuses unknown currencies and amounts finer than the currency', () => {
    const config = smcm();
    config.incentives = [
      { code: 'a', description: 'x', amount: 1, currency: 'ZZZ', roles: ['service_user'], maxPerParticipant: 1 },
      { code: 'b', description: 'x', amount: 50.005, currency: 'HKD', roles: ['service_user'], maxPerParticipant: 1 },
      { code: 'c', description: 'x', amount: 1.5, currency: 'JPY', roles: ['service_user'], maxPerParticipant: 1 },
      { code: 'd', description: 'x', amount: 1.125, currency: 'KWD', roles: ['service_user'], maxPerParticipant: 1 },
    ];
    expect(pointers(config)).toEqual(['/incentives/0/currency', '/incentives/1/amount', '/incentives/2/amount']);
  });
});

describe('money in minor units', () => {
  it('knows the decimals of two-, zero- and three-decimal currencies', () => {
    expect([currencyDecimals('HKD'), currencyDecimals('JPY'), currencyDecimals('KWD')]).toEqual([2, 0, 3]);
  });

  it('converts without floating-point drift', () => {
    expect(toMinorUnits(0.1 + 0.2, 'HKD')).toBeNull(); // 0.30000000000000004 is not a HKD amount
    expect(toMinorUnits(0.3, 'HKD')).toBe(30);
    expect(toMinorUnits(50, 'HKD')).toBe(5000);
    expect(toMinorUnits(19.99, 'HKD')).toBe(1999);
    expect(toMinorUnits(1.005, 'HKD')).toBeNull();
    expect(toMinorUnits(1.234, 'KWD')).toBe(1234);
    expect(toMinorUnits(1000, 'JPY')).toBe(1000);
    expect(toMinorUnits(1e-7, 'HKD')).toBeNull();
  });

  it('round-trips every HKD amount up to 100.00 and every KWD amount up to 3.000', () => {
    for (let minor = 1; minor <= 10000; minor++) expect(toMinorUnits(fromMinorUnits(minor, 'HKD'), 'HKD')).toBe(minor);
    for (let minor = 1; minor <= 3000; minor++) expect(toMinorUnits(fromMinorUnits(minor, 'KWD'), 'KWD')).toBe(minor);
    expect(fromMinorUnits(30, 'HKD')).toBe(0.3);
    expect(fromMinorUnits(5, 'KWD')).toBe(0.005);
  });
});

describe('applyPatch', () => {
  it('replaces given fields whole and keeps the rest', () => {
    const current = smcm();
    const next = applyPatch(current, {
      title: 'New',
      arms: [
        { code: 'A', name: 'A', ratio: 1 },
        { code: 'B', name: 'B', ratio: 1 },
      ],
    });
    expect(next.title).toBe('New');
    expect(next.arms.map((a) => a.code)).toEqual(['A', 'B']);
    expect(next.eligibility).toBe(current.eligibility);
    expect(current.title).toBe('SMCM vs TAU');
  });
});

describe('site stratification and ETags', () => {
  it('tells whether sites are strata', () => {
    expect(isStratifiedBySite({ method: 'permuted_block', blockSizes: [4], stratifyBy: ['site'] })).toBe(true);
    expect(isStratifiedBySite({ method: 'simple' })).toBe(false);
    expect(isStratifiedBySite({ method: 'minimization', factors: ['site'] })).toBe(true);
  });

  it('compares If-Match strongly', () => {
    expect(ifMatchHolds(undefined, 3)).toBe(true);
    expect(ifMatchHolds('"3"', 3)).toBe(true);
    expect(ifMatchHolds('"2", "3"', 3)).toBe(true);
    expect(ifMatchHolds('*', 3)).toBe(true);
    expect(ifMatchHolds('"2"', 3)).toBe(false);
    expect(ifMatchHolds('W/"3"', 3)).toBe(false);
  });
});
