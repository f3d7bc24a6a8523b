import { armMask, maskArms } from './mask-arms';

const arms = [
  { code: 'SMCM', name: 'Strengths model case management', ratio: 1 },
  { code: 'TAU', name: 'Treatment as usual', ratio: 1 },
];
// TAU first in the masked order, so the labels do not follow trial order.
const mask = armMask(arms, [
  { code: 'TAU', label: 'Group 1' },
  { code: 'SMCM', label: 'Group 2' },
]);

describe('maskArms', () => {
  it('masks arm codes under "arm" at any depth, and leaves equal strings elsewhere alone', () => {
    const body = {
      participantId: 'p1',
      arm: 'SMCM',
      stratum: { site: 'TAU' },
      items: [{ arm: 'TAU', label: 'SMCM' }],
      after: { assignment: { arm: 'SMCM' } },
    };
    expect(maskArms(body, mask)).toEqual({
      participantId: 'p1',
      arm: 'Group 2',
      stratum: { site: 'TAU' },
      items: [{ arm: 'Group 1', label: 'SMCM' }],
      after: { assignment: { arm: 'Group 2' } },
    });
  });

  it('masks code and name of arm lists and orders them by label', () => {
    expect(maskArms({ arms }, mask)).toEqual({
      arms: [
        { code: 'Group 1', name: 'Group 1', ratio: 1 },
        { code: 'Group 2', name: 'Group 2', ratio: 1 },
      ],
    });
  });

  it('orders per-arm rows by label too', () => {
    const counts = {
      arms: [
        { arm: 'SMCM', allocated: 10 },
        { arm: 'TAU', allocated: 12 },
      ],
    };
    expect(maskArms(counts, mask)).toEqual({
      arms: [
        { arm: 'Group 1', allocated: 12 },
        { arm: 'Group 2', allocated: 10 },
      ],
    });
  });

  it('leaves no real arm code or name anywhere in a masked trial view', () => {
    const view = {
      id: 't',
      arms,
      randomization: { method: 'permuted_block' },
      audit: [{ before: null, after: { arms, arm: 'TAU' } }],
    };
    const text = JSON.stringify(maskArms(view, mask));
    for (const arm of arms) {
      expect(text).not.toContain(arm.code);
      expect(text).not.toContain(arm.name);
    }
  });

  it('renames the keys of byArm objects and orders them by label', () => {
    const table = { variables: [{ name: 'age', byArm: { SMCM: { n: 12 }, TAU: { n: 11 } } }] };
    expect(maskArms(table, mask)).toEqual({
      variables: [{ name: 'age', byArm: { 'Group 1': { n: 11 }, 'Group 2': { n: 12 } } }],
    });
    expect(Object.keys(maskArms(table, mask).variables[0]!.byArm)).toEqual(['Group 1', 'Group 2']);
  });

  it('masks lists of arm codes and withholds a delivery plan whole', () => {
    const after = {
      title: 'x',
      delivery: { arms: [{ arm: 'SMCM' }], tools: [{ code: 'strengths_assessment', arms: ['SMCM'] }] },
      tools: [{ code: 'prp', arms: ['SMCM', 'TAU'] }],
    };
    expect(maskArms(after, mask)).toEqual({ title: 'x', tools: [{ code: 'prp', arms: ['Group 1', 'Group 2'] }] });
    expect(maskArms({ delivery: null }, mask)).toEqual({ delivery: null });
  });

  it('does not change its input', () => {
    const body = { arm: 'SMCM' };
    maskArms(body, mask);
    expect(body).toEqual({ arm: 'SMCM' });
  });
});
