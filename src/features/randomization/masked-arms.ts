import { createHmac } from 'node:crypto';
import { encodeLengthPrefixed } from './random-stream';

/**
 * Labels shown to blinded keys. Arms are ordered by HMAC-SHA256(seed, lp("trialdesk/mask/v1") || lp(code))
 * — lp as in the random stream — comparing digests as unsigned bytes, and labelled `Group 1`, `Group 2`, ...
 * in that order. The order is stable for the life of the trial, unrelated to the trial order of the arms,
 * and unpredictable without the seed.
 */

const MASK_DOMAIN = 'trialdesk/mask/v1';

export interface MaskedArm {
  code: string;
  label: string;
}

/** One entry per arm, in masked order (`Group 1` first). */
export function maskedArmLabels(seed: Buffer, arms: readonly { code: string }[]): MaskedArm[] {
  return arms
    .map((arm) => ({
      code: arm.code,
      maskDigest: createHmac('sha256', seed)
        .update(Buffer.concat([encodeLengthPrefixed(MASK_DOMAIN), encodeLengthPrefixed(arm.code)]))
        .digest(),
    }))
    .sort((a, b) => Buffer.compare(a.maskDigest, b.maskDigest))
    .map((arm, index) => ({ code: arm.code, label: `Group ${index + 1}` }));
}
