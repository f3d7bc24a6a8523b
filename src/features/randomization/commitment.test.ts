import { createHash } from 'node:crypto';
import { allocationCommitment, commitmentPreimage, type RandomizationConfig } from './commitment';

const SEED = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
const CONFIG: RandomizationConfig = {
  arms: [
    { code: 'SMCM', ratio: 1 },
    { code: 'TAU', ratio: 1 },
  ],
  randomization: { method: 'permuted_block', blockSizes: [4, 6], stratifyBy: ['site'] },
};

describe('allocationCommitment', () => {
  it('hashes the documented preimage', () => {
    const preimage =
      'trialdesk/commitment/v1\n' +
      `${SEED}\n` +
      '{"arms":[{"code":"SMCM","ratio":1},{"code":"TAU","ratio":1}],' +
      '"randomization":{"blockSizes":[4,6],"method":"permuted_block","stratifyBy":["site"]}}';
    expect(commitmentPreimage(SEED, CONFIG)).toBe(preimage);
    expect(allocationCommitment(SEED, CONFIG)).toBe(createHash('sha256').update(preimage).digest('hex'));
  });

  it('ignores arm names and the case of the seed, which decide no allocation', () => {
    const named = {
      ...CONFIG,
      arms: [
        { code: 'SMCM', name: 'Case management', ratio: 1 },
        { code: 'TAU', name: 'Usual care', ratio: 1 },
      ],
    };
    expect(allocationCommitment(SEED.toUpperCase(), named)).toBe(allocationCommitment(SEED, CONFIG));
  });

  it('changes with the seed, the ratios, the arm order and the block size order', () => {
    const reference = allocationCommitment(SEED, CONFIG);
    const variants: RandomizationConfig[] = [
      {
        ...CONFIG,
        arms: [
          { code: 'SMCM', ratio: 2 },
          { code: 'TAU', ratio: 1 },
        ],
      },
      {
        ...CONFIG,
        arms: [
          { code: 'TAU', ratio: 1 },
          { code: 'SMCM', ratio: 1 },
        ],
      },
      { ...CONFIG, randomization: { method: 'permuted_block', blockSizes: [6, 4], stratifyBy: ['site'] } },
      { ...CONFIG, randomization: { method: 'permuted_block', blockSizes: [4, 6] } },
    ];
    for (const variant of variants) expect(allocationCommitment(SEED, variant)).not.toBe(reference);
    expect(allocationCommitment(`ff${SEED.slice(2)}`, CONFIG)).not.toBe(reference);
  });

  it('spells out defaults, so omitted and explicit defaults commit to the same design', () => {
    const omitted: RandomizationConfig = { ...CONFIG, randomization: { method: 'minimization', factors: ['site'] } };
    const explicit: RandomizationConfig = {
      ...CONFIG,
      randomization: { method: 'minimization', factors: ['site'], p: 0.8, imbalance: 'range' },
    };
    expect(allocationCommitment(SEED, omitted)).toBe(allocationCommitment(SEED, explicit));
    expect(commitmentPreimage(SEED, omitted)).toContain(
      '"randomization":{"factors":["site"],"imbalance":"range","method":"minimization","p":0.8}',
    );
    const unstratified: RandomizationConfig = { ...CONFIG, randomization: { method: 'simple' } };
    expect(commitmentPreimage(SEED, unstratified)).toContain('"randomization":{"method":"simple","stratifyBy":[]}');
  });

  it('refuses a malformed seed', () => {
    expect(() => allocationCommitment('abc', CONFIG)).toThrow(RangeError);
  });
});
