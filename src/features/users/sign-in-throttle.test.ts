import { createSignInThrottle } from './sign-in-throttle';

describe('sign-in throttle', () => {
  const limits = { windowMs: 15 * 60_000, perAccount: 5, perAddress: 20 };

  it('refuses an account after 5 failures within the window, for the rest of the window', () => {
    const throttle = createSignInThrottle(limits);
    for (let i = 0; i < 4; i++) throttle.recordFailure('A@x.hk', '1.1.1.1', i * 1000);
    expect(throttle.retryAfterSeconds('a@x.hk', '1.1.1.1', 4000)).toBe(0);
    throttle.recordFailure('a@x.hk ', '2.2.2.2', 4000);
    // The oldest of the 5 failures (at 0 ms) leaves the window at 900 s.
    expect(throttle.retryAfterSeconds('a@x.hk', '3.3.3.3', 4000)).toBe(896);
    expect(throttle.retryAfterSeconds('a@x.hk', '3.3.3.3', 899_999)).toBe(1);
    expect(throttle.retryAfterSeconds('a@x.hk', '3.3.3.3', 900_000)).toBe(0);
    expect(throttle.retryAfterSeconds('b@x.hk', '1.1.1.1', 4000)).toBe(0);
  });

  it('refuses an address after 20 failures over any accounts', () => {
    const throttle = createSignInThrottle(limits);
    for (let i = 0; i < 19; i++) throttle.recordFailure(`u${i}@x.hk`, '9.9.9.9', 0);
    expect(throttle.retryAfterSeconds('new@x.hk', '9.9.9.9', 0)).toBe(0);
    throttle.recordFailure('u19@x.hk', '9.9.9.9', 0);
    expect(throttle.retryAfterSeconds('new@x.hk', '9.9.9.9', 1000)).toBe(899);
    expect(throttle.retryAfterSeconds('new@x.hk', '8.8.8.8', 1000)).toBe(0);
  });

  it('forgets the failures of an account after a success, but not those of the address', () => {
    const throttle = createSignInThrottle({ ...limits, perAddress: 5 });
    for (let i = 0; i < 4; i++) throttle.recordFailure('a@x.hk', '1.1.1.1', 0);
    throttle.recordSuccess('a@x.hk');
    throttle.recordFailure('a@x.hk', '1.1.1.1', 0);
    expect(throttle.retryAfterSeconds('a@x.hk', '7.7.7.7', 0)).toBe(0);
    expect(throttle.retryAfterSeconds('z@x.hk', '1.1.1.1', 0)).toBe(900);
  });
});
