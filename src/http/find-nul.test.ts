import { findNul, unstorableText } from './operations';

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

describe('unstorableText', () => {
  it('finds NUL and unpaired surrogates, and lets whole surrogate pairs through', () => {
    expect(unstorableText('plain 中文')).toBeNull();
    expect(unstorableText('emoji \ud83d\ude00 is a pair')).toBeNull();
    expect(unstorableText('a\u0000b')).toBe('nul');
    expect(unstorableText('\ud800')).toBe('unpaired-surrogate');
    expect(unstorableText('x\ud800y')).toBe('unpaired-surrogate');
    expect(unstorableText('\udc00')).toBe('unpaired-surrogate');
    expect(unstorableText('\udc00\ud800')).toBe('unpaired-surrogate');
    expect(unstorableText('\ud83d\ude00\ude00')).toBe('unpaired-surrogate');
  });

  it('makes findNul point at the first string or key with an unpaired surrogate', () => {
    expect(findNul({ a: 'fine', b: ['ok', 'half \ud800'] })).toBe('/b/1');
    expect(findNul({ ['k\udfff']: 1 })).toBe('/k\udfff');
    expect(findNul({ a: '\ud83d\ude00' })).toBeNull();
  });
});
