/**
 * Raised when a statistic is undefined for its input (too few values, constant data, a malformed
 * table, a computation too large to run exactly). The functions in this folder throw it instead of
 * returning NaN or Infinity; the HTTP layer turns it into a 422 problem with one field error.
 */
export class StatisticsInputError extends Error {
  /** JSON pointer to the offending input, relative to the function's arguments, e.g. `/group1/sd`. */
  readonly pointer: string;
  /** Human-readable reason, phrased to be shown to an API client. */
  readonly reason: string;

  constructor(pointer: string, reason: string) {
    super(`${pointer || '(input)'}: ${reason}`);
    this.name = 'StatisticsInputError';
    this.pointer = pointer;
    this.reason = reason;
  }
}

export function requireFiniteNumbers(values: readonly number[], pointer: string): void {
  values.forEach((value, index) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new StatisticsInputError(`${pointer}/${index}`, 'must be a finite number');
    }
  });
}
