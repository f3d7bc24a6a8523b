import type { components } from '../../src/generated/openapi';
import { ELIGIBLE_ANSWERS, smcmTrialConfiguration } from '../../scripts/smcm-trial';
import type { TestApp } from './test-app';

export type TrialInput = components['schemas']['TrialInput'];
export type Trial = components['schemas']['Trial'];

let counter = 0;

/** The SMCM trial of the seed paper (Hong Kong, three ICCMW centres), with a unique code. */
export function smcmTrialInput(overrides: Partial<TrialInput> = {}): TrialInput {
  counter += 1;
  return { code: `SMCM-HK-${process.pid}-${counter}`, ...smcmTrialConfiguration(), ...overrides };
}

export async function createTrial(t: TestApp, overrides: Partial<TrialInput> = {}): Promise<Trial> {
  const res = await t.call('post', '/v1/trials', { body: smcmTrialInput(overrides) });
  if (res.status !== 201) throw new Error(`creating a trial failed: ${res.text}`);
  return res.body as Trial;
}

export async function addSites(t: TestApp, trialId: string, codes: string[] = ['A', 'B', 'C']): Promise<void> {
  for (const code of codes) {
    const res = await t.call('post', `/v1/trials/${trialId}/sites`, { body: { code, name: `ICCMW centre ${code}` } });
    if (res.status !== 201) throw new Error(`adding site ${code} failed: ${res.text}`);
  }
}

export async function createActiveTrial(t: TestApp, overrides: Partial<TrialInput> = {}): Promise<Trial> {
  const trial = await createTrial(t, overrides);
  await addSites(t, trial.id);
  const res = await t.call('post', `/v1/trials/${trial.id}/activation`);
  if (res.status !== 200) throw new Error(`activation failed: ${res.text}`);
  return res.body as Trial;
}

export type ParticipantInput = components['schemas']['ParticipantInput'];

let labelCounter = 0;

/** A service user who meets every criterion of the SMCM trial, at site A. */
export function serviceUserInput(overrides: Partial<ParticipantInput> = {}): ParticipantInput {
  labelCounter += 1;
  return {
    siteCode: 'A',
    role: 'service_user',
    label: `SU-${String(labelCounter).padStart(4, '0')}`,
    screenedOn: '2018-03-01',
    eligibility: { ...ELIGIBLE_ANSWERS },
    baseline: { age: 45, sex: 'female', diagnosis: 'depression', onsetYears: 11 },
    ...overrides,
  };
}

export function caseWorkerInput(overrides: Partial<ParticipantInput> = {}): ParticipantInput {
  labelCounter += 1;
  return {
    siteCode: 'A',
    role: 'case_worker',
    label: `CW-${String(labelCounter).padStart(4, '0')}`,
    screenedOn: '2018-03-01',
    eligibility: {},
    baseline: { experienceYears: 4 },
    ...overrides,
  };
}

export async function screen(t: TestApp, trialId: string, input: ParticipantInput, key?: string) {
  const res = await t.call('post', `/v1/trials/${trialId}/participants`, { body: input, key });
  if (res.status !== 201) throw new Error(`screening failed: ${res.text}`);
  return res.body as components['schemas']['Participant'];
}

export async function grantConsent(
  t: TestApp,
  trialId: string,
  participantId: string,
  form = 'trial',
  version = '1.0',
  signedOn = '2018-03-02',
) {
  const res = await t.call('post', `/v1/trials/${trialId}/participants/${participantId}/consents`, {
    body: { form, version, decision: 'granted', signedOn, obtainedBy: 'IW', method: 'written' },
  });
  if (res.status !== 201) throw new Error(`consent failed: ${res.text}`);
  return res.body as components['schemas']['Consent'];
}
