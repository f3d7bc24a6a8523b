/**
 * Neumaier's compensated summation: the rounding error of every addition is carried in a second
 * term, so the result is as accurate as summing in twice the precision (R sums in long double).
 */
export class CompensatedSum {
  private sum = 0;
  private compensation = 0;

  add(value: number): this {
    const next = this.sum + value;
    if (Math.abs(this.sum) >= Math.abs(value)) {
      this.compensation += this.sum - next + value;
    } else {
      this.compensation += value - next + this.sum;
    }
    this.sum = next;
    return this;
  }

  get value(): number {
    return this.sum + this.compensation;
  }
}

export function compensatedSum(values: Iterable<number>): number {
  const accumulator = new CompensatedSum();
  for (const value of values) accumulator.add(value);
  return accumulator.value;
}
