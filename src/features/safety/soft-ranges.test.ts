import { checkSoftRange, outsideSoftRange, softRangeText } from './soft-ranges';

const errorsOf = (range: { min?: number; max?: number }, hard: { min?: number; max?: number; integer: boolean }) => {
  const errors: string[] = [];
  checkSoftRange(range, hard, '/r', (p, d) => errors.push(`${p}: ${d}`));
  return errors;
};

describe('soft ranges', () => {
  it('accept a range inside the hard limits, open on either side', () => {
    expect(errorsOf({ min: 18, max: 80 }, { min: 16, max: 99, integer: true })).toEqual([]);
    expect(errorsOf({ min: 16, max: 99 }, { min: 16, max: 99, integer: true })).toEqual([]);
    expect(errorsOf({ max: 80 }, { integer: false })).toEqual([]);
    expect(errorsOf({ min: 0.5 }, { min: 0, integer: false })).toEqual([]);
  });

  it('refuse an empty, reversed, fractional or out-of-limits range, pointing at the bound', () => {
    expect(errorsOf({}, { integer: false })).toEqual(['/r: needs min, max or both']);
    expect(errorsOf({ min: 5, max: 4 }, { integer: false })).toEqual(['/r/max: must be at least min (5)']);
    expect(errorsOf({ min: 1.5 }, { integer: true })).toEqual(['/r/min: must be a whole number']);
    expect(errorsOf({ min: 10, max: 120 }, { min: 16, max: 99, integer: true })).toEqual([
      '/r/min: must lie inside the hard limits (min 16)',
      '/r/max: must lie inside the hard limits (max 99)',
    ]);
  });

  it('say which side a value is out, bounds included in the range', () => {
    const range = { min: 18, max: 80 };
    expect(outsideSoftRange(17.9, range)).toBe('below');
    expect(outsideSoftRange(18, range)).toBeNull();
    expect(outsideSoftRange(80, range)).toBeNull();
    expect(outsideSoftRange(81, range)).toBe('above');
    expect(outsideSoftRange(5, { max: 80 })).toBeNull();
    expect(outsideSoftRange(null, range)).toBeNull();
    expect(outsideSoftRange('90', range)).toBeNull();
  });

  it('write the query text with the range', () => {
    expect(softRangeText(95, { min: 18, max: 80 }, 'above')).toBe(
      'Automatic check: 95 is above the plausible range (18 to 80); please confirm against the source or correct it.',
    );
    expect(softRangeText(2, { min: 5 }, 'below')).toContain('(at least 5)');
    expect(softRangeText(9, { max: 5 }, 'above')).toContain('(at most 5)');
  });
});
