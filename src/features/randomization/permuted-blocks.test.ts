import { totalRatio } from './arm-ratios';
import {
  generateBlock,
  permutedBlockDesignProblems,
  permutedBlockSequence,
  permutedBlockSlot,
  type BlockPosition,
  type PermutedBlockDesign,
  type PermutedBlockSlot,
} from './permuted-blocks';
import { chiSquareCritical, chiSquareStatistic, seedFor } from '../../../test/support/randomization-cases';

const DESIGNS: Record<string, PermutedBlockDesign> = {
  '1:1 in blocks of 4 or 6': {
    arms: [
      { code: 'SMCM', ratio: 1 },
      { code: 'TAU', ratio: 1 },
    ],
    blockSizes: [4, 6],
  },
  '1:1 in blocks of 2 to 8': {
    arms: [
      { code: 'SMCM', ratio: 1 },
      { code: 'TAU', ratio: 1 },
    ],
    blockSizes: [2, 4, 6, 8],
  },
  '2:1 in blocks of 3, 6 or 9': {
    arms: [
      { code: 'SMCM', ratio: 2 },
      { code: 'TAU', ratio: 1 },
    ],
    blockSizes: [3, 6, 9],
  },
  '1:1:1 in blocks of 3 or 6': {
    arms: [
      { code: 'A', ratio: 1 },
      { code: 'B', ratio: 1 },
      { code: 'C', ratio: 1 },
    ],
    blockSizes: [3, 6],
  },
  '1:2:1 in blocks of 4 or 8': {
    arms: [
      { code: 'A', ratio: 1 },
      { code: 'B', ratio: 2 },
      { code: 'C', ratio: 1 },
    ],
    blockSizes: [8, 4],
  },
  '3:2 in blocks of 5 or 10': {
    arms: [
      { code: 'A', ratio: 3 },
      { code: 'B', ratio: 2 },
    ],
    blockSizes: [5, 10],
  },
};
const DESIGN_ENTRIES = Object.entries(DESIGNS);

function armCounts(design: PermutedBlockDesign, arms: readonly string[]): number[] {
  return design.arms.map((arm) => arms.filter((code) => code === arm.code).length);
}

describe('generateBlock', () => {
  it.each(DESIGN_ENTRIES)('fills every block exactly in ratio: %s', (_, design) => {
    const ratioSum = totalRatio(design.arms);
    const sizesSeen = new Set<number>();
    const unbalancedBlocks: string[] = [];
    for (let seedIndex = 0; seedIndex < 50; seedIndex += 1) {
      const seed = seedFor(`balance ${seedIndex}`);
      for (const stratum of ['', 'site=LDN', 'site=MAN|sex=F']) {
        for (let blockNumber = 1; blockNumber <= 40; blockNumber += 1) {
          const block = generateBlock(seed, design, stratum, blockNumber);
          sizesSeen.add(block.blockSize);
          const copies = block.blockSize / ratioSum;
          const inRatio =
            block.arms.length === block.blockSize &&
            armCounts(design, block.arms).every((count, index) => count === design.arms[index]!.ratio * copies);
          if (!inRatio) unbalancedBlocks.push(`${seedIndex}/${stratum}/${blockNumber}: ${block.arms.join(',')}`);
        }
      }
    }
    expect(unbalancedBlocks).toEqual([]);
    expect([...sizesSeen].sort((a, b) => a - b)).toEqual([...design.blockSizes].sort((a, b) => a - b));
  });

  it('makes every arrangement of a block equally likely (1:1, size 4: six arrangements)', () => {
    const design: PermutedBlockDesign = {
      arms: [
        { code: 'A', ratio: 1 },
        { code: 'B', ratio: 1 },
      ],
      blockSizes: [4],
    };
    const frequency = new Map<string, number>();
    const blocks = 12_000;
    for (let blockNumber = 1; blockNumber <= blocks; blockNumber += 1) {
      const arrangement = generateBlock(seedFor('arrangements'), design, '', blockNumber).arms.join('');
      frequency.set(arrangement, (frequency.get(arrangement) ?? 0) + 1);
    }
    expect([...frequency.keys()].sort()).toEqual(['AABB', 'ABAB', 'ABBA', 'BAAB', 'BABA', 'BBAA']);
    const observed = [...frequency.values()];
    expect(chiSquareStatistic(observed, Array<number>(6).fill(blocks / 6))).toBeLessThan(chiSquareCritical(5));
  });

  it('makes every arrangement of a 2:1 block of 3 equally likely', () => {
    const design: PermutedBlockDesign = {
      arms: [
        { code: 'A', ratio: 2 },
        { code: 'B', ratio: 1 },
      ],
      blockSizes: [3],
    };
    const positionOfB = [0, 0, 0];
    const blocks = 9_000;
    for (let blockNumber = 1; blockNumber <= blocks; blockNumber += 1) {
      positionOfB[generateBlock(seedFor('2:1 arrangements'), design, '', blockNumber).arms.indexOf('B')]! += 1;
    }
    expect(chiSquareStatistic(positionOfB, [3_000, 3_000, 3_000])).toBeLessThan(chiSquareCritical(2));
  });

  it('refuses designs whose block sizes are not multiples of the ratio sum', () => {
    const arms = [
      { code: 'A', ratio: 2 },
      { code: 'B', ratio: 1 },
    ];
    expect(permutedBlockDesignProblems({ arms, blockSizes: [3, 6] })).toEqual([]);
    expect(permutedBlockDesignProblems({ arms, blockSizes: [4] })).toEqual([
      'block size 4 is not a positive multiple of the ratio sum 3',
    ]);
    expect(permutedBlockDesignProblems({ arms, blockSizes: [] })).toEqual([
      'permuted blocks need at least one block size',
    ]);
    expect(() => generateBlock(seedFor('x'), { arms, blockSizes: [4] }, '', 1)).toThrow(/multiple of the ratio sum/);
    expect(() => generateBlock(seedFor('x'), { arms: [{ code: 'A', ratio: 1 }], blockSizes: [2] }, '', 1)).toThrow(
      /at least two arms/,
    );
    expect(() => generateBlock(seedFor('x'), { arms, blockSizes: [3] }, '', 0)).toThrow(/start at 1/);
  });
});

describe('permutedBlockSequence', () => {
  const design = DESIGNS['2:1 in blocks of 3, 6 or 9']!;

  it('gives a byte-identical list for the same seed and configuration', () => {
    const first = JSON.stringify(permutedBlockSequence(seedFor('identical'), design, 'site=LDN', 300));
    const second = JSON.stringify(permutedBlockSequence(seedFor('identical'), design, 'site=LDN', 300));
    expect(second).toBe(first);
  });

  it('differs between seeds and between strata', () => {
    const arms = (seedLabel: string, stratum: string) =>
      permutedBlockSequence(seedFor(seedLabel), design, stratum, 60).map((slot) => slot.arm);
    expect(arms('seed one', 'site=LDN')).not.toEqual(arms('seed two', 'site=LDN'));
    expect(arms('seed one', 'site=LDN')).not.toEqual(arms('seed one', 'site=MAN'));
  });

  it('numbers slots consecutively inside blocks that follow one another', () => {
    const slots = permutedBlockSequence(seedFor('numbering'), design, '', 100);
    expect(slots.map((slot) => slot.sequenceNumber)).toEqual(Array.from({ length: 100 }, (_, index) => index + 1));
    for (const [index, slot] of slots.entries()) {
      expect(slot.sequenceNumber).toBe(slot.blockStartSequence + slot.positionInBlock - 1);
      const previous = slots[index - 1];
      if (previous && previous.blockNumber !== slot.blockNumber) {
        expect(slot.blockNumber).toBe(previous.blockNumber + 1);
        expect(slot.blockStartSequence).toBe(previous.blockStartSequence + previous.blockSize);
        expect(previous.positionInBlock).toBe(previous.blockSize);
        expect(slot.positionInBlock).toBe(1);
      }
    }
  });
});

describe('permutedBlockSlot', () => {
  const design = DESIGNS['1:1 in blocks of 2 to 8']!;
  const seed = seedFor('service walk');

  it('lets a service that stores only the current block reproduce the walked sequence', () => {
    const walked = permutedBlockSequence(seed, design, 'site=LDN', 120);
    let stored: BlockPosition | null = null;
    const served: PermutedBlockSlot[] = [];
    for (let sequenceNumber = 1; sequenceNumber <= 120; sequenceNumber += 1) {
      const slot: PermutedBlockSlot = permutedBlockSlot(seed, design, 'site=LDN', stored, sequenceNumber);
      stored = {
        blockNumber: slot.blockNumber,
        blockSize: slot.blockSize,
        blockStartSequence: slot.blockStartSequence,
      };
      served.push(slot);
    }
    expect(served).toEqual(walked);
  });

  it('refuses sequence numbers that skip ahead or go back past the current block', () => {
    expect(() => permutedBlockSlot(seed, design, '', null, 2)).toThrow(/first slot after it \(1\)/);
    const first = permutedBlockSlot(seed, design, '', null, 1);
    const next = first.blockStartSequence + first.blockSize;
    expect(() => permutedBlockSlot(seed, design, '', first, next + 1)).toThrow(/neither in the current block/);
    const second = permutedBlockSlot(seed, design, '', first, next);
    expect(() => permutedBlockSlot(seed, design, '', second, 1)).toThrow(/neither in the current block/);
  });

  it('refuses a stored block whose size disagrees with the seed', () => {
    const first = permutedBlockSlot(seed, design, '', null, 1);
    const corrupted = { ...first, blockSize: first.blockSize === 2 ? 4 : 2 };
    expect(() => permutedBlockSlot(seed, design, '', corrupted, 2)).toThrow(/not the stored/);
  });
});

/**
 * Imbalance between arms a and b after some allocations, in ratio units: |count_a / ratio_a − count_b / ratio_b|.
 * For 1:1 this is the plain difference in counts. At the end of every block all counts are in ratio, so the
 * imbalance is 0; inside a block of size B = k × (sum of ratios) it is largest when all k × ratio_a slots of
 * one arm come first, giving k. Hence the bound: max imbalance over every prefix ≤ max(blockSizes) / sum of
 * ratios — half the largest block for 1:1 — and it is attained.
 */
describe('in-stratum imbalance over 10,000 simulated trials', () => {
  it('never exceeds max(blockSizes) / sum(ratios), and reaches it for every design', () => {
    const worstByDesign = new Map<string, number>();
    for (let trial = 0; trial < 10_000; trial += 1) {
      const [name, design] = DESIGN_ENTRIES[trial % DESIGN_ENTRIES.length]!;
      const allocationsInStratum = 30 + ((trial * 37) % 91);
      const slots = permutedBlockSequence(
        seedFor(`trial ${trial}`),
        design,
        `site=S${trial % 7}`,
        allocationsInStratum,
      );
      worstByDesign.set(name, Math.max(worstByDesign.get(name) ?? 0, worstRatioImbalance(design, slots)));
    }
    for (const [name, design] of DESIGN_ENTRIES) {
      const bound = Math.max(...design.blockSizes) / totalRatio(design.arms);
      expect({ name, worst: worstByDesign.get(name) }).toEqual({ name, worst: bound });
    }
  });
});

/** Largest ratio-unit imbalance over all prefixes, computed in integers scaled by the product of ratios. */
function worstRatioImbalance(design: PermutedBlockDesign, slots: readonly PermutedBlockSlot[]): number {
  const scale = design.arms.reduce((product, arm) => product * arm.ratio, 1);
  const weightByArm = new Map(design.arms.map((arm) => [arm.code, scale / arm.ratio]));
  const scaledCounts = new Map(design.arms.map((arm) => [arm.code, 0]));
  let worst = 0;
  for (const slot of slots) {
    scaledCounts.set(slot.arm, scaledCounts.get(slot.arm)! + weightByArm.get(slot.arm)!);
    const values = [...scaledCounts.values()];
    worst = Math.max(worst, Math.max(...values) - Math.min(...values));
  }
  return worst / scale;
}
