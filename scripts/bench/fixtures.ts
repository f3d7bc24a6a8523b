import { randomBytes } from 'node:crypto';
import type { TrialdeskClient } from '../../src/client';
import type { components } from '../../src/generated/openapi';
import { smcmTrialConfiguration } from '../smcm-trial';

type TrialInput = components['schemas']['TrialInput'];
type ParticipantInput = components['schemas']['ParticipantInput'];
export type Trial = components['schemas']['Trial'];

import { DIAGNOSES, ELIGIBLE_ANSWERS } from '../smcm-trial';

export { DIAGNOSES, ELIGIBLE_ANSWERS };
export const SEXES = ['female', 'male'] as const;

/** The SMCM trial of the README walkthrough: 1:1, permuted blocks of 2, 4 or 6 stratified by site. */
export function benchTrialInput(): TrialInput {
  return {
    code: `BENCH-${randomBytes(5).toString('hex')}`,
    ...smcmTrialConfiguration('Strengths model case management vs treatment as usual (benchmark)'),
  };
}

export function siteCodes(count: number): string[] {
  return Array.from({ length: count }, (_, i) =>
    count <= 26 ? String.fromCharCode(65 + i) : `S${String(i + 1).padStart(3, '0')}`,
  );
}

/** Creates the trial, adds its sites and activates it, through the API. */
export async function createActiveTrial(td: TrialdeskClient, sites: number): Promise<Trial> {
  const trial = await td.post('/v1/trials', { body: benchTrialInput() });
  for (const code of siteCodes(sites)) {
    await td.post('/v1/trials/{trialId}/sites', {
      params: { path: { trialId: trial.id } },
      body: { code, name: `Centre ${code}` },
    });
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
    baseline: {
      age: 18 + (i % 60),
      sex: SEXES[i % 2]!,
      diagnosis: DIAGNOSES[i % DIAGNOSES.length]!,
      onsetYears: i % 20,
    },
  };
}

/** Screens a service user and records written consent to the required form: ready to randomize. */
export async function consentedServiceUser(td: TrialdeskClient, trial: Trial, i: number): Promise<string> {
  const site = trial.sites[i % trial.sites.length]!.code;
  const participant = await td.post('/v1/trials/{trialId}/participants', {
    params: { path: { trialId: trial.id } },
    body: serviceUser(i, site),
  });
  await td.post('/v1/trials/{trialId}/participants/{participantId}/consents', {
    params: { path: { trialId: trial.id, participantId: participant.id } },
    body: {
      form: 'trial',
      version: '1.0',
      decision: 'granted',
      signedOn: '2018-03-02',
      obtainedBy: 'IW',
      method: 'written',
    },
  });
  return participant.id;
}
