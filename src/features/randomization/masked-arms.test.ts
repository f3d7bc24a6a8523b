import { maskedArmLabels } from './masked-arms';
import { seedFor } from '../../../test/support/randomization-cases';

const ARMS = [{ code: 'SMCM' }, { code: 'TAU' }, { code: 'WAIT' }];

describe('maskedArmLabels', () => {
  it('labels every arm once, Group 1 first', () => {
    const masked = maskedArmLabels(seedFor('mask'), ARMS);
    expect(masked.map((arm) => arm.label)).toEqual(['Group 1', 'Group 2', 'Group 3']);
    expect(masked.map((arm) => arm.code).sort()).toEqual(['SMCM', 'TAU', 'WAIT']);
  });

  it('is stable for a seed whatever the order the arms are listed in', () => {
    const forward = maskedArmLabels(seedFor('mask'), ARMS);
    expect(maskedArmLabels(seedFor('mask'), [...ARMS].reverse())).toEqual(forward);
  });

  it('depends on the seed: over many seeds every order of three arms occurs', () => {
    const orders = new Set<string>();
    for (let index = 0; index < 200; index += 1) {
      orders.add(
        maskedArmLabels(seedFor(`mask ${index}`), ARMS)
          .map((arm) => arm.code)
          .join(','),
      );
    }
    expect(orders.size).toBe(6);
  });
});
