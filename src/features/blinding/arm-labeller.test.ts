import { maskedLabeller, OPEN_LABELLER } from './arm-labeller';

const arms = [
  { code: 'SMCM', name: 'Strengths model case management', ratio: 1 },
  { code: 'TAU', name: 'Treatment as usual', ratio: 2 },
];
// TAU first in the masked order, so labels do not follow trial order.
const masked = [
  { code: 'TAU', label: 'Group 1' },
  { code: 'SMCM', label: 'Group 2' },
];

describe('maskedLabeller', () => {
  const labeller = maskedLabeller(arms, masked);

  it('labels arms by code and by name, and never passes an unknown arm through', () => {
    expect(labeller.blinded).toBe(true);
    expect(labeller.label('SMCM')).toBe('Group 2');
    expect(labeller.label('Treatment as usual')).toBe('Group 1');
    expect(labeller.label('ZEBRAFISH')).toBe('Group ?');
  });

  it('replaces code and name of arm lists, keeps other fields, and lists them in label order', () => {
    expect(labeller.arms(arms)).toEqual([
      { code: 'Group 1', name: 'Group 1', ratio: 2 },
      { code: 'Group 2', name: 'Group 2', ratio: 1 },
    ]);
  });

  it('re-keys per-arm objects by label, in label order', () => {
    const byArm = labeller.byArm({ SMCM: { n: 3 }, TAU: { n: 4 } });
    expect(Object.keys(byArm)).toEqual(['Group 1', 'Group 2']);
    expect(byArm).toEqual({ 'Group 1': { n: 4 }, 'Group 2': { n: 3 } });
  });

  it('masks arms in free-form payloads by key, leaving equal strings elsewhere alone', () => {
    expect(labeller.payload({ allocation: { arm: 'SMCM' }, stratum: { site: 'TAU' } })).toEqual({
      allocation: { arm: 'Group 2' },
      stratum: { site: 'TAU' },
    });
  });

  it('orders ten or more groups numerically (Group 2 before Group 10)', () => {
    const many = Array.from({ length: 11 }, (_, i) => ({ code: `A${i}`, name: `Arm ${i}` }));
    const manyLabeller = maskedLabeller(
      many,
      many.map((arm, i) => ({ code: arm.code, label: `Group ${i + 1}` })),
    );
    expect(manyLabeller.arms([...many].reverse()).map((arm) => arm.code)).toEqual(many.map((_, i) => `Group ${i + 1}`));
  });
});

describe('OPEN_LABELLER', () => {
  it('shows everything as it is, in the order given', () => {
    expect(OPEN_LABELLER.blinded).toBe(false);
    expect(OPEN_LABELLER.label('SMCM')).toBe('SMCM');
    expect(OPEN_LABELLER.arms([...arms].reverse())).toEqual([...arms].reverse());
    expect(OPEN_LABELLER.byArm({ TAU: 1, SMCM: 2 })).toEqual({ TAU: 1, SMCM: 2 });
    const payload = { arm: 'SMCM' };
    expect(OPEN_LABELLER.payload(payload)).toBe(payload);
  });
});
