import type { Knex } from 'knex';
import type { Readable } from 'node:stream';

/*
 * Read models of the ODM and FHIR exports: one row per participant with everything the documents show,
 * aggregated in SQL and read row by row (a cursor on PostgreSQL), so that a large trial streams.
 */

export interface SubjectRow {
  participant_id: string;
  label: string;
  site_code: string;
  role: string;
  status: string;
  screened_on: string;
  eligible: boolean;
  eligibility: Record<string, boolean>;
  baseline: Record<string, unknown>;
  consents: {
    consentId: string;
    form: string;
    version: string;
    decision: string;
    signedOn: string;
    obtainedBy: string;
    method: string;
    reason: string | null;
    recordedAt: string;
    withdrawal: { withdrawnOn: string; reason: string; scope: string } | null;
  }[];
  allocation: {
    allocationId: string;
    arm: string;
    randomizedAt: string;
    sequenceNumber: number;
    stratum: Record<string, string>;
    errorReason: string | null;
  } | null;
  assigned_arm: string | null;
  assignment_reason: string | null;
  /** Missed visits that were not retracted. */
  missed_visits: { missedVisitId: string; visit: string; reason: string; recordedOn: string }[];
  /** Follow-up events that were not retracted, in the order they occurred. */
  events: { eventId: string; type: string; occurredOn: string; reason: string | null }[];
  assessments: {
    assessmentId: string;
    visit: string;
    assessedOn: string;
    assessor: string | null;
    values: Record<string, unknown>;
    scores: Record<string, { score?: unknown } | null>;
  }[];
  /** The latest audit row of each entity of the participant, when asked for. */
  audit: { entityId: string; keyId: string | null; at: string; reason: string | null; action: string }[] | null;
}

const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

export function streamSubjects(db: Knex, trialId: string, withAudit: boolean): Readable {
  const audit = withAudit
    ? db.raw(`(SELECT coalesce(json_agg(json_build_object(
                  'entityId', x.entity_id, 'keyId', x.actor_key_id, 'at', ${iso('x.occurred_at')},
                  'reason', x.reason, 'action', x.action) ORDER BY x.entity_id), '[]'::json)
                 FROM (SELECT DISTINCT ON (e.entity_id) e.entity_id, e.actor_key_id, e.occurred_at, e.reason, e.action
                         FROM audit_events e
                        WHERE e.trial_id = p.trial_id
                          AND (e.entity_id = p.participant_id::text
                               OR e.entity_id IN (SELECT c.consent_id::text FROM consents c
                                                   WHERE c.trial_id = p.trial_id AND c.participant_id = p.participant_id)
                               OR e.entity_id IN (SELECT a.assessment_id::text FROM assessments a
                                                   WHERE a.trial_id = p.trial_id AND a.participant_id = p.participant_id)
                               OR e.entity_id IN (SELECT v.event_id::text FROM participant_events v
                                                   WHERE v.trial_id = p.trial_id AND v.participant_id = p.participant_id)
                               OR e.entity_id IN (SELECT m.missed_visit_id::text FROM missed_visits m
                                                   WHERE m.trial_id = p.trial_id AND m.participant_id = p.participant_id))
                        ORDER BY e.entity_id, e.id DESC) x) AS audit`)
    : db.raw('NULL::json AS audit');
  return db('participants as p')
    .join('participant_states as s', function joinStates() {
      this.on('s.trial_id', 'p.trial_id').andOn('s.participant_id', 'p.participant_id');
    })
    .where('p.trial_id', trialId)
    .select(
      'p.participant_id',
      'p.label',
      'p.site_code',
      'p.role',
      's.status',
      db.raw(`to_char(p.screened_on, 'YYYY-MM-DD') AS screened_on`),
      'p.eligible',
      'p.eligibility',
      'p.baseline',
      db.raw(`(SELECT coalesce(json_agg(json_build_object(
                  'consentId', c.consent_id, 'form', c.form_code, 'version', c.form_version, 'decision', c.decision,
                  'signedOn', to_char(c.signed_on, 'YYYY-MM-DD'), 'obtainedBy', c.obtained_by, 'method', c.method,
                  'reason', c.reason, 'recordedAt', ${iso('c.recorded_at')},
                  'withdrawal', CASE WHEN w.consent_id IS NULL THEN NULL ELSE json_build_object(
                    'withdrawnOn', to_char(w.withdrawn_on, 'YYYY-MM-DD'), 'reason', w.reason, 'scope', w.scope) END)
                  ORDER BY c.recorded_at, c.consent_id), '[]'::json)
                 FROM consents c
                 LEFT JOIN consent_withdrawals w ON w.trial_id = c.trial_id AND w.consent_id = c.consent_id
                WHERE c.trial_id = p.trial_id AND c.participant_id = p.participant_id) AS consents`),
      db.raw(`(SELECT json_build_object(
                  'allocationId', a.allocation_id, 'arm', a.arm_code, 'randomizedAt', ${iso('a.randomized_at')},
                  'sequenceNumber', a.sequence_number, 'stratum', a.stratum, 'errorReason', a.error_reason)
                 FROM allocations a WHERE a.trial_id = p.trial_id AND a.participant_id = p.participant_id) AS allocation`),
      db.raw(`(SELECT w.arm_code FROM case_worker_assignments w WHERE w.trial_id = p.trial_id AND w.participant_id = p.participant_id
                ORDER BY w.assigned_at DESC, w.assignment_id DESC LIMIT 1) AS assigned_arm`),
      db.raw(`(SELECT w.reason FROM case_worker_assignments w WHERE w.trial_id = p.trial_id AND w.participant_id = p.participant_id
                ORDER BY w.assigned_at DESC, w.assignment_id DESC LIMIT 1) AS assignment_reason`),
      db.raw(`(SELECT coalesce(json_agg(json_build_object(
                  'missedVisitId', m.missed_visit_id, 'visit', m.visit, 'reason', m.reason,
                  'recordedOn', to_char(m.recorded_on, 'YYYY-MM-DD')) ORDER BY m.recorded_on, m.visit), '[]'::json)
                 FROM missed_visits m
                WHERE m.trial_id = p.trial_id AND m.participant_id = p.participant_id
                  AND NOT EXISTS (SELECT 1 FROM missed_visit_retractions r
                                   WHERE r.trial_id = m.trial_id AND r.missed_visit_id = m.missed_visit_id)) AS missed_visits`),
      db.raw(`(SELECT coalesce(json_agg(json_build_object(
                  'eventId', e.event_id, 'type', e.type, 'occurredOn', to_char(e.occurred_on, 'YYYY-MM-DD'), 'reason', e.reason)
                  ORDER BY e.occurred_on, e.recorded_at, e.event_id), '[]'::json)
                 FROM participant_events e
                WHERE e.trial_id = p.trial_id AND e.participant_id = p.participant_id
                  AND NOT EXISTS (SELECT 1 FROM event_retractions r
                                   WHERE r.trial_id = e.trial_id AND r.event_id = e.event_id)) AS events`),
      db.raw(`(SELECT coalesce(json_agg(json_build_object(
                  'assessmentId', a.assessment_id, 'visit', a.visit, 'assessedOn', to_char(a.assessed_on, 'YYYY-MM-DD'),
                  'assessor', a.assessor, 'values', a."values", 'scores', a.scores) ORDER BY a.assessed_on, a.visit), '[]'::json)
                 FROM assessments a WHERE a.trial_id = p.trial_id AND a.participant_id = p.participant_id) AS assessments`),
      audit,
    )
    .orderBy([{ column: 'p.created_at' }, { column: 'p.participant_id' }])
    .stream();
}

export interface UserRow {
  key_id: string | null;
  name: string | null;
  prefix: string | null;
  role: string;
}

/** Every actor of the trial's audit trail: the API keys (name, prefix, role) and the service itself. */
export async function auditActors(db: Knex, trialId: string): Promise<UserRow[]> {
  const rows = await db('audit_events as e')
    .leftJoin('api_keys as k', 'k.id', 'e.actor_key_id')
    .where('e.trial_id', trialId)
    .distinct('e.actor_key_id as key_id', 'k.name', 'k.prefix', 'e.actor_role as role')
    .orderBy([{ column: 'e.actor_key_id' }, { column: 'e.actor_role' }]);
  const seen = new Set<string | null>();
  return (rows as UserRow[]).filter((row) => (seen.has(row.key_id) ? false : (seen.add(row.key_id), true)));
}

/** Participant ids by label (as stored), for rows of a migration that name participants by label. */
export async function participantIdsByLabel(db: Knex, trialId: string, labels: string[]): Promise<Map<string, string>> {
  const rows = (await db('participants')
    .where('trial_id', trialId)
    .whereIn('label', labels)
    .select('participant_id', 'label')) as { participant_id: string; label: string }[];
  return new Map(rows.map((row) => [row.label, row.participant_id]));
}

/** Participants' statuses by label, for checking an ODM import against the statuses its document states. */
export async function participantStatesByLabel(
  db: Knex,
  trialId: string,
  labels: string[],
): Promise<Map<string, string>> {
  const rows = (await db('participants as p')
    .join('participant_states as s', function joinStates() {
      this.on('s.trial_id', 'p.trial_id').andOn('s.participant_id', 'p.participant_id');
    })
    .where('p.trial_id', trialId)
    .whereIn('p.label', labels)
    .select('p.label', 's.status')) as { label: string; status: string }[];
  return new Map(rows.map((row) => [row.label, row.status]));
}
