import { stratumKey } from './stratum-key';

describe('stratumKey', () => {
  it('is empty when unstratified', () => {
    expect(stratumKey([], { site: 'LDN' })).toBe('');
  });

  it('follows the configured factor order, not the order of the levels given', () => {
    expect(stratumKey(['site', 'sex'], { sex: 'F', site: 'LDN' })).toBe('site=LDN|sex=F');
    expect(stratumKey(['sex', 'site'], { sex: 'F', site: 'LDN' })).toBe('sex=F|site=LDN');
  });

  it('percent-encodes %, | and = in names and values', () => {
    expect(stratumKey(['a|b', 'c=d'], { 'a|b': '50%', 'c=d': 'x=y|z' })).toBe('a%7Cb=50%25|c%3Dd=x%3Dy%7Cz');
    expect(stratumKey(['site'], { site: '%7C' })).toBe('site=%257C');
  });

  it('gives different keys to different strata even when levels contain the separators', () => {
    const alphabet = ['a', '|', '=', '%', '7', 'C'];
    const levels: string[] = [''];
    for (let length = 1; length <= 3; length += 1) {
      for (const prefix of levels.filter((level) => level.length === length - 1)) {
        for (const character of alphabet) levels.push(prefix + character);
      }
    }
    const keys = new Set<string>();
    for (const first of levels) {
      for (const second of levels) keys.add(stratumKey(['x', 'y'], { x: first, y: second }));
    }
    expect(keys.size).toBe(levels.length ** 2);
  });

  it('refuses a missing level', () => {
    expect(() => stratumKey(['site', 'sex'], { site: 'LDN' })).toThrow(/sex/);
  });
});
