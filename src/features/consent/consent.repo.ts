import type { Knex } from 'knex';
import type { ElectronicSignature } from '../../core/electronic-signature';
import type { Executor } from '../../db/database';
import type { components } from '../../generated/openapi';
import { consentJsonSql, toConsentView } from './consent-json';

type ConsentView = components['schemas']['Consent'];
type ConsentFormUsage = components['schemas']['ConsentFormUsage'];
type ConsentForm = components['schemas']['ConsentForm'];

export async function findConsent(
  db: Executor,
  trialId: string,
  participantId: string,
  consentId: string,
): Promise<ConsentView | undefined> {
  const row = await db('consents as c')
    .where({ 'c.trial_id': trialId, 'c.participant_id': participantId, 'c.consent_id': consentId })
    .first(db.raw(`${consentJsonSql()} AS consent`));
  return row && toConsentView(row.consent);
}

export interface NewConsent {
  trialId: string;
  consentId: string;
  participantId: string;
  form: string;
  version: string;
  decision: 'granted' | 'declined';
  signedOn: string;
  obtainedBy: string;
  method: string;
  reason: string | null;
}

export async function insertConsent(trx: Knex.Transaction, c: NewConsent): Promise<void> {
  await trx('consents').insert({
    trial_id: c.trialId,
    consent_id: c.consentId,
    participant_id: c.participantId,
    form_code: c.form,
    form_version: c.version,
    decision: c.decision,
    signed_on: c.signedOn,
    obtained_by: c.obtainedBy,
    method: c.method,
    reason: c.reason,
  });
}

export async function insertWithdrawal(
  trx: Knex.Transaction,
  w: {
    trialId: string;
    consentId: string;
    withdrawnOn: string;
    reason: string;
    scope: string;
    /** The signed-in person's electronic signature (21 CFR 11.200); null when an API key recorded it. */
    signature: ElectronicSignature | null;
  },
): Promise<void> {
  await trx('consent_withdrawals').insert({
    trial_id: w.trialId,
    consent_id: w.consentId,
    withdrawn_on: w.withdrawnOn,
    reason: w.reason,
    scope: w.scope,
    signature: w.signature && JSON.stringify(w.signature),
  });
}

export async function findFormVersion(
  db: Executor,
  trialId: string,
  code: string,
  version: string,
): Promise<{ required: boolean } | undefined> {
  return db('consent_forms').where({ trial_id: trialId, code, version }).first('required');
}

export async function findForm(
  db: Executor,
  trialId: string,
  code: string,
): Promise<{ required: boolean } | undefined> {
  return db('consent_forms').where({ trial_id: trialId, code }).first('required');
}

/** The forms a trial's set-up defines, replacing those it had (set-up only: no consent refers to them yet). */
export async function replaceTrialForms(trx: Knex.Transaction, trialId: string, forms: ConsentForm[]): Promise<void> {
  await trx('consent_forms').where({ trial_id: trialId }).delete();
  if (!forms.length) return;
  await trx('consent_forms').insert(
    forms.map((f, position) => ({
      trial_id: trialId,
      code: f.code,
      version: f.version,
      required: f.required,
      title: f.title ?? null,
      position,
    })),
  );
}

export async function insertFormVersion(trx: Knex.Transaction, trialId: string, form: ConsentForm): Promise<void> {
  await trx('consent_forms').insert({
    trial_id: trialId,
    code: form.code,
    version: form.version,
    required: form.required,
    title: form.title ?? null,
    position: trx.raw('(SELECT coalesce(max(position), -1) + 1 FROM consent_forms WHERE trial_id = ?)', [trialId]),
  });
}

/** Every version with the participants who granted (and kept), declined, or withdrew it; one aggregation. */
/** Per form version, its consents; `siteCodes` (a site-limited key) counts only participants of those sites. */
export async function listFormUsage(
  db: Executor,
  trialId: string,
  siteCodes: string[] | null,
): Promise<ConsentFormUsage[]> {
  const rows = await db.raw(
    `SELECT f.code, f.version, f.title, f.required,
            (cur.version IS NOT NULL) AS current,
            count(c.consent_id) FILTER (WHERE c.decision = 'granted' AND w.consent_id IS NULL) AS granted,
            count(c.consent_id) FILTER (WHERE c.decision = 'declined') AS declined,
            count(w.consent_id) AS withdrawn
       FROM consent_forms f
       LEFT JOIN current_consent_forms cur ON cur.trial_id = f.trial_id AND cur.code = f.code AND cur.version = f.version
       LEFT JOIN consents c ON c.trial_id = f.trial_id AND c.form_code = f.code AND c.form_version = f.version
             AND (?::text[] IS NULL OR EXISTS (SELECT 1 FROM participants p
                    WHERE p.trial_id = c.trial_id AND p.participant_id = c.participant_id AND p.site_code = ANY (?::text[])))
       LEFT JOIN consent_withdrawals w ON w.trial_id = c.trial_id AND w.consent_id = c.consent_id
      WHERE f.trial_id = ?
      GROUP BY f.code, f.version, f.title, f.required, f.position, cur.version
      ORDER BY f.position`,
    [siteCodes, siteCodes, trialId],
  );
  return rows.rows.map((r: ConsentFormUsage & { title: string | null }) => ({
    code: r.code,
    version: r.version,
    ...(r.title === null ? {} : { title: r.title }),
    required: r.required,
    current: r.current,
    granted: Number(r.granted),
    declined: Number(r.declined),
    withdrawn: Number(r.withdrawn),
  }));
}
