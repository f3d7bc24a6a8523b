import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** Minimum length of a console password (NIST SP 800-63B allows 8; we ask 12 for people handling health data). */
export const MIN_PASSWORD_LENGTH = 12;

/**
 * A small list of passwords people choose most often (12 characters or more, lower-cased), refused whatever
 * their length. Not a full breach corpus: it catches the obvious ones.
 */
const COMMON_PASSWORDS: ReadonlySet<string> = new Set([
  '123456789012',
  '1234567890123',
  '12345678901234',
  '123456789123',
  '111111111111',
  '000000000000',
  'aaaaaaaaaaaa',
  'qwertyuiopas',
  'qwertyuiop123',
  'qwerty123456',
  '1q2w3e4r5t6y',
  '1qaz2wsx3edc',
  'password1234',
  'password12345',
  'password123456',
  'passwordpassword',
  'password123!',
  'p@ssw0rd1234',
  'iloveyou1234',
  'abcdefghijkl',
  'abc123456789',
  'letmein12345',
  'welcome12345',
  'welcome123456',
  'administrator',
  'changeme1234',
  'trustno1trustno1',
  'football1234',
  'baseball1234',
  'sunshine1234',
  'princess1234',
  'monkey123456',
  'dragon123456',
  'superman1234',
  'hongkong1234',
  'hongkong123456',
  'trialdesk123',
  'trialdesk1234',
]);

export type PasswordProblem = 'too-short' | 'common';

/** Why a chosen password is refused, or null. */
export function passwordProblem(password: string): PasswordProblem | null {
  if ([...password].length < MIN_PASSWORD_LENGTH) return 'too-short';
  if (COMMON_PASSWORDS.has(password.toLowerCase())) return 'common';
  return null;
}

export function passwordProblemText(problem: PasswordProblem): string {
  return problem === 'too-short'
    ? `must have at least ${MIN_PASSWORD_LENGTH} characters`
    : 'is one of the most common passwords; choose another';
}

/** scrypt cost: N = 2^15, r = 8, p = 1 (32 MiB, OWASP's recommendation), 32-byte key. */
const SCRYPT = { N: 32768, r: 8, p: 1, keyLength: 32 };

function derive(password: string, salt: Buffer, N: number, r: number, p: number, keyLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, keyLength, { N, r, p, maxmem: 256 * N * r }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/** `scrypt$N$r$p$salt$hash`, salt and hash in base64url. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const { N, r, p, keyLength } = SCRYPT;
  const key = await derive(password, salt, N, r, p, keyLength);
  return ['scrypt', N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** A hash of a random password, verified against when the account does not exist, so timing reveals nothing. */
let decoy: Promise<string> | null = null;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(24).toString('base64url'));
  return decoy;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const expected = Buffer.from(parts[5]!, 'base64url');
  const key = await derive(password, Buffer.from(parts[4]!, 'base64url'), N, r, p, expected.length);
  return timingSafeEqual(key, expected);
}

/** A random secret (session id, set-password token) and the SHA-256 digest that is stored instead. */
export function newSecret(): { secret: string; digest: string } {
  const secret = randomBytes(32).toString('base64url');
  return { secret, digest: digestSecret(secret) };
}

export function digestSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}
