/**
 * Failed sign-ins counted per account (the e-mail as typed, lower-cased, whether or not such a user exists) and
 * per client address, in a sliding window. Once a count reaches its limit, sign-in for that account or from that
 * address is refused until the oldest failure in the window is older than the window. Counting unknown e-mails
 * like known ones is what keeps the throttle from telling which accounts exist.
 */
export interface ThrottleLimits {
  windowMs: number;
  perAccount: number;
  perAddress: number;
}

export const DEFAULT_THROTTLE_LIMITS: ThrottleLimits = { windowMs: 15 * 60_000, perAccount: 5, perAddress: 20 };

export interface SignInThrottle {
  /** Seconds until sign-in is allowed again for this account and address, or 0 when it is allowed now. */
  retryAfterSeconds(account: string, address: string, nowMs: number): number;
  recordFailure(account: string, address: string, nowMs: number): void;
  /** A successful sign-in clears the account's failures (not the address's). */
  recordSuccess(account: string): void;
}

export function createSignInThrottle(
  limits: ThrottleLimits = DEFAULT_THROTTLE_LIMITS,
  maxKeys = 100_000,
): SignInThrottle {
  const failures = new Map<string, number[]>();
  const recent = (key: string, nowMs: number): number[] => {
    const kept = (failures.get(key) ?? []).filter((at) => at > nowMs - limits.windowMs);
    if (kept.length) failures.set(key, kept);
    else failures.delete(key);
    return kept;
  };
  const wait = (key: string, limit: number, nowMs: number): number => {
    const times = recent(key, nowMs);
    if (times.length < limit) return 0;
    const freeAt = times[times.length - limit]! + limits.windowMs;
    return Math.max(1, Math.ceil((freeAt - nowMs) / 1000));
  };
  const accountKey = (account: string) => `account:${account.trim().toLowerCase()}`;
  const addressKey = (address: string) => `address:${address}`;
  return {
    retryAfterSeconds(account, address, nowMs) {
      return Math.max(
        wait(accountKey(account), limits.perAccount, nowMs),
        wait(addressKey(address), limits.perAddress, nowMs),
      );
    },
    recordFailure(account, address, nowMs) {
      for (const key of [accountKey(account), addressKey(address)]) {
        failures.set(key, [...recent(key, nowMs), nowMs]);
      }
      while (failures.size > maxKeys) failures.delete(failures.keys().next().value!);
    },
    recordSuccess(account) {
      failures.delete(accountKey(account));
    },
  };
}
