import { createHash } from 'node:crypto';
import type { components } from '../../generated/openapi';
import type { ArmRatio } from './arm-ratios';
import { canonicalJson, type JsonValue } from './canonical-json';
import { DEFAULT_IMBALANCE_MEASURE, DEFAULT_MINIMIZATION_P } from './minimization';
import { parseSeed } from './random-stream';

/**
 * The commitment published when a trial is activated: SHA-256 over
 *   "trialdesk/commitment/v1\n" + seed as 64 lowercase hex digits + "\n" + canonicalJson(canonical config)
 * (UTF-8). It binds the secret seed to the design without revealing it; once the seed is disclosed at
 * closure, anyone can recompute it and then every allocation.
 */

const COMMITMENT_DOMAIN = 'trialdesk/commitment/v1';

type Randomization = components['schemas']['Randomization'];

export interface RandomizationConfig {
  arms: readonly ArmRatio[];
  randomization: Randomization;
}

/**
 * Only what decides allocations: arm codes and ratios in trial order (names and descriptions can change
 * without changing a single allocation) and the method with all of its parameters spelled out: absent
 * `stratifyBy` written as [], absent `p` and `imbalance` as their defaults 0.8 and `range`.
 */
export function canonicalRandomizationConfig(config: RandomizationConfig): JsonValue {
  const arms = config.arms.map((arm) => ({ code: arm.code, ratio: arm.ratio }));
  const randomization = config.randomization;
  switch (randomization.method) {
    case 'simple':
    case 'list':
      return { arms, randomization: { method: randomization.method, stratifyBy: randomization.stratifyBy ?? [] } };
    case 'permuted_block':
      return {
        arms,
        randomization: {
          method: randomization.method,
          blockSizes: randomization.blockSizes,
          stratifyBy: randomization.stratifyBy ?? [],
        },
      };
    case 'minimization':
      return {
        arms,
        randomization: {
          method: randomization.method,
          factors: randomization.factors,
          p: randomization.p ?? DEFAULT_MINIMIZATION_P,
          imbalance: randomization.imbalance ?? DEFAULT_IMBALANCE_MEASURE,
        },
      };
  }
}

export function commitmentPreimage(seedHex: string, config: RandomizationConfig): string {
  parseSeed(seedHex);
  return `${COMMITMENT_DOMAIN}\n${seedHex.toLowerCase()}\n${canonicalJson(canonicalRandomizationConfig(config))}`;
}

export function allocationCommitment(seedHex: string, config: RandomizationConfig): string {
  return createHash('sha256').update(commitmentPreimage(seedHex, config), 'utf8').digest('hex');
}
