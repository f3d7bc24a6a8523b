import { createHash, randomBytes } from 'node:crypto';

export const KEY_PREFIX = 'td_';
/** 32 random bytes: 256 bits, well above the 128 the contract promises. */
const KEY_BYTES = 32;
/**
 * How much of a key is kept in clear so people can tell keys apart: 4 characters after our prefix
 * (24 of 256 random bits), or the first 4 of an operator-chosen ADMIN_API_KEY.
 */
const SHOWN_CHARACTERS = 4;

export function digestApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function visiblePrefix(key: string): string {
  return key.startsWith(KEY_PREFIX)
    ? key.slice(0, KEY_PREFIX.length + SHOWN_CHARACTERS)
    : key.slice(0, SHOWN_CHARACTERS);
}

export interface NewApiKey {
  key: string;
  digest: string;
  prefix: string;
}

export function generateApiKey(): NewApiKey {
  const key = KEY_PREFIX + randomBytes(KEY_BYTES).toString('base64url');
  return { key, digest: digestApiKey(key), prefix: visiblePrefix(key) };
}
