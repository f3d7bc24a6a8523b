import { INTERVIEW_COUPON, smcmFidelityScale, smcmFollowUp } from '../../../scripts/smcm-trial';
import {
  addSites,
  caseWorkerInput,
  grantConsent,
  screen,
  serviceUserInput,
  smcmTrialInput,
  Trial,
  TrialInput,
} from '../../support/factories';
import type { TestApp } from '../../support/test-app';
import { isSiteLimited, KeyRole, MatrixCell } from './authz-expectation';

/*
 * The data the authorization matrix runs against: two active trials (T1, the one keys are limited
 * to, and T2, another one) with the same design, arms whose codes and names appear nowhere else
 * (so a case-insensitive search for them in a blinded response means a leak), and at each of the
 * two sites randomized service users with events and incentives, and an assigned case worker.
 */

export const SITE_IN = 'S1';
export const SITE_OUT = 'S2';
export const MATRIX_ARMS = [
  { code: 'zebrafish', name: 'Zebrafish protocol', ratio: 1 },
  { code: 'quokka', name: 'Quokka care', ratio: 1 },
];
/** Any number of these may be issued to one participant, so cells can issue them to shared participants. */
export const MATRIX_TOKEN = {
  code: 'matrix_token',
  description: 'Token issued by the authorization matrix',
  amount: 5,
  currency: 'HKD',
  roles: ['service_user' as const],
  maxPerParticipant: 1000,
};

export const todayUtc = () => new Date().toISOString().slice(0, 10);

export interface SharedTrial {
  id: string;
  /** Randomized service users by site (two per site: one block of two, so both arms at each site). */
  randomized: Record<string, string[]>;
  caseWorker: Record<string, string>;
}

export interface MatrixWorld {
  t1: SharedTrial;
  t2: SharedTrial;
  byId: Map<string, SharedTrial>;
}

let sequence = 0;
/** A tag unique in this process, for labels, references, codes and key names. */
export function uniqueTag(prefix: string): string {
  sequence += 1;
  return `${prefix}-${process.pid}-${sequence}`;
}

/** Block size 2 stratified by site: two randomized people at a site get one arm each. */
export function matrixTrialInput(overrides: Partial<TrialInput> = {}): TrialInput {
  return smcmTrialInput({
    title: 'Authorization matrix trial',
    arms: MATRIX_ARMS.map((arm) => ({ ...arm })),
    randomization: { method: 'permuted_block', blockSizes: [2], stratifyBy: ['site'] },
    incentives: [
      { ...INTERVIEW_COUPON, roles: [...INTERVIEW_COUPON.roles] },
      { ...MATRIX_TOKEN, roles: [...MATRIX_TOKEN.roles] },
    ],
    ...smcmFollowUp(),
    delivery: matrixDelivery(),
    fidelityScale: smcmFidelityScale(),
    ...overrides,
  });
}

/**
 * The matrix arms' delivery plan. Kinds and tools do not repeat the arm codes: the blinded scan looks for arm codes
 * and names in every answer, and a kind such as "zebrafish_session" in an unrelated string would be a false alarm.
 */
export function matrixDelivery(): NonNullable<TrialInput['delivery']> {
  return {
    interventionPeriodDays: 182,
    arms: [
      {
        arm: MATRIX_ARMS[0]!.code,
        sessionKinds: [{ code: 'individual_session', label: 'Individual session' }],
        plannedIntervalDays: 14,
        plannedMinutes: 30,
        minimumSessions: 6,
      },
      {
        arm: MATRIX_ARMS[1]!.code,
        sessionKinds: [{ code: 'usual_contact', label: 'Usual contact' }],
        plannedIntervalDays: 14,
        plannedMinutes: 30,
        minimumSessions: 6,
      },
    ],
    tools: [{ code: 'recovery_plan', label: 'Recovery plan', arms: [MATRIX_ARMS[0]!.code] }],
    supervisionPlan: [{ kind: 'group', perMonth: 1 }],
  };
}

async function expectStatus(
  t: TestApp,
  status: number,
  method: 'post' | 'put' | 'patch',
  path: string,
  body?: unknown,
) {
  const res = await t.call(method, path, { body });
  if (res.status !== status)
    throw new Error(`set-up ${method.toUpperCase()} ${path} answered ${res.status}: ${res.text}`);
  return res;
}

export type FreshTrialState = 'setup' | 'setup-list' | 'active' | 'closed';

/** A trial of its own for one cell, with sites S1 and S2 (so keys can be limited to it and to S1). */
export async function createMatrixTrial(t: TestApp, state: FreshTrialState): Promise<Trial> {
  const input = matrixTrialInput(
    state === 'setup-list' ? { randomization: { method: 'list', stratifyBy: ['site'] } } : {},
  );
  const trial = (await expectStatus(t, 201, 'post', '/v1/trials', input)).body as Trial;
  await addSites(t, trial.id, [SITE_IN, SITE_OUT]);
  if (state === 'active' || state === 'closed') await expectStatus(t, 200, 'post', `/v1/trials/${trial.id}/activation`);
  if (state === 'closed')
    await expectStatus(t, 200, 'post', `/v1/trials/${trial.id}/closure`, { reason: 'closed for the matrix' });
  return trial;
}

export async function screenServiceUser(t: TestApp, trialId: string, siteCode: string): Promise<string> {
  return (await screen(t, trialId, serviceUserInput({ siteCode, label: uniqueTag('SU') }))).id;
}

export async function consentedServiceUser(
  t: TestApp,
  trialId: string,
  siteCode: string,
): Promise<{ participantId: string; consentId: string }> {
  const participantId = await screenServiceUser(t, trialId, siteCode);
  const consent = await grantConsent(t, trialId, participantId);
  return { participantId, consentId: consent.id };
}

export async function randomizedServiceUser(t: TestApp, trialId: string, siteCode: string): Promise<string> {
  const { participantId } = await consentedServiceUser(t, trialId, siteCode);
  await expectStatus(t, 201, 'post', `/v1/trials/${trialId}/participants/${participantId}/randomization`);
  return participantId;
}

export async function issueToken(t: TestApp, trialId: string, participantId: string): Promise<string> {
  const res = await expectStatus(t, 201, 'post', `/v1/trials/${trialId}/participants/${participantId}/incentives`, {
    incentive: MATRIX_TOKEN.code,
    issuedOn: todayUtc(),
    reference: uniqueTag('token'),
  });
  return res.body.id;
}

export async function recordFollowUp(t: TestApp, trialId: string, participantId: string): Promise<string> {
  const res = await expectStatus(t, 201, 'post', `/v1/trials/${trialId}/participants/${participantId}/events`, {
    type: 'follow_up_completed',
    occurredOn: todayUtc(),
  });
  return res.body.id;
}

export async function recordBaselineAssessment(t: TestApp, trialId: string, participantId: string): Promise<void> {
  await expectStatus(t, 201, 'post', `/v1/trials/${trialId}/participants/${participantId}/assessments`, {
    visit: 'baseline',
    assessedOn: todayUtc(),
    values: { employed: true },
  });
}

export async function recordMissed(t: TestApp, trialId: string, participantId: string): Promise<string> {
  const res = await expectStatus(
    t,
    201,
    'post',
    `/v1/trials/${trialId}/participants/${participantId}/visits/m6/missed`,
    {
      reason: 'could not be contacted',
      recordedOn: todayUtc(),
    },
  );
  return res.body.id;
}

async function sharedTrial(t: TestApp): Promise<SharedTrial> {
  const trial = await createMatrixTrial(t, 'active');
  const shared: SharedTrial = { id: trial.id, randomized: {}, caseWorker: {} };
  for (const site of [SITE_IN, SITE_OUT]) {
    shared.randomized[site] = [];
    for (let i = 0; i < 2; i++) {
      const participantId = await randomizedServiceUser(t, trial.id, site);
      await issueToken(t, trial.id, participantId);
      await recordFollowUp(t, trial.id, participantId);
      shared.randomized[site]!.push(participantId);
    }
    const caseWorker = await screen(t, trial.id, caseWorkerInput({ siteCode: site, label: uniqueTag('CW') }));
    await expectStatus(t, 201, 'post', `/v1/trials/${trial.id}/participants/${caseWorker.id}/assignment`, {
      arm: MATRIX_ARMS[0]!.code,
      reason: 'trained for the first arm',
    });
    shared.caseWorker[site] = caseWorker.id;
  }
  return shared;
}

export async function buildWorld(t: TestApp): Promise<MatrixWorld> {
  const t1 = await sharedTrial(t);
  const t2 = await sharedTrial(t);
  return { t1, t2, byId: new Map([t1, t2].map((trial) => [trial.id, trial])) };
}

export interface KeyScope {
  trialIds: string[] | null;
  siteCodes: string[] | null;
}

/** The scope of the key a cell uses, given the trial it is limited to when it is limited. */
export function keyScopeFor(cell: MatrixCell, homeTrialId: string): KeyScope {
  if (cell.trialScope === 'unscoped') return { trialIds: null, siteCodes: null };
  return { trialIds: [homeTrialId], siteCodes: isSiteLimited(cell) ? [SITE_IN] : null };
}

/** Creates API keys with the admin key, once per role, scope and blinding. */
export class KeyRing {
  private readonly keys = new Map<string, string>();
  constructor(private readonly t: TestApp) {}

  async key(role: KeyRole, scope: KeyScope, blinded: boolean): Promise<string> {
    const id = JSON.stringify([role, scope.trialIds, scope.siteCodes, blinded]);
    let key = this.keys.get(id);
    if (!key) {
      const res = await this.t.call('post', '/v1/api-keys', { body: keyInput(role, scope, blinded) });
      if (res.status !== 201) throw new Error(`creating a ${role} key ${id} failed: ${res.status} ${res.text}`);
      key = res.body.key as string;
      this.keys.set(id, key);
    }
    return key;
  }
}

export function keyInput(role: KeyRole, scope: KeyScope, blinded: boolean) {
  return {
    name: uniqueTag(`matrix ${role}`),
    role,
    ...(scope.trialIds ? { trialIds: scope.trialIds } : {}),
    ...(scope.siteCodes ? { siteCodes: scope.siteCodes } : {}),
    ...(blinded ? { blinded: true } : {}),
  };
}
