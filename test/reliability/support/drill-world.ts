import { randomBytes } from 'node:crypto';
import { INTERVIEW_COUPON } from '../../../scripts/smcm-trial';
import type { components } from '../../../src/generated/openapi';
import { serviceUserInput, smcmTrialInput } from '../../support/factories';
import { describeExchange, DrillRequest, DrillResponse, jsonOf, send } from './drill-http';

/*
 * What the fault drills do to the service, over HTTP only: an active SMCM trial (permuted blocks
 * stratified by site A, B, C), consented service users, and the two writes that must survive any
 * crash: randomization and coupon issuing, each with its own Idempotency-Key.
 */

export type Allocation = components['schemas']['Allocation'];
export type IncentiveEntry = components['schemas']['IncentiveEntry'];
export type Participant = components['schemas']['Participant'];

/** An admin key of the drill's own (ADMIN_API_KEY): 64 hex digits. */
export const newAdminKey = (): string => randomBytes(32).toString('hex');

/** Any number of these may be issued to one participant, so coupon requests can share participants. */
export const DRILL_TOKEN = {
  code: 'drill_token',
  description: 'Token issued by the fault drills',
  amount: 5,
  currency: 'HKD',
  roles: ['service_user' as const],
  maxPerParticipant: 1000,
};
export const DRILL_SITES = ['A', 'B', 'C'];
/** On or after every drill participant's screening date, never in the future. */
export const ISSUED_ON = '2024-01-15';

/** A request to the drill's service; without `key` it goes with the drill's admin key. */
export type ApiRequest = Omit<DrillRequest, 'key'> & { key?: string | null };

export class DrillApi {
  constructor(
    readonly baseUrl: string,
    readonly key: string,
  ) {}

  /** Sends with the drill's admin key unless the request names another key (or null: none). */
  call(request: ApiRequest): Promise<DrillResponse> {
    return send(this.baseUrl, { ...request, key: request.key === undefined ? this.key : request.key });
  }

  /** A set-up step: anything but `status` is an error carrying the exchange. */
  async expect<T>(status: number, request: ApiRequest): Promise<T> {
    const response = await this.call(request);
    if (response.status !== status)
      throw new Error(`set-up step failed, expected ${status}: ${describeExchange(request, response)}`);
    return jsonOf<T>(response) as T;
  }
}

export async function createDrillTrial(api: DrillApi, title: string): Promise<string> {
  const input = smcmTrialInput({
    title,
    incentives: [
      { ...INTERVIEW_COUPON, roles: [...INTERVIEW_COUPON.roles] },
      { ...DRILL_TOKEN, roles: [...DRILL_TOKEN.roles] },
    ],
  });
  const trial = await api.expect<{ id: string }>(201, { method: 'POST', path: '/v1/trials', body: input });
  for (const code of DRILL_SITES) {
    await api.expect(201, {
      method: 'POST',
      path: `/v1/trials/${trial.id}/sites`,
      body: { code, name: `Drill centre ${code}` },
    });
  }
  await api.expect(200, { method: 'POST', path: `/v1/trials/${trial.id}/activation` });
  return trial.id;
}

export function screeningRequest(trialId: string, siteCode: string, label: string): ApiRequest {
  return { method: 'POST', path: `/v1/trials/${trialId}/participants`, body: serviceUserInput({ siteCode, label }) };
}

let labels = 0;
export const uniqueLabel = (prefix: string): string => `${prefix}-${process.pid}-${++labels}`;

/** Screens and consents one eligible service user at `siteCode`. */
export async function consentedServiceUser(api: DrillApi, trialId: string, siteCode: string): Promise<string> {
  const screening = screeningRequest(trialId, siteCode, uniqueLabel('SU'));
  const participant = await api.expect<Participant>(201, { ...screening });
  await api.expect(201, {
    method: 'POST',
    path: `/v1/trials/${trialId}/participants/${participant.id}/consents`,
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

export async function consentedServiceUsers(
  api: DrillApi,
  trialId: string,
  count: number,
  width = 16,
): Promise<string[]> {
  return inParallel(count, width, (i) => consentedServiceUser(api, trialId, DRILL_SITES[i % DRILL_SITES.length]!));
}

/** A write the drills send with an Idempotency-Key and follow up in the database. */
export type KeyedWrite =
  | { kind: 'randomize'; key: string; participantId: string; request: ApiRequest }
  | { kind: 'coupon'; key: string; participantId: string; reference: string; request: ApiRequest };

export function randomizeWrite(trialId: string, participantId: string, key: string): KeyedWrite {
  return {
    kind: 'randomize',
    key,
    participantId,
    request: {
      method: 'POST',
      path: `/v1/trials/${trialId}/participants/${participantId}/randomization`,
      headers: { 'Idempotency-Key': key },
    },
  };
}

export type CouponWrite = Extract<KeyedWrite, { kind: 'coupon' }>;

export function couponWrite(trialId: string, participantId: string, key: string): CouponWrite {
  const reference = `drill coupon ${key}`;
  return {
    kind: 'coupon',
    key,
    participantId,
    reference,
    request: {
      method: 'POST',
      path: `/v1/trials/${trialId}/participants/${participantId}/incentives`,
      headers: { 'Idempotency-Key': key },
      body: { incentive: DRILL_TOKEN.code, issuedOn: ISSUED_ON, reference },
    },
  };
}

export const isIdempotencyKeyInUse = (response: DrillResponse): boolean =>
  response.status === 409 &&
  jsonOf<{ type?: string }>(response)?.type === 'https://trialdesk.dev/problems/idempotency-key-in-use';

/**
 * Sends a keyed write until it gets a final answer, as a careful client would: no answer, 503, and
 * 409 idempotency-key-in-use (the first attempt's transaction is still being rolled back) are
 * retried with the same key after a pause. Returns every attempt's response, the final one last.
 */
export async function sendUntilSettled(api: DrillApi, request: ApiRequest, maxAttempts = 40): Promise<DrillResponse[]> {
  const attempts: DrillResponse[] = [];
  for (let attempt = 1; ; attempt++) {
    const response = await api.call(request);
    attempts.push(response);
    const retryable = response.status === 0 || response.status === 503 || isIdempotencyKeyInUse(response);
    if (!retryable || attempt >= maxAttempts) return attempts;
    await sleep(Math.min(50 * attempt, 500));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `count` tasks with at most `width` in flight; results in task order. */
export async function inParallel<T>(count: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, count) }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

/** Fisher–Yates, with Math.random: the drills want variety, not reproducibility of the schedule. */
export function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

export function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}

export function range(values: number[]): string {
  if (!values.length) return '-';
  return `${Math.round(Math.min(...values))}–${Math.round(Math.max(...values))}`;
}

export interface ChainVerification {
  valid: boolean;
  rowsChecked: number;
  firstBrokenLink: unknown;
}

/** GET /v1/trials/{trialId}/audit/verification, retried while the service answers 503. */
export async function verifyAuditChain(api: DrillApi, trialId: string): Promise<ChainVerification> {
  const request: ApiRequest = { method: 'GET', path: `/v1/trials/${trialId}/audit/verification` };
  const attempts = await sendUntilSettled(api, request, 20);
  const last = attempts.at(-1)!;
  if (last.status !== 200) throw new Error(`audit verification failed: ${describeExchange(request, last)}`);
  return jsonOf<ChainVerification>(last)!;
}
