import { createHash } from 'node:crypto';
import type { components } from '../../src/generated/openapi';
import { CRITERIA, PROFESSIONS, smcmFollowUp, smcmTrialConfiguration } from '../smcm-trial';

export type TrialInput = components['schemas']['TrialInput'];

export const SITES = [
  { code: 'A', name: 'ICCMW centre A' },
  { code: 'B', name: 'ICCMW centre B' },
  { code: 'C', name: 'ICCMW centre C' },
] as const;
export type SiteCode = (typeof SITES)[number]['code'];

export const ARMS = ['SMCM', 'TAU'] as const;
export type ArmCode = (typeof ARMS)[number];

export type CriterionCode = (typeof CRITERIA)[number]['code'];

export { CRITERIA, DIAGNOSES, PROFESSIONS } from '../smcm-trial';
export type Profession = (typeof PROFESSIONS)[number];

export const COUPON = { code: 'interview_coupon', amount: 50, currency: 'HKD' } as const;

/**
 * The 64-hex-digit randomization seed for a demo seed: the same `--seed` gives the same
 * allocation sequence in every stratum, so two runs allocate everyone identically.
 */
export function randomizationSeed(demoSeed: string): string {
  return createHash('sha256').update(`trialdesk demo randomization seed\n${demoSeed}`).digest('hex');
}

/** The SMCM trial of the seed paper (Hong Kong, ACTRN12617001435370), as a demo trial. */
export function smcmTrialInput(code: string, demoSeed: string): TrialInput {
  const configuration = smcmTrialConfiguration('Strengths model case management vs treatment as usual (demo data)');
  return {
    code,
    ...configuration,
    ...smcmFollowUp(),
    randomization: {
      method: 'permuted_block',
      blockSizes: [2, 4, 6],
      stratifyBy: ['site'],
      seed: randomizationSeed(demoSeed),
    },
  };
}
