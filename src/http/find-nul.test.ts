import { findNul } from './operations';

describe('findNul', () => {
  it('returns the pointer of the first NUL in document order, in values and keys', () => {
    expect(findNul({ a: ['x', 'y\u0000'], b: 'z\u0000' })).toBe('/a/1');
    expect(findNul({ 'a/b~c': { 'k\u0000': 1 } }, '/query')).toBe('/query/a~1b~0c/k\u0000');
    expect(findNul({ a: [1, true, null, { b: 'clean' }] })).toBeNull();
  });

  it('walks 100,000 levels of nesting without overflowing the stack', () => {
    let deep: unknown = 'bottom\u0000';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(findNul(deep)).toBe('/0'.repeat(100_000));
  });
});
