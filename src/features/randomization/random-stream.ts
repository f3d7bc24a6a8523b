import { createHmac } from 'node:crypto';

/**
 * The language-neutral random stream behind every seeded allocation method.
 *
 * Each draw is addressed, not sequential: HMAC-SHA256 keyed with the trial's 32-byte seed over
 * (domain tag, stratum key, block number, draw index, rejection counter). Any allocation can be
 * recomputed on its own — by the service for block n without blocks 1..n-1, and by a statistician
 * in Python or R from docs/randomization.md — and skipping a draw never shifts the others.
 */

const RANDOMIZATION_DOMAIN = 'trialdesk/randomization/v1';

const SEED_HEX_PATTERN = /^[0-9a-fA-F]{64}$/;
const TWO_POW_64 = 1n << 64n;
const TWO_POW_53 = 2 ** 53;

/** The seed is 256 bits, written as 64 hex digits (either case). */
export function parseSeed(seedHex: string): Buffer {
  if (!SEED_HEX_PATTERN.test(seedHex)) {
    throw new RangeError('a randomization seed is exactly 64 hex digits (256 bits)');
  }
  return Buffer.from(seedHex, 'hex');
}

/** An unsigned 64-bit big-endian integer; every integer in a stream message is encoded this way. */
export function encodeUint64(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`stream integers are non-negative safe integers, got ${value}`);
  }
  const bytes = Buffer.alloc(8);
  bytes.writeUInt32BE(Math.floor(value / 2 ** 32), 0);
  bytes.writeUInt32BE(value % 2 ** 32, 4);
  return bytes;
}

/** UTF-8 bytes preceded by their length as a uint64, so that no two field sequences share a message. */
export function encodeLengthPrefixed(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([encodeUint64(bytes.length), bytes]);
}

export interface DrawAddress {
  stratumKey: string;
  blockNumber: number;
  drawIndex: number;
  /** 0 for the first attempt; rejection sampling moves to 1, 2, ... */
  rejectionCounter: number;
}

/**
 * message = lp(DOMAIN) || lp(stratumKey) || u64(blockNumber) || u64(drawIndex) || u64(rejectionCounter)
 * where lp(s) = u64(byteLength(utf8(s))) || utf8(s).
 */
export function drawMessage(address: DrawAddress): Buffer {
  return Buffer.concat([
    blockAddressBytes(address.stratumKey, address.blockNumber),
    encodeUint64(address.drawIndex),
    encodeUint64(address.rejectionCounter),
  ]);
}

/** The part of the message shared by every draw of a block, built once per block. */
function blockAddressBytes(stratumKey: string, blockNumber: number): Buffer {
  return Buffer.concat([
    encodeLengthPrefixed(RANDOMIZATION_DOMAIN),
    encodeLengthPrefixed(stratumKey),
    encodeUint64(blockNumber),
  ]);
}

export function drawDigest(seed: Buffer, address: DrawAddress): Buffer {
  return createHmac('sha256', seed).update(drawMessage(address)).digest();
}

/** The first 8 bytes of a digest, big-endian: the only part of a digest the stream uses. */
export function leadingUint64(digest: Buffer): bigint {
  return digest.readBigUInt64BE(0);
}

function assertDrawRange(n: number): void {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`cannot draw from [0, ${n})`);
}

/**
 * Maps a uniform 64-bit word to a uniform integer in [0, n), or undefined when the word falls in the
 * biased tail [2^64 - (2^64 mod n), 2^64). Reducing those words modulo n would make small results more
 * likely than large ones, so the caller rejects them and tries the next rejection counter.
 */
export function acceptUniformInt(word: bigint, n: number): number | undefined {
  assertDrawRange(n);
  const range = BigInt(n);
  const acceptedLimit = TWO_POW_64 - (TWO_POW_64 % range);
  return word < acceptedLimit ? Number(word % range) : undefined;
}

/**
 * Tries the words at rejection counters 0, 1, 2, ... until one is accepted. For n = 1 the answer is 0
 * whatever the word, so no word is requested.
 */
export function firstAcceptedUniformInt(n: number, wordAtCounter: (rejectionCounter: number) => bigint): number {
  assertDrawRange(n);
  if (n === 1) return 0;
  for (let rejectionCounter = 0; ; rejectionCounter += 1) {
    const accepted = acceptUniformInt(wordAtCounter(rejectionCounter), n);
    if (accepted !== undefined) return accepted;
  }
}

/** Uniform real in [0, 1): the top 53 bits of the word divided by 2^53, exact in a double. */
export function uniformRealFromWord(word: bigint): number {
  return Number(word >> 11n) / TWO_POW_53;
}

/** The draws available to an allocation: one (stratum key, block number) address, many draw indexes. */
export interface Draws {
  uniformInt(drawIndex: number, n: number): number;
  uniformReal(drawIndex: number): number;
}

/**
 * Draws from the HMAC stream at (stratumKey, blockNumber).
 *
 * uniformInt(d, n): the first accepted word leadingUint64(HMAC at (d, c)) for c = 0, 1, 2, ...
 * uniformReal(d): uniformRealFromWord of the word at (d, 0); it never rejects.
 */
export function hmacDraws(seed: Buffer, stratumKey: string, blockNumber: number): Draws {
  const blockAddress = blockAddressBytes(stratumKey, blockNumber);
  const wordAt = (drawIndex: number, rejectionCounter: number): bigint =>
    leadingUint64(
      createHmac('sha256', seed)
        .update(blockAddress)
        .update(encodeUint64(drawIndex))
        .update(encodeUint64(rejectionCounter))
        .digest(),
    );
  return {
    uniformInt(drawIndex, n) {
      return firstAcceptedUniformInt(n, (rejectionCounter) => wordAt(drawIndex, rejectionCounter));
    },
    uniformReal(drawIndex) {
      return uniformRealFromWord(wordAt(drawIndex, 0));
    },
  };
}
