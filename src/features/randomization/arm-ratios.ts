/** What allocation needs to know about an arm: its code and its integer ratio weight, in trial order. */
export interface ArmRatio {
  code: string;
  ratio: number;
}

/** Problems with a set of arms as an allocation design; empty when usable. */
export function armRatioProblems(arms: readonly ArmRatio[]): string[] {
  const problems: string[] = [];
  if (arms.length < 2) problems.push('randomization needs at least two arms');
  const seen = new Set<string>();
  for (const arm of arms) {
    if (seen.has(arm.code)) problems.push(`arm code ${arm.code} appears more than once`);
    seen.add(arm.code);
    if (!Number.isSafeInteger(arm.ratio) || arm.ratio < 1) {
      problems.push(`arm ${arm.code} has ratio ${arm.ratio}; ratios are positive integers`);
    }
  }
  return problems;
}

export function assertUsableArms(arms: readonly ArmRatio[]): void {
  const problems = armRatioProblems(arms);
  if (problems.length > 0) throw new RangeError(problems.join('; '));
}

export function totalRatio(arms: readonly ArmRatio[]): number {
  return arms.reduce((sum, arm) => sum + arm.ratio, 0);
}

/**
 * The arm owning `index` when [0, totalRatio) is cut into consecutive runs of `ratio` integers per arm,
 * in trial order: for 2:1 arms A, B, indexes 0 and 1 are A and 2 is B.
 */
export function armAtRatioIndex(arms: readonly ArmRatio[], index: number): string {
  let runEnd = 0;
  for (const arm of arms) {
    runEnd += arm.ratio;
    if (index < runEnd) return arm.code;
  }
  throw new RangeError(`ratio index ${index} is outside [0, ${runEnd})`);
}
