import { randomBytes } from 'node:crypto';
import type { TrialdeskClient } from '../../src/client';
import type { components } from '../../src/generated/openapi';

type TrialInput = components['schemas']['TrialInput'];
type ParticipantInput = components['schemas']['ParticipantInput'];
export type Trial = components['schemas']['Trial'];

export const ELIGIBLE_ANSWERS = { age18: true, chinese: true, cantonese: true, written_consent: true, immediate_risk: false, overt_symptoms: false };
export const SEXES = ['female', 'male'] as const;
export const DIAGNOSES = ['schizophrenia', 'depression', 'bipolar', 'adjustment', 'anxiety', 'other'] as const;

/** The SMCM trial of the README walkthrough: 1:1, permuted blocks of 2, 4 or 6 stratified by site. */
export function benchTrialInput(): TrialInput {
  return {
    code: `BENCH-${randomBytes(5).toString('hex')}`,
    title: 'Strengths model case management vs treatment as usual (benchmark)',
    arms: [
      { code: 'SMCM', name: 'Strengths model case management', ratio: 1 },
      { code: 'TAU', name: 'Treatment as usual', ratio: 1 },
    ],
    randomization: { method: 'permuted_block', blockSizes: [2, 4, 6], stratifyBy: ['site'] },
    eligibility: [
      { code: 'age18', kind: 'inclusion', text: 'Aged 18 or above' },
      { code: 'chinese', kind: 'inclusion', text: 'Ethnically Chinese' },
      { code: 'cantonese', kind: 'inclusion', text: 'Cantonese speaking' },
      { code: 'written_consent', kind: 'inclusion', text: 'Able to give written informed consent' },
      { code: 'immediate_risk', kind: 'exclusion', text: 'Likely to engage in immediate risk behaviour (suicide and/or violence)' },
      { code: 'overt_symptoms', kind: 'exclusion', text: 'Overt symptoms; cannot sustain a meaningful conversation for more than 10 minutes' },
    ],
    consentForms: [
      { code: 'trial', version: '1.0', required: true },
      { code: 'audio', version: '1.0', required: false },
    ],
    baselineVariables: [
      { name: 'age', type: 'number', unit: 'years', min: 18, max: 120 },
      { name: 'sex', type: 'category', levels: [...SEXES] },
      { name: 'diagnosis', type: 'category', levels: [...DIAGNOSES] },
      { name: 'onsetYears', type: 'number', unit: 'years', min: 0 },
    ],
  };
}

export function siteCodes(count: number): string[] {
  return Array.from({ length: count }, (_, i) => (count <= 26 ? String.fromCharCode(65 + i) : `S${String(i + 1).padStart(3, '0')}`));
}

/** Creates the trial, adds its sites and activates it, through the API. */
export async function createActiveTrial(td: TrialdeskClient, sites: number): Promise<Trial> {
  const trial = await td.post('/v1/trials', { body: benchTrialInput() });
  for (const code of siteCodes(sites)) {
    await td.post('/v1/trials/{trialId}/sites', { params: { path: { trialId: trial.id } }, body: { code, name: `Centre ${code}` } });
  }
  return td.post('/v1/trials/{trialId}/activation', { params: { path: { trialId: trial.id } } });
}

export function serviceUser(i: number, siteCode: string): ParticipantInput {
  return {
    siteCode,
    role: 'service_user',
    label: `SU-${String(i).padStart(7, '0')}`,
    screenedOn: '2018-03-01',
    eligibility: { ...ELIGIBLE_ANSWERS },
    baseline: { age: 18 + (i % 60), sex: SEXES[i % 2]!, diagnosis: DIAGNOSES[i % DIAGNOSES.length]!, onsetYears: i % 20 },
  };
}

/** Screens a service user and records written consent to the required form: ready to randomize. */
export async function consentedServiceUser(td: TrialdeskClient, trial: Trial, i: number): Promise<string> {
  const site = trial.sites[i % trial.sites.length]!.code;
  const participant = await td.post('/v1/trials/{trialId}/participants', { params: { path: { trialId: trial.id } }, body: serviceUser(i, site) });
  await td.post('/v1/trials/{trialId}/participants/{participantId}/consents', {
    params: { path: { trialId: trial.id, participantId: participant.id } },
    body: { form: 'trial', version: '1.0', decision: 'granted', signedOn: '2018-03-02', obtainedBy: 'IW', method: 'written' },
  });
  return participant.id;
}
