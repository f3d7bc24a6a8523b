import { canonicalJson } from './canonical-json';

describe('canonicalJson', () => {
  it('sorts keys at every depth and writes no whitespace', () => {
    expect(canonicalJson({ b: [3, { z: 1, a: null }], a: true, c: 'x' })).toBe(
      '{"a":true,"b":[3,{"a":null,"z":1}],"c":"x"}',
    );
  });

  it('sorts keys by UTF-16 code units, as RFC 8785 requires', () => {
    // U+1F600 is the surrogate pair D83D DE00, which sorts before U+FB01 by code unit though not by code point.
    expect(canonicalJson({ '\u{fb01}': 1, '\u{1f600}': 2, Z: 3, a: 4 })).toBe(
      '{"Z":3,"a":4,"\u{1f600}":2,"\u{fb01}":1}',
    );
  });

  it('writes numbers in the shortest ECMAScript form', () => {
    expect(canonicalJson([1, 1.0, 0.8, -0, 1e21, 1e-7, 123.456, 0.000001])).toBe(
      '[1,1,0.8,0,1e+21,1e-7,123.456,0.000001]',
    );
  });

  it('escapes strings as JSON.stringify does and leaves other characters alone', () => {
    expect(canonicalJson('a"b\\c\n\u0001é')).toBe('"a\\"b\\\\c\\n\\u0001é"');
  });

  it('refuses values JSON cannot represent', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(RangeError);
    expect(() => canonicalJson([Number.POSITIVE_INFINITY])).toThrow(RangeError);
  });
});
