import type { components } from '../src/generated/openapi';

/*
 * The trial of the seed paper (Hong Kong RCT of strengths model case management against treatment as
 * usual, ANZCTR ACTRN12617001435370), as one configuration shared by the demo, the benchmarks and the
 * test factories.
 */

type TrialConfiguration = Omit<components['schemas']['TrialInput'], 'code'>;

export const DIAGNOSES = ['schizophrenia', 'depression', 'bipolar', 'adjustment', 'anxiety', 'other'] as const;
export const PROFESSIONS = ['nurse', 'social_worker', 'welfare_worker'] as const;

/** The paper's criteria, in its order; the CONSORT box lists unmet ones with this text. */
export const CRITERIA = [
  { code: 'age18', kind: 'inclusion', text: 'Aged 18 or above' },
  { code: 'chinese', kind: 'inclusion', text: 'Ethnically Chinese' },
  { code: 'cantonese', kind: 'inclusion', text: 'Cantonese speaking' },
  { code: 'written_consent', kind: 'inclusion', text: 'Able to give written informed consent' },
  {
    code: 'immediate_risk',
    kind: 'exclusion',
    text: 'Likely to engage in immediate risk behaviour (suicide and/or violence)',
  },
  {
    code: 'overt_symptoms',
    kind: 'exclusion',
    text: 'Overt symptoms; cannot sustain a meaningful conversation for more than 10 minutes',
  },
] as const;

/** Answers that meet every criterion. */
export const ELIGIBLE_ANSWERS = {
  age18: true,
  chinese: true,
  cantonese: true,
  written_consent: true,
  immediate_risk: false,
  overt_symptoms: false,
};

export const INTERVIEW_COUPON = {
  code: 'interview_coupon',
  description: 'HK$50 supermarket coupon for the interview',
  amount: 50,
  currency: 'HKD',
  roles: ['service_user'],
  maxPerParticipant: 1,
  occasion: 'interview',
} as const;

/** 1:1, permuted blocks of 2, 4 or 6 stratified by centre; service users' and case workers' variables. */
export function smcmTrialConfiguration(
  title = 'Strengths model case management vs treatment as usual',
): TrialConfiguration {
  return {
    title,
    registry: 'ACTRN12617001435370',
    arms: [
      { code: 'SMCM', name: 'Strengths model case management', ratio: 1 },
      { code: 'TAU', name: 'Treatment as usual', ratio: 1 },
    ],
    randomization: { method: 'permuted_block', blockSizes: [2, 4, 6], stratifyBy: ['site'] },
    eligibility: CRITERIA.map((criterion) => ({ ...criterion })),
    consentForms: [
      { code: 'trial', version: '1.0', required: true, title: 'Participant information sheet and consent' },
      { code: 'audio', version: '1.0', required: false, title: 'Audio recording of interviews' },
    ],
    baselineVariables: [
      { name: 'age', label: 'Age', type: 'number', unit: 'years', min: 18, max: 120 },
      { name: 'sex', label: 'Sex', type: 'category', levels: ['female', 'male'] },
      { name: 'diagnosis', label: 'Diagnosis', type: 'category', levels: [...DIAGNOSES] },
      { name: 'onsetYears', label: 'Time since onset', type: 'number', unit: 'years', min: 0 },
      { name: 'experienceYears', label: 'Experience', type: 'number', unit: 'years', min: 0, roles: ['case_worker'] },
      { name: 'profession', label: 'Profession', type: 'category', levels: [...PROFESSIONS], roles: ['case_worker'] },
    ],
    incentives: [{ ...INTERVIEW_COUPON, roles: [...INTERVIEW_COUPON.roles] }],
  };
}

/**
 * The follow-up of the SMCM trial: baseline, 6 and 12 months after randomization, with the paper's
 * recovery outcomes (Herth Hope Index, General Self-Efficacy Scale, employment, psychiatric admissions).
 */
export function smcmFollowUp(): Pick<TrialConfiguration, 'visits' | 'measures' | 'primaryVisit'> {
  return {
    visits: [
      { code: 'baseline', label: 'Baseline interview', day: 0, windowBefore: 30, windowAfter: 14 },
      { code: 'm6', label: '6-month follow-up', day: 182, windowBefore: 30, windowAfter: 30 },
      { code: 'm12', label: '12-month follow-up', day: 365, windowBefore: 30, windowAfter: 30 },
    ],
    measures: [
      {
        code: 'hope',
        label: 'Herth Hope Index',
        type: 'scale',
        items: 12,
        itemMin: 1,
        itemMax: 4,
        reverseItems: [3, 6],
        score: 'sum',
        maxMissingItems: 1,
        visits: ['baseline', 'm6', 'm12'],
        primary: true,
      },
      {
        code: 'gse',
        label: 'General Self-Efficacy Scale',
        type: 'scale',
        items: 10,
        itemMin: 1,
        itemMax: 4,
        score: 'sum',
        maxMissingItems: 2,
        visits: ['baseline', 'm6', 'm12'],
      },
      { code: 'employed', label: 'In paid employment', type: 'binary', visits: ['baseline', 'm6', 'm12'] },
      {
        code: 'admissions',
        label: 'Psychiatric admissions in the period',
        type: 'count',
        max: 50,
        visits: ['m6', 'm12'],
      },
    ],
    primaryVisit: 'm12',
  };
}
