import { createHash } from 'node:crypto';
import { digestApiKey, generateApiKey, KEY_PREFIX, visiblePrefix } from './api-keys';

describe('API key generation', () => {
  it('makes keys of at least 128 random bits whose digest is SHA-256 of the key', () => {
    const { key, digest, prefix } = generateApiKey();
    expect(key.startsWith(KEY_PREFIX)).toBe(true);
    const randomPart = Buffer.from(key.slice(KEY_PREFIX.length), 'base64url');
    expect(randomPart.length * 8).toBeGreaterThanOrEqual(128);
    expect(digest).toBe(createHash('sha256').update(key).digest('hex'));
    expect(prefix).toBe(visiblePrefix(key));
  });

  it('never repeats a key over many draws', () => {
    const keys = new Set(Array.from({ length: 2000 }, () => generateApiKey().key));
    expect(keys.size).toBe(2000);
  });

  it('shows only a short prefix that cannot stand in for the key', () => {
    const { key, prefix } = generateApiKey();
    expect(prefix).toHaveLength(7);
    expect(visiblePrefix('0123456789abcdef0123456789abcdef')).toBe('0123');
    expect(digestApiKey(prefix)).not.toBe(digestApiKey(key));
  });
});
