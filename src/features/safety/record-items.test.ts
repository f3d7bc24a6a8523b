import { canonicalJson, fingerprint, pointerCovers, pointerTokens, resolvePointer } from './record-items';

const doc = { values: { hope: { items: [3, 4, null] } }, 'a/b': { '~k': 1 }, baseline: { age: 41 }, empty: {} };

describe('record items', () => {
  it('split pointers into unescaped tokens', () => {
    expect(pointerTokens('')).toEqual([]);
    expect(pointerTokens('/a~1b/~0k')).toEqual(['a/b', '~k']);
    expect(pointerTokens('/')).toEqual(['']);
  });

  it('resolve what a pointer names, and say when it names nothing', () => {
    expect(resolvePointer(doc, '')).toEqual({ found: true, value: doc });
    expect(resolvePointer(doc, '/values/hope/items/1')).toEqual({ found: true, value: 4 });
    expect(resolvePointer(doc, '/values/hope/items/2')).toEqual({ found: true, value: null });
    expect(resolvePointer(doc, '/a~1b/~0k')).toEqual({ found: true, value: 1 });
    expect(resolvePointer(doc, '/values/hope/items/3')).toEqual({ found: false });
    expect(resolvePointer(doc, '/values/hope/items/01')).toEqual({ found: false });
    expect(resolvePointer(doc, '/values/hope/items/-')).toEqual({ found: false });
    expect(resolvePointer(doc, '/values/mood')).toEqual({ found: false });
    expect(resolvePointer(doc, '/baseline/age/x')).toEqual({ found: false });
    expect(resolvePointer(doc, '/empty/toString')).toEqual({ found: false });
  });

  it('write canonical JSON with sorted keys at every depth', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: null }] })).toBe('{"a":[{"c":null,"d":2}],"b":1}');
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson({ a: undefined, b: 'x' })).toBe('{"b":"x"}');
  });

  it('fingerprint equal values equally and changed values differently', () => {
    expect(fingerprint({ a: 1, b: [1, 2] })).toBe(fingerprint({ b: [1, 2], a: 1 }));
    expect(fingerprint({ a: 1 })).not.toBe(fingerprint({ a: 2 }));
    expect(fingerprint(4)).not.toBe(fingerprint('4'));
    expect(fingerprint(null)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('know which pointers contain which', () => {
    expect(pointerCovers('', '/values/hope')).toBe(true);
    expect(pointerCovers('/values/hope', '/values/hope/items/4')).toBe(true);
    expect(pointerCovers('/values/hope', '/values/hope')).toBe(true);
    expect(pointerCovers('/values/hope', '/values/hopeless')).toBe(false);
    expect(pointerCovers('/values/hope/items/4', '/values/hope')).toBe(false);
  });
});
