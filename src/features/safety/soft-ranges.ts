/**
 * Soft ranges (#21): a plausible range declared for a numeric baseline variable or outcome measure, inside its hard
 * limits. A value outside the hard limits is refused when it is recorded; a value outside the soft range is accepted
 * and raises an automatic data query.
 */

export interface SoftRange {
  min?: number;
  max?: number;
}

/** Checks a declared soft range against the hard limits of its variable or measure; `at` points at the range. */
export function checkSoftRange(
  range: SoftRange,
  hard: { min?: number; max?: number; integer: boolean },
  at: string,
  add: (pointer: string, detail: string) => void,
): void {
  const { min, max } = range;
  if (min === undefined && max === undefined) add(at, 'needs min, max or both');
  if (min !== undefined && max !== undefined && min > max) add(`${at}/max`, `must be at least min (${min})`);
  for (const [bound, value] of [
    ['min', min],
    ['max', max],
  ] as const) {
    if (value === undefined) continue;
    if (hard.integer && !Number.isInteger(value)) add(`${at}/${bound}`, 'must be a whole number');
    if (hard.min !== undefined && value < hard.min)
      add(`${at}/${bound}`, `must lie inside the hard limits (min ${hard.min})`);
    if (hard.max !== undefined && value > hard.max)
      add(`${at}/${bound}`, `must lie inside the hard limits (max ${hard.max})`);
  }
}

/** How a recorded value stands against a soft range: null when inside (or not a number), else the side it is out. */
export function outsideSoftRange(value: unknown, range: SoftRange): 'below' | 'above' | null {
  if (typeof value !== 'number') return null;
  if (range.min !== undefined && value < range.min) return 'below';
  if (range.max !== undefined && value > range.max) return 'above';
  return null;
}

/** The text of an automatic soft-range query. */
export function softRangeText(value: number, range: SoftRange, side: 'below' | 'above'): string {
  const bounds =
    range.min !== undefined && range.max !== undefined
      ? `${range.min} to ${range.max}`
      : range.min !== undefined
        ? `at least ${range.min}`
        : `at most ${range.max}`;
  return `Automatic check: ${value} is ${side} the plausible range (${bounds}); please confirm against the source or correct it.`;
}
