import type { components } from '../../generated/openapi';

type ConsentView = components['schemas']['Consent'];

const isoInstant = (value: string) => new Date(value).toISOString();

/*
 * How a consent record reads as JSON, built in SQL: shared by the participant view and the consent service.
 * Writing consents stays with consent.repo.ts.
 */

export interface ConsentJson {
  id: string;
  participantId: string;
  form: string;
  version: string;
  current: boolean;
  decision: 'granted' | 'declined';
  signedOn: string;
  obtainedBy: string;
  method: ConsentView['method'];
  reason: string | null;
  recordedAt: string;
  withdrawal: {
    withdrawnOn: string;
    reason: string;
    scope: 'intervention' | 'follow_up' | 'all';
    recordedAt: string;
  } | null;
}

/** Consent records as JSON, built in SQL; shared by the participant view and the consent service. */
export function consentJsonSql(alias = 'c'): string {
  return `json_build_object(
      'id', ${alias}.consent_id, 'participantId', ${alias}.participant_id, 'form', ${alias}.form_code, 'version', ${alias}.form_version,
      'current', EXISTS (SELECT 1 FROM current_consent_forms cur WHERE cur.trial_id = ${alias}.trial_id AND cur.code = ${alias}.form_code AND cur.version = ${alias}.form_version),
      'decision', ${alias}.decision, 'signedOn', ${alias}.signed_on, 'obtainedBy', ${alias}.obtained_by, 'method', ${alias}.method,
      'reason', ${alias}.reason, 'recordedAt', ${alias}.recorded_at,
      'withdrawal', (SELECT json_build_object('withdrawnOn', w.withdrawn_on, 'reason', w.reason, 'scope', w.scope, 'recordedAt', w.recorded_at)
                       FROM consent_withdrawals w WHERE w.trial_id = ${alias}.trial_id AND w.consent_id = ${alias}.consent_id))`;
}

export function toConsentView(json: ConsentJson): ConsentView {
  return {
    ...json,
    recordedAt: isoInstant(json.recordedAt),
    withdrawal: json.withdrawal && { ...json.withdrawal, recordedAt: isoInstant(json.withdrawal.recordedAt) },
  };
}
