import { assertUsableArms, totalRatio, type ArmRatio } from './arm-ratios';
import { hmacDraws } from './random-stream';
import { assertSequenceNumber } from './sequence-numbers';

export interface PermutedBlockDesign {
  arms: readonly ArmRatio[];
  /** Candidate sizes in configured order; each a multiple of the sum of the ratios. */
  blockSizes: readonly number[];
}

export interface GeneratedBlock {
  blockSize: number;
  /** Arm codes in allocation order; `arms[k]` is position k + 1 of the block. */
  arms: string[];
}

/** What the service stores per stratum to carry on allocating without regenerating earlier blocks. */
export interface BlockPosition {
  blockNumber: number;
  blockSize: number;
  /** Sequence number of the block's first slot. Sequence and block numbers start at 1. */
  blockStartSequence: number;
}

export interface PermutedBlockSlot extends BlockPosition {
  sequenceNumber: number;
  /** 1-based position within the block. */
  positionInBlock: number;
  arm: string;
}

export function permutedBlockDesignProblems(design: PermutedBlockDesign): string[] {
  const ratioSum = totalRatio(design.arms);
  const problems: string[] = [];
  if (design.blockSizes.length === 0) problems.push('permuted blocks need at least one block size');
  if (new Set(design.blockSizes).size !== design.blockSizes.length) problems.push('block sizes repeat');
  for (const size of design.blockSizes) {
    if (!Number.isSafeInteger(size) || size < 1 || size % ratioSum !== 0) {
      problems.push(`block size ${size} is not a positive multiple of the ratio sum ${ratioSum}`);
    }
  }
  return problems;
}

function assertUsableDesign(design: PermutedBlockDesign): void {
  assertUsableArms(design.arms);
  const problems = permutedBlockDesignProblems(design);
  if (problems.length > 0) throw new RangeError(problems.join('; '));
}

/**
 * Block `blockNumber` of a stratum, computed directly from its stream address (stratumKey, blockNumber):
 * draw 0 picks the size as blockSizes[uniformInt(0, blockSizes.length)]; the unshuffled block lists each
 * arm in trial order ratio × (size / ratio sum) times; then a Fisher–Yates shuffle runs i from size − 1
 * down to 1, swapping positions i and uniformInt(d, i + 1) with draw index d = size − i (1, 2, ...).
 */
export function generateBlock(
  seed: Buffer,
  design: PermutedBlockDesign,
  stratumKey: string,
  blockNumber: number,
): GeneratedBlock {
  assertUsableDesign(design);
  if (!Number.isSafeInteger(blockNumber) || blockNumber < 1) {
    throw new RangeError(`block numbers start at 1, got ${blockNumber}`);
  }
  const draws = hmacDraws(seed, stratumKey, blockNumber);
  const blockSize = design.blockSizes[draws.uniformInt(0, design.blockSizes.length)]!;
  const copiesPerRatioUnit = blockSize / totalRatio(design.arms);
  const arms = design.arms.flatMap((arm) => Array<string>(arm.ratio * copiesPerRatioUnit).fill(arm.code));
  for (let i = blockSize - 1; i >= 1; i -= 1) {
    const j = draws.uniformInt(blockSize - i, i + 1);
    [arms[i], arms[j]] = [arms[j]!, arms[i]!];
  }
  return { blockSize, arms };
}

/**
 * The slot for `sequenceNumber` given the stratum's current block (null before its first allocation).
 * The sequence number must fall in the current block or be the first slot after it; when it opens a new
 * block, the returned position is the one to store.
 */
export function permutedBlockSlot(
  seed: Buffer,
  design: PermutedBlockDesign,
  stratumKey: string,
  currentBlock: BlockPosition | null,
  sequenceNumber: number,
): PermutedBlockSlot {
  assertSequenceNumber(sequenceNumber);
  const nextBlockNumber = currentBlock ? currentBlock.blockNumber + 1 : 1;
  const nextBlockStart = currentBlock ? currentBlock.blockStartSequence + currentBlock.blockSize : 1;
  if (currentBlock && sequenceNumber >= currentBlock.blockStartSequence && sequenceNumber < nextBlockStart) {
    const block = generateBlock(seed, design, stratumKey, currentBlock.blockNumber);
    if (block.blockSize !== currentBlock.blockSize) {
      throw new RangeError(
        `block ${currentBlock.blockNumber} of stratum '${stratumKey}' has size ${block.blockSize}, not the stored ${currentBlock.blockSize}`,
      );
    }
    return slotIn(block, currentBlock, sequenceNumber);
  }
  if (sequenceNumber !== nextBlockStart) {
    throw new RangeError(
      `sequence number ${sequenceNumber} is neither in the current block nor the first slot after it (${nextBlockStart})`,
    );
  }
  const block = generateBlock(seed, design, stratumKey, nextBlockNumber);
  return slotIn(
    block,
    { blockNumber: nextBlockNumber, blockSize: block.blockSize, blockStartSequence: nextBlockStart },
    sequenceNumber,
  );
}

function slotIn(block: GeneratedBlock, position: BlockPosition, sequenceNumber: number): PermutedBlockSlot {
  const positionInBlock = sequenceNumber - position.blockStartSequence + 1;
  return {
    blockNumber: position.blockNumber,
    blockSize: position.blockSize,
    blockStartSequence: position.blockStartSequence,
    sequenceNumber,
    positionInBlock,
    arm: block.arms[positionInBlock - 1]!,
  };
}

/**
 * Slots 1..count of a stratum, walking block by block; slot n is element n − 1. Verification and tests
 * use it; the service keeps its BlockPosition and calls permutedBlockSlot instead.
 */
export function permutedBlockSequence(
  seed: Buffer,
  design: PermutedBlockDesign,
  stratumKey: string,
  count: number,
): PermutedBlockSlot[] {
  const slots: PermutedBlockSlot[] = [];
  let blockStartSequence = 1;
  for (let blockNumber = 1; slots.length < count; blockNumber += 1) {
    const block = generateBlock(seed, design, stratumKey, blockNumber);
    const position = { blockNumber, blockSize: block.blockSize, blockStartSequence };
    for (let offset = 0; offset < block.blockSize && slots.length < count; offset += 1) {
      slots.push(slotIn(block, position, blockStartSequence + offset));
    }
    blockStartSequence += block.blockSize;
  }
  return slots;
}
