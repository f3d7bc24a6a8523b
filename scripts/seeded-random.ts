/**
 * A small seeded PRNG for the demo cohort. Not for allocation (the service does that with its own
 * seeded stream); only so that the same `--seed` always gives the same synthetic people.
 */
export type Random = () => number;

/** mulberry32: 32 bits of state, period 2^32, good enough for synthetic data. */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over the seed text, so `--seed smcm` works as well as `--seed 42`. */
export function seedFromText(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export function chance(random: Random, probability: number): boolean {
  return random() < probability;
}

/** Box–Muller; one of the pair is discarded to keep the stream simple to reason about. */
export function normal(random: Random, mean: number, sd: number): number {
  const u = 1 - random();
  const v = random();
  return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** A log-normal draw with the given mean and SD on the natural scale (years of experience are skewed). */
export function logNormal(random: Random, mean: number, sd: number): number {
  const sigma2 = Math.log(1 + (sd / mean) ** 2);
  return Math.exp(normal(random, Math.log(mean) - sigma2 / 2, Math.sqrt(sigma2)));
}

export function weighted<T>(random: Random, choices: readonly (readonly [T, number])[]): T {
  const total = choices.reduce((sum, [, weight]) => sum + weight, 0);
  let point = random() * total;
  for (const [value, weight] of choices) {
    point -= weight;
    if (point < 0) return value;
  }
  return choices[choices.length - 1]![0];
}

export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** Fisher–Yates, in place. */
export function shuffle<T>(random: Random, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
