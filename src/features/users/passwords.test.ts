import { digestSecret, hashPassword, newSecret, passwordProblem, verifyPassword } from './passwords';

describe('passwords', () => {
  it('need 12 characters (counted as characters, not bytes) and not a common one', () => {
    expect(passwordProblem('a'.repeat(11))).toBe('too-short');
    expect(passwordProblem('預約時間表預約時間表預約')).toBeNull();
    expect(passwordProblem('預約時間表預約時間表預')).toBe('too-short');
    expect(passwordProblem('PASSWORD1234')).toBe('common');
    expect(passwordProblem('green tea at nine')).toBeNull();
  });

  it('are stored as salted scrypt hashes that verify only the same password', async () => {
    const a = await hashPassword('green tea at nine');
    const b = await hashPassword('green tea at nine');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('green tea at nine', a)).toBe(true);
    expect(await verifyPassword('green tea at nine ', a)).toBe(false);
    expect(await verifyPassword('green tea at nine', 'bcrypt$xx')).toBe(false);
  });

  it('secrets are 256 random bits; only their SHA-256 is stored', () => {
    const { secret, digest } = newSecret();
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    expect(digest).toBe(digestSecret(secret));
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
  });
});
