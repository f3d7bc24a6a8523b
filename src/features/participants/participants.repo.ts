import type { Knex } from 'knex';
import type { Executor } from '../../db/database';
import type { TimeOrderedCursor } from '../../core/pagination';
import type { components } from '../../generated/openapi';
import { ConsentJson, consentJsonSql, toConsentView } from '../consent/consent-json';
import { eventJsonSql, toEventView } from '../events/event-json';
import { EntryJson, entryJsonSql, toEntryView } from '../incentives/entry-json';
import type { BaselineValues, ParticipantRole } from './participants';

export type ParticipantView = components['schemas']['Participant'];
export type ParticipantListItem = components['schemas']['ParticipantListItem'];
export type ParticipantStatus = components['schemas']['ParticipantStatus'];

interface ParticipantRow {
  trial_id: string;
  participant_id: string;
  site_code: string;
  role: ParticipantRole;
  label: string;
  screened_on: string;
  eligibility: Record<string, boolean>;
  eligible: boolean;
  unmet_criteria: string[];
  baseline: BaselineValues;
  created_at: Date;
  created_at_text: string;
  status: ParticipantStatus;
  reconsent_required: boolean;
  consent_complete: boolean;
  consent_withdrawn: boolean;
}

const isoInstant = (value: string) => new Date(value).toISOString();

function selectParticipants(db: Executor, detailed: boolean): Knex.QueryBuilder {
  const columns: (string | Knex.Raw)[] = [
    'p.*',
    's.status',
    's.reconsent_required',
    's.consent_complete',
    's.consent_withdrawn',
    db.raw('p.created_at::text AS created_at_text'),
  ];
  if (detailed) {
    columns.push(
      db.raw(`(SELECT coalesce(json_agg(${consentJsonSql()} ORDER BY c.recorded_at, c.consent_id), '[]')
                 FROM consents c WHERE c.trial_id = p.trial_id AND c.participant_id = p.participant_id) AS consents`),
      db.raw(`(SELECT json_build_object('arm', a.arm_code, 'reason', a.reason, 'assignedAt', a.assigned_at)
                 FROM case_worker_assignments a WHERE a.trial_id = p.trial_id AND a.participant_id = p.participant_id
                ORDER BY a.assigned_at DESC, a.assignment_id DESC LIMIT 1) AS assignment`),
      db.raw(`(SELECT json_build_object('allocationId', al.allocation_id, 'participantId', al.participant_id, 'arm', al.arm_code, 'stratum', al.stratum,
                      'randomizedAt', al.randomized_at, 'errorReason', al.error_reason, 'errorFlaggedAt', al.error_flagged_at)
                 FROM allocations al WHERE al.trial_id = p.trial_id AND al.participant_id = p.participant_id) AS allocation`),
      db.raw(`(SELECT coalesce(json_agg(${eventJsonSql()} ORDER BY e.occurred_on, e.recorded_at), '[]')
                 FROM participant_events e WHERE e.trial_id = p.trial_id AND e.participant_id = p.participant_id) AS events`),
      db.raw(`(SELECT coalesce(json_agg(${entryJsonSql()} ORDER BY l.recorded_at, l.entry_id), '[]')
                 FROM incentive_ledger l WHERE l.trial_id = p.trial_id AND l.participant_id = p.participant_id) AS incentives`),
    );
  }
  return db('participants as p')
    .join('participant_states as s', function joinState() {
      this.on('s.trial_id', 'p.trial_id').andOn('s.participant_id', 'p.participant_id');
    })
    .select(columns);
}

function toListItem(row: ParticipantRow): ParticipantListItem {
  return {
    id: row.participant_id,
    trialId: row.trial_id,
    label: row.label,
    siteCode: row.site_code,
    role: row.role,
    status: row.status,
    screenedOn: row.screened_on,
    eligible: row.eligible,
    unmetCriteria: row.unmet_criteria,
    reconsentRequired: row.reconsent_required,
    createdAt: row.created_at.toISOString(),
  };
}

interface AllocationJson {
  allocationId: string;
  participantId: string;
  arm: string;
  stratum: Record<string, string>;
  randomizedAt: string;
  errorReason: string | null;
  errorFlaggedAt: string | null;
}

type DetailRow = ParticipantRow & {
  consents: ConsentJson[];
  assignment: { arm: string; reason: string; assignedAt: string } | null;
  allocation: AllocationJson | null;
  events: Parameters<typeof toEventView>[0][];
  incentives: EntryJson[];
};

function toAllocation(json: AllocationJson): ParticipantView['allocation'] {
  const { errorReason, errorFlaggedAt, ...rest } = json;
  return {
    ...rest,
    randomizedAt: isoInstant(json.randomizedAt),
    error: errorReason === null ? null : { reason: errorReason, flaggedAt: isoInstant(errorFlaggedAt!) },
  };
}

function toParticipantView(row: DetailRow): ParticipantView {
  return {
    ...toListItem(row),
    eligibility: row.eligibility,
    baseline: row.baseline,
    consents: row.consents.map(toConsentView),
    assignment: row.assignment && { ...row.assignment, assignedAt: isoInstant(row.assignment.assignedAt) },
    allocation: row.allocation && toAllocation(row.allocation),
    events: row.events.map(toEventView),
    incentives: row.incentives.map(toEntryView),
  };
}

export interface ParticipantFacts {
  view: ParticipantView;
  /** A granted, current, not withdrawn consent to every required form: the randomization precondition. */
  consentComplete: boolean;
  consentWithdrawn: boolean;
}

export async function findParticipant(
  db: Executor,
  trialId: string,
  participantId: string,
): Promise<ParticipantFacts | undefined> {
  const row: DetailRow | undefined = await selectParticipants(db, true)
    .where({ 'p.trial_id': trialId, 'p.participant_id': participantId })
    .first();
  return (
    row && {
      view: toParticipantView(row),
      consentComplete: row.consent_complete,
      consentWithdrawn: row.consent_withdrawn,
    }
  );
}

/** What a randomization decides on, without the participant's consents, events and incentives. */
export interface ParticipantDecisionFacts {
  item: ParticipantListItem;
  baseline: BaselineValues;
  /** When the participant was randomized, or null. */
  randomizedAt: string | null;
  consentComplete: boolean;
  consentWithdrawn: boolean;
}

/** The participant's derived state in one lean statement (the randomization hot path). */
export async function findParticipantDecisionFacts(
  db: Executor,
  trialId: string,
  participantId: string,
): Promise<ParticipantDecisionFacts | undefined> {
  const row: (ParticipantRow & { randomized_at: Date | null }) | undefined = await selectParticipants(db, false)
    .select(
      db.raw(`(SELECT al.randomized_at FROM allocations al
                WHERE al.trial_id = p.trial_id AND al.participant_id = p.participant_id) AS randomized_at`),
    )
    .where({ 'p.trial_id': trialId, 'p.participant_id': participantId })
    .first();
  return (
    row && {
      item: toListItem(row),
      baseline: row.baseline,
      randomizedAt: row.randomized_at === null ? null : row.randomized_at.toISOString(),
      consentComplete: row.consent_complete,
      consentWithdrawn: row.consent_withdrawn,
    }
  );
}

/** Locks the participant row: changes to one participant are serialised. Returns its site, or undefined. */
export async function lockParticipant(
  trx: Knex.Transaction,
  trialId: string,
  participantId: string,
): Promise<{ site_code: string } | undefined> {
  return trx('participants').where({ trial_id: trialId, participant_id: participantId }).forUpdate().first('site_code');
}

export interface ParticipantListQuery {
  trialId: string;
  siteCodes: string[] | null;
  siteCode?: string;
  role?: ParticipantRole;
  status?: ParticipantStatus;
  /** A label prefix in NFC (labelKey), matched ignoring case. */
  labelPrefix?: string;
  limit: number;
  after?: TimeOrderedCursor;
}

export async function listParticipants(
  db: Executor,
  query: ParticipantListQuery,
): Promise<{ item: ParticipantListItem; cursor: TimeOrderedCursor }[]> {
  const builder = selectParticipants(db, false).where('p.trial_id', query.trialId);
  if (query.siteCodes) builder.whereIn('p.site_code', query.siteCodes);
  if (query.siteCode) builder.where('p.site_code', query.siteCode);
  if (query.role) builder.where('p.role', query.role);
  if (query.status) builder.where('s.status', query.status);
  if (query.labelPrefix)
    builder.whereRaw("lower(p.label_key) LIKE lower(?) || '%' ESCAPE '\\'", [
      query.labelPrefix.replace(/[\\%_]/g, (c) => `\\${c}`),
    ]);
  if (query.after)
    builder.whereRaw('(p.created_at, p.participant_id) > (?::timestamptz, ?::uuid)', [query.after.at, query.after.id]);
  const rows: ParticipantRow[] = await builder
    .orderBy([{ column: 'p.created_at' }, { column: 'p.participant_id' }])
    .limit(query.limit + 1);
  return rows.map((row) => ({ item: toListItem(row), cursor: { at: row.created_at_text, id: row.participant_id } }));
}

export interface NewParticipant {
  trialId: string;
  participantId: string;
  siteCode: string;
  role: ParticipantRole;
  label: string;
  labelKey: string;
  screenedOn: string;
  eligibility: Record<string, boolean>;
  eligible: boolean;
  unmetCriteria: string[];
  baseline: BaselineValues;
}

export async function insertParticipant(trx: Knex.Transaction, p: NewParticipant): Promise<void> {
  await trx('participants').insert({
    trial_id: p.trialId,
    participant_id: p.participantId,
    site_code: p.siteCode,
    role: p.role,
    label: p.label,
    label_key: p.labelKey,
    screened_on: p.screenedOn,
    eligibility: JSON.stringify(p.eligibility),
    eligible: p.eligible,
    unmet_criteria: p.unmetCriteria,
    baseline: JSON.stringify(p.baseline),
  });
}

export async function updateBaseline(
  trx: Knex.Transaction,
  trialId: string,
  participantId: string,
  baseline: BaselineValues,
): Promise<void> {
  await trx('participants')
    .where({ trial_id: trialId, participant_id: participantId })
    .update({ baseline: JSON.stringify(baseline) });
}

export async function insertAssignment(
  trx: Knex.Transaction,
  row: { trialId: string; assignmentId: string; participantId: string; arm: string; reason: string },
): Promise<void> {
  await trx('case_worker_assignments').insert({
    trial_id: row.trialId,
    assignment_id: row.assignmentId,
    participant_id: row.participantId,
    arm_code: row.arm,
    reason: row.reason,
  });
}
