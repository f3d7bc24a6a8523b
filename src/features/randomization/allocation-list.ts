import { assertSequenceNumber } from './sequence-numbers';
import { stratumKey } from './stratum-key';

/**
 * The `list` method: the statistician uploads the allocation table; the rows of each stratum are
 * consumed in upload order, so the n-th participant of a stratum gets the n-th row of that stratum.
 */

export interface AllocationListRow {
  /** The stratum's level for each `stratifyBy` factor; `{}` when unstratified. */
  stratum: Readonly<Record<string, string>>;
  arm: string;
}

export interface AllocationListRules {
  armCodes: readonly string[];
  stratifyBy: readonly string[];
  /** The levels each stratification factor can take: site codes for `site`, category levels otherwise. */
  levelsByFactor: Readonly<Record<string, readonly string[]>>;
}

export interface AllocationListProblem {
  /** JSON pointer relative to the uploaded rows array, e.g. `/3/arm`. */
  pointer: string;
  message: string;
}

export type ListSlot =
  { status: 'allocated'; arm: string; rowIndex: number } | { status: 'exhausted'; rowsInStratum: number };

export function allocationListProblems(
  rows: readonly AllocationListRow[],
  rules: AllocationListRules,
): AllocationListProblem[] {
  const problems: AllocationListProblem[] = [];
  if (rows.length === 0) problems.push({ pointer: '', message: 'the allocation list has no rows' });
  const armCodes = new Set(rules.armCodes);
  const factors = new Set(rules.stratifyBy);
  rows.forEach((row, index) => {
    if (!armCodes.has(row.arm)) {
      problems.push({ pointer: `/${index}/arm`, message: `${row.arm} is not an arm of this trial` });
    }
    for (const [factor, level] of Object.entries(row.stratum)) {
      const pointer = `/${index}/stratum/${escapeJsonPointerToken(factor)}`;
      if (!factors.has(factor)) {
        problems.push({ pointer, message: `${factor} is not a stratification factor of this trial` });
      } else if (!(rules.levelsByFactor[factor] ?? []).includes(level)) {
        problems.push({ pointer, message: `${level} is not a level of ${factor}` });
      }
    }
    for (const factor of rules.stratifyBy) {
      if (row.stratum[factor] === undefined) {
        problems.push({ pointer: `/${index}/stratum`, message: `the level of ${factor} is missing` });
      }
    }
  });
  return problems;
}

/** The row for the `sequenceNumber`-th (1-based) participant of the stratum, or exhaustion of the list. */
export function listAllocation(
  rows: readonly AllocationListRow[],
  stratifyBy: readonly string[],
  targetStratumKey: string,
  sequenceNumber: number,
): ListSlot {
  assertSequenceNumber(sequenceNumber);
  let rowsInStratum = 0;
  for (const [rowIndex, row] of rows.entries()) {
    if (stratumKey(stratifyBy, row.stratum) !== targetStratumKey) continue;
    rowsInStratum += 1;
    if (rowsInStratum === sequenceNumber) return { status: 'allocated', arm: row.arm, rowIndex };
  }
  return { status: 'exhausted', rowsInStratum };
}

function escapeJsonPointerToken(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}
