import {
  acceptUniformInt,
  drawDigest,
  drawMessage,
  encodeUint64,
  firstAcceptedUniformInt,
  hmacDraws,
  leadingUint64,
  parseSeed,
  uniformRealFromWord,
} from './random-stream';
import { chiSquareCritical, chiSquareStatistic, seedFor } from '../../../test/support/randomization-cases';

const TWO_POW_64 = 1n << 64n;
const SEQUENTIAL_SEED = parseSeed('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');

describe('parseSeed', () => {
  it('accepts exactly 64 hex digits of either case', () => {
    expect(parseSeed('AB'.repeat(32))).toEqual(Buffer.alloc(32, 0xab));
  });

  it.each(['', 'ab'.repeat(31), 'ab'.repeat(33), 'zz'.repeat(32), ` ${'ab'.repeat(32)}`])('refuses %j', (seedHex) => {
    expect(() => parseSeed(seedHex)).toThrow(RangeError);
  });
});

describe('drawMessage', () => {
  it('lays out lp(domain) || lp(stratum key) || u64 block || u64 draw || u64 counter', () => {
    const message = drawMessage({ stratumKey: 'site=é', blockNumber: 258, drawIndex: 3, rejectionCounter: 1 });
    const expected = Buffer.concat([
      Buffer.from('000000000000001a', 'hex'),
      Buffer.from('trialdesk/randomization/v1', 'utf8'),
      Buffer.from('0000000000000007', 'hex'),
      Buffer.from([0x73, 0x69, 0x74, 0x65, 0x3d, 0xc3, 0xa9]),
      Buffer.from('0000000000000102', 'hex'),
      Buffer.from('0000000000000003', 'hex'),
      Buffer.from('0000000000000001', 'hex'),
    ]);
    expect(message.toString('hex')).toBe(expected.toString('hex'));
  });

  it('refuses integers a uint64 cannot carry exactly', () => {
    expect(() => encodeUint64(-1)).toThrow(RangeError);
    expect(() => encodeUint64(1.5)).toThrow(RangeError);
    expect(() => encodeUint64(2 ** 53)).toThrow(RangeError);
    expect(encodeUint64(2 ** 53 - 1).toString('hex')).toBe('001fffffffffffff');
  });
});

describe('acceptUniformInt', () => {
  it('rejects exactly the biased tail [2^64 - (2^64 mod n), 2^64)', () => {
    // 2^64 mod 3 = 1: only the very last word would make 0 more likely than 1 and 2.
    expect(acceptUniformInt(TWO_POW_64 - 1n, 3)).toBeUndefined();
    expect(acceptUniformInt(TWO_POW_64 - 2n, 3)).toBe(Number((TWO_POW_64 - 2n) % 3n));
    // 2^64 mod 10 = 6.
    for (let k = 1n; k <= 6n; k += 1n) expect(acceptUniformInt(TWO_POW_64 - k, 10)).toBeUndefined();
    expect(acceptUniformInt(TWO_POW_64 - 7n, 10)).toBe(9);
  });

  it('never rejects when n divides 2^64', () => {
    for (const n of [1, 2, 4, 1024, 2 ** 52]) {
      expect(acceptUniformInt(TWO_POW_64 - 1n, n)).toBe(n - 1);
      expect(acceptUniformInt(0n, n)).toBe(0);
    }
  });

  it('accepts the words [0, limit) with limit a multiple of n, so every residue has as many words', () => {
    for (const n of [3, 5, 6, 7, 1000, 3 * 2 ** 51]) {
      const range = BigInt(n);
      const limit = TWO_POW_64 - (TWO_POW_64 % range);
      expect(limit % range).toBe(0n);
      expect(acceptUniformInt(limit - 1n, n)).toBe(n - 1);
      expect(acceptUniformInt(limit, n)).toBeUndefined();
    }
  });

  it('refuses empty or fractional ranges', () => {
    expect(() => acceptUniformInt(0n, 0)).toThrow(RangeError);
    expect(() => acceptUniformInt(0n, 2.5)).toThrow(RangeError);
  });
});

describe('firstAcceptedUniformInt', () => {
  it('moves to the next rejection counter when a word falls in the tail', () => {
    const craftedWords = [TWO_POW_64 - 1n, TWO_POW_64 - 1n, 11n];
    const requestedCounters: number[] = [];
    const result = firstAcceptedUniformInt(3, (counter) => {
      requestedCounters.push(counter);
      return craftedWords[counter]!;
    });
    expect(result).toBe(2);
    expect(requestedCounters).toEqual([0, 1, 2]);
  });

  it('asks for no word when there is only one outcome', () => {
    expect(
      firstAcceptedUniformInt(1, () => {
        throw new Error('no word should be needed');
      }),
    ).toBe(0);
  });

  it('rejects in the real stream when the tail is large, and then uses counter 1', () => {
    // For n = 3 * 2^51 the tail is 2^52 words, so about 1 draw in 4096 starts by rejecting.
    const n = 3 * 2 ** 51;
    const draws = hmacDraws(SEQUENTIAL_SEED, '', 1);
    const wordAt = (drawIndex: number, rejectionCounter: number) =>
      leadingUint64(drawDigest(SEQUENTIAL_SEED, { stratumKey: '', blockNumber: 1, drawIndex, rejectionCounter }));
    const searchedDraws = Array.from({ length: 40_000 }, (_, drawIndex) => drawIndex);
    const rejectingDraw = searchedDraws.find((drawIndex) => acceptUniformInt(wordAt(drawIndex, 0), n) === undefined);
    expect(rejectingDraw).toBeDefined();
    expect(draws.uniformInt(rejectingDraw!, n)).toBe(Number(wordAt(rejectingDraw!, 1) % BigInt(n)));
  });
});

describe('uniformRealFromWord', () => {
  it('uses the top 53 bits, so it spans [0, 1) exactly', () => {
    expect(uniformRealFromWord(0n)).toBe(0);
    expect(uniformRealFromWord((1n << 11n) - 1n)).toBe(0);
    expect(uniformRealFromWord(1n << 11n)).toBe(2 ** -53);
    expect(uniformRealFromWord(1n << 63n)).toBe(0.5);
    expect(uniformRealFromWord(TWO_POW_64 - 1n)).toBe(1 - 2 ** -53);
  });
});

describe('hmacDraws', () => {
  it('gives the same draws for the same address and different ones for different addresses', () => {
    const words = (seed: Buffer, stratumKey: string, blockNumber: number) =>
      Array.from({ length: 8 }, (_, drawIndex) =>
        hmacDraws(seed, stratumKey, blockNumber).uniformInt(drawIndex, 2 ** 40),
      );
    const reference = words(SEQUENTIAL_SEED, 'site=A', 1);
    expect(words(SEQUENTIAL_SEED, 'site=A', 1)).toEqual(reference);
    expect(words(SEQUENTIAL_SEED, 'site=B', 1)).not.toEqual(reference);
    expect(words(SEQUENTIAL_SEED, 'site=A', 2)).not.toEqual(reference);
    expect(words(seedFor('another seed'), 'site=A', 1)).not.toEqual(reference);
    expect(new Set(reference).size).toBe(reference.length);
  });

  it('draws integers that pass a chi-square goodness-of-fit test', () => {
    const n = 7;
    const drawsPerBlock = 10;
    const observed = Array<number>(n).fill(0);
    for (let blockNumber = 1; blockNumber <= 7_000; blockNumber += 1) {
      const draws = hmacDraws(SEQUENTIAL_SEED, 'chi-square', blockNumber);
      for (let drawIndex = 0; drawIndex < drawsPerBlock; drawIndex += 1) {
        observed[draws.uniformInt(drawIndex, n)]! += 1;
      }
    }
    const expected = Array<number>(n).fill((7_000 * drawsPerBlock) / n);
    expect(chiSquareStatistic(observed, expected)).toBeLessThan(chiSquareCritical(n - 1));
  });

  it('draws reals that pass a chi-square test over 20 equal bins', () => {
    const bins = 20;
    const observed = Array<number>(bins).fill(0);
    let outsideUnitInterval = 0;
    for (let blockNumber = 1; blockNumber <= 40_000; blockNumber += 1) {
      const u = hmacDraws(SEQUENTIAL_SEED, 'reals', blockNumber).uniformReal(0);
      if (u < 0 || u >= 1) outsideUnitInterval += 1;
      else observed[Math.floor(u * bins)]! += 1;
    }
    expect(outsideUnitInterval).toBe(0);
    expect(chiSquareStatistic(observed, Array<number>(bins).fill(40_000 / bins))).toBeLessThan(
      chiSquareCritical(bins - 1),
    );
  });
});
