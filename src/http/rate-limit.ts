import type { RateLimitConfig } from '../config';

export interface RateDecision {
  allowed: boolean;
  /** Whole tokens left after this request. */
  remaining: number;
  /** Seconds until one more request would be accepted (0 when one would be now). */
  retryAfterSeconds: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
}

export interface RateLimiter {
  readonly limit: number;
  /** Takes one token from `key`'s bucket when it has one. */
  take(key: string): RateDecision;
  /** Whether `key`'s bucket is empty, without taking a token. */
  isExhausted(key: string): boolean;
  /** Number of buckets held (full buckets are forgotten). */
  size(): number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets, one per key, refilled continuously at perMinute/60 tokens a second up to `burst`.
 * Pure apart from the clock it is given (milliseconds). A full bucket carries no information, so
 * buckets that have refilled are dropped when the map grows, which bounds memory by the keys active
 * within one refill period.
 */
export function createRateLimiter(
  config: RateLimitConfig,
  now: () => number = () => performance.now(),
  maxBuckets = 10_000,
): RateLimiter {
  const perMs = config.perMinute / 60_000;
  const buckets = new Map<string, Bucket>();

  const refill = (key: string, time: number): Bucket => {
    const bucket = buckets.get(key);
    if (!bucket) return { tokens: config.burst, at: time };
    return { tokens: Math.min(config.burst, bucket.tokens + (time - bucket.at) * perMs), at: time };
  };
  const sweep = (time: number) => {
    for (const [key, bucket] of buckets)
      if (bucket.tokens + (time - bucket.at) * perMs >= config.burst) buckets.delete(key);
  };
  const decision = (bucket: Bucket, allowed: boolean): RateDecision => ({
    allowed,
    remaining: Math.floor(bucket.tokens),
    retryAfterSeconds: bucket.tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000)),
    resetSeconds: Math.ceil((config.burst - bucket.tokens) / perMs / 1000),
  });

  return {
    limit: config.burst,
    take(key) {
      const time = now();
      const bucket = refill(key, time);
      const allowed = bucket.tokens >= 1;
      if (allowed) bucket.tokens -= 1;
      if (!buckets.has(key) && buckets.size >= maxBuckets) sweep(time);
      buckets.set(key, bucket);
      return decision(bucket, allowed);
    },
    isExhausted(key) {
      return buckets.has(key) && refill(key, now()).tokens < 1;
    },
    size: () => buckets.size,
  };
}
