import createClient from 'openapi-fetch';
import type { components, paths } from '../generated/openapi';

export type Me = components['schemas']['Me'];
export type Trial = components['schemas']['Trial'];
export type Participant = components['schemas']['Participant'];
export type ParticipantStatus = components['schemas']['ParticipantStatus'];
export type Problem = components['schemas']['Problem'];
export type VisitStatus = components['schemas']['VisitStatus'];
export type WithdrawalScope = components['schemas']['WithdrawalScope'];
export type EventType = components['schemas']['EventType'];
export type IncentiveTotals = components['schemas']['IncentiveTotals'];
export type Measure = components['schemas']['Measure'];

/**
 * The API client, generated from the contract's types. The session cookie travels by itself (same origin,
 * HttpOnly: the console never sees it); every request sends the CSRF header the API asks of cookie sessions.
 */
export const api = createClient<paths>({
  baseUrl: location.origin,
  headers: { 'X-Trialdesk-CSRF': '1' },
  credentials: 'same-origin',
});

/** Called when any answer is 401: the session ended or expired. */
let onSignedOut: () => void = () => undefined;
export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

api.use({
  onResponse({ response }) {
    if (response.status === 401 && !response.url.endsWith('/v1/session')) onSignedOut();
    return response;
  },
});

/** A new Idempotency-Key: one per deliberate action, reused by a double click or a retry of that action. */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}
