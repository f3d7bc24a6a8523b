import { createRateLimiter } from './rate-limit';

function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('createRateLimiter', () => {
  it('allows a burst, then refuses with the seconds until the next token', () => {
    const c = clock();
    const limiter = createRateLimiter({ perMinute: 60, burst: 3 }, c.now);
    expect([1, 2, 3].map(() => limiter.take('k').allowed)).toEqual([true, true, true]);
    const refused = limiter.take('k');
    expect(refused).toEqual({ allowed: false, remaining: 0, retryAfterSeconds: 1, resetSeconds: 3 });
    c.advance(999);
    expect(limiter.take('k').allowed).toBe(false);
    c.advance(1);
    expect(limiter.take('k')).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('refills at perMinute/60 a second and never beyond the burst', () => {
    const c = clock();
    const limiter = createRateLimiter({ perMinute: 120, burst: 10 }, c.now);
    for (let i = 0; i < 10; i++) limiter.take('k');
    c.advance(2_000); // 4 tokens
    expect([1, 2, 3, 4, 5].map(() => limiter.take('k').allowed)).toEqual([true, true, true, true, false]);
    c.advance(3_600_000);
    expect(limiter.take('k').remaining).toBe(9);
  });

  it('admits exactly burst + rate × time over a long run', () => {
    const c = clock();
    const limiter = createRateLimiter({ perMinute: 600, burst: 50 }, c.now);
    let admitted = 0;
    for (let ms = 0; ms < 60_000; ms += 7) {
      c.advance(7);
      if (limiter.take('k').allowed) admitted++;
    }
    // 50 at once, then 10 a second for (60,004 - 7) ms of refill; floating-point error cannot add one.
    expect(admitted).toBe(50 + Math.floor((60_004 - 7) / 100));
  });

  it('keeps keys apart and reports exhaustion without consuming', () => {
    const c = clock();
    const limiter = createRateLimiter({ perMinute: 60, burst: 1 }, c.now);
    expect(limiter.isExhausted('a')).toBe(false);
    limiter.take('a');
    expect(limiter.isExhausted('a')).toBe(true);
    expect(limiter.isExhausted('a')).toBe(true);
    expect(limiter.take('b').allowed).toBe(true);
    c.advance(1_000);
    expect(limiter.isExhausted('a')).toBe(false);
  });

  it('forgets refilled buckets when it holds too many', () => {
    const c = clock();
    const limiter = createRateLimiter({ perMinute: 60, burst: 2 }, c.now, 100);
    for (let i = 0; i < 100; i++) limiter.take(`key-${i}`);
    expect(limiter.size()).toBe(100);
    c.advance(1_000); // every bucket is full again
    limiter.take('newcomer');
    expect(limiter.size()).toBe(1);
  });
});
