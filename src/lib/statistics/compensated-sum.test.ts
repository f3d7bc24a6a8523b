import { CompensatedSum, compensatedSum } from './compensated-sum';

describe('compensated summation', () => {
  it('keeps the small terms a plain sum loses', () => {
    const values = [1e16, 1, -1e16, 1];
    expect(values.reduce((a, b) => a + b, 0)).not.toBe(2);
    expect(compensatedSum(values)).toBe(2);
  });

  it('sums a million copies of 0.1 to the correctly rounded value', () => {
    // The exact sum is 100000.0000000000055511...; the nearest double is 100000.
    const sum = new CompensatedSum();
    let naive = 0;
    for (let i = 0; i < 1_000_000; i++) {
      sum.add(0.1);
      naive += 0.1;
    }
    expect(naive).not.toBe(100000);
    expect(sum.value).toBe(100000);
  });
});
