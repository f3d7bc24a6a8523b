/** Sequence numbers count a stratum's participants from 1; they address draws, so they are exact integers. */
export function assertSequenceNumber(sequenceNumber: number): void {
  if (!Number.isSafeInteger(sequenceNumber) || sequenceNumber < 1) {
    throw new RangeError(`sequence numbers start at 1, got ${sequenceNumber}`);
  }
}
