import type { Knex } from 'knex';
import type { Executor } from '../../db/database';
import type { ClockSettings, Outcome, Relatedness, SeriousCriterion } from './reporting-clock';

/** An adverse event as stored, with the site of its participant. */
export interface AdverseEventRow {
  id: string;
  participantId: string;
  siteCode: string;
  term: string;
  onsetOn: string;
  severity: 'mild' | 'moderate' | 'severe';
  serious: { criteria: SeriousCriterion[] } | null;
  relatedness: Relatedness;
  expected: boolean;
  action: string;
  reportedBy: string;
  awareAt: string | null;
  outcome: Outcome | null;
  resolvedOn: string | null;
  reportedToSponsorAt: string | null;
  reportedToEthicsAt: string | null;
  recordedAt: string;
  revision: number;
}

/** The fields a correction or a follow-up may change, as they are kept in the history. */
export type AdverseEventFields = Omit<AdverseEventRow, 'id' | 'participantId' | 'siteCode' | 'recordedAt' | 'revision'>;

export interface AdverseEventEntryRow {
  entry: number;
  kind: 'follow_up' | 'correction' | 'report';
  note: string | null;
  before: Record<string, unknown>;
  after: Record<string, unknown>;
  recordedAt: string;
}

interface AdverseEventDbRow {
  adverse_event_id: string;
  participant_id: string;
  site_code: string;
  term: string;
  onset_on_text: string;
  severity: AdverseEventRow['severity'];
  serious: AdverseEventRow['serious'];
  relatedness: Relatedness;
  expected: boolean;
  action: string;
  reported_by: string;
  aware_at: Date | null;
  outcome: Outcome | null;
  resolved_on_text: string | null;
  reported_to_sponsor_at: Date | null;
  reported_to_ethics_at: Date | null;
  recorded_at: Date;
  revision: number;
}

const instant = (d: Date | null) => (d ? d.toISOString() : null);

const toRow = (r: AdverseEventDbRow): AdverseEventRow => ({
  id: r.adverse_event_id,
  participantId: r.participant_id,
  siteCode: r.site_code,
  term: r.term,
  onsetOn: r.onset_on_text,
  severity: r.severity,
  serious: r.serious,
  relatedness: r.relatedness,
  expected: r.expected,
  action: r.action,
  reportedBy: r.reported_by,
  awareAt: instant(r.aware_at),
  outcome: r.outcome,
  resolvedOn: r.resolved_on_text,
  reportedToSponsorAt: instant(r.reported_to_sponsor_at),
  reportedToEthicsAt: instant(r.reported_to_ethics_at),
  recordedAt: r.recorded_at.toISOString(),
  revision: r.revision,
});

function selectEvents(db: Executor, trialId: string) {
  return db('adverse_events as ae')
    .join('participants as p', function () {
      this.on('p.trial_id', 'ae.trial_id').andOn('p.participant_id', 'ae.participant_id');
    })
    .where('ae.trial_id', trialId)
    .select(
      'ae.*',
      'p.site_code',
      db.raw('ae.onset_on::text AS onset_on_text'),
      db.raw('ae.resolved_on::text AS resolved_on_text'),
    );
}

export async function findAdverseEvent(
  db: Executor,
  trialId: string,
  id: string,
): Promise<AdverseEventRow | undefined> {
  const row = (await selectEvents(db, trialId).andWhere('ae.adverse_event_id', id).first()) as
    AdverseEventDbRow | undefined;
  return row && toRow(row);
}

/** Locks the event's row for a change and reads it after the lock. */
export async function lockAdverseEvent(
  trx: Knex.Transaction,
  trialId: string,
  id: string,
): Promise<AdverseEventRow | undefined> {
  const locked = await trx('adverse_events')
    .where({ trial_id: trialId, adverse_event_id: id })
    .forUpdate()
    .first('revision');
  if (!locked) return undefined;
  return findAdverseEvent(trx, trialId, id);
}

export interface AdverseEventFilter {
  siteCodes: string[] | null;
  siteCode?: string;
  participantId?: string;
  serious?: boolean;
  /** Keyset: events after this one in list order (onset day, recording time, id). */
  after?: AdverseEventCursor;
  limit: number;
}

/** A position in the list: onset day, recording time as PostgreSQL's text (microseconds kept), id. */
export interface AdverseEventCursor {
  on: string;
  at: string;
  id: string;
}

/** Events in list order (onset day, then recording time), each with its cursor. */
export async function listAdverseEvents(
  db: Executor,
  trialId: string,
  filter: AdverseEventFilter,
): Promise<{ row: AdverseEventRow; cursor: AdverseEventCursor }[]> {
  const q = selectEvents(db, trialId).select(db.raw('ae.recorded_at::text AS cursor_at'));
  if (filter.siteCodes) q.whereIn('p.site_code', filter.siteCodes);
  if (filter.siteCode) q.andWhere('p.site_code', filter.siteCode);
  if (filter.participantId) q.andWhere('ae.participant_id', filter.participantId);
  if (filter.serious === true) q.whereNotNull('ae.serious');
  if (filter.serious === false) q.whereNull('ae.serious');
  if (filter.after)
    q.andWhereRaw('(ae.onset_on, ae.recorded_at, ae.adverse_event_id) > (?::date, ?::timestamptz, ?::uuid)', [
      filter.after.on,
      filter.after.at,
      filter.after.id,
    ]);
  const rows = (await q
    .orderBy([{ column: 'ae.onset_on' }, { column: 'ae.recorded_at' }, { column: 'ae.adverse_event_id' }])
    .limit(filter.limit)) as (AdverseEventDbRow & { cursor_at: string })[];
  return rows.map((r) => {
    const row = toRow(r);
    return { row, cursor: { on: row.onsetOn, at: r.cursor_at, id: row.id } };
  });
}

/** Every serious event with an awareness time whose reports are not all recorded: the reporting clocks' input. */
export async function listUnreportedSerious(
  db: Executor,
  trialId: string,
  siteCodes: string[] | null,
): Promise<AdverseEventRow[]> {
  const q = selectEvents(db, trialId)
    .whereNotNull('ae.serious')
    .whereNotNull('ae.aware_at')
    .andWhere((w) => w.whereNull('ae.reported_to_sponsor_at').orWhereNull('ae.reported_to_ethics_at'));
  if (siteCodes) q.whereIn('p.site_code', siteCodes);
  return ((await q.orderBy('ae.aware_at')) as AdverseEventDbRow[]).map(toRow);
}

const fieldColumns: Record<keyof AdverseEventFields, string> = {
  term: 'term',
  onsetOn: 'onset_on',
  severity: 'severity',
  serious: 'serious',
  relatedness: 'relatedness',
  expected: 'expected',
  action: 'action',
  reportedBy: 'reported_by',
  awareAt: 'aware_at',
  outcome: 'outcome',
  resolvedOn: 'resolved_on',
  reportedToSponsorAt: 'reported_to_sponsor_at',
  reportedToEthicsAt: 'reported_to_ethics_at',
};

function toColumns(fields: Partial<AdverseEventFields>): Record<string, unknown> {
  const columns: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields) as [keyof AdverseEventFields, unknown][]) {
    if (value === undefined) continue;
    columns[fieldColumns[key]] = key === 'serious' ? (value === null ? null : JSON.stringify(value)) : value;
  }
  return columns;
}

export async function insertAdverseEvent(
  trx: Knex.Transaction,
  row: { trialId: string; id: string; participantId: string; recordedBy: string } & AdverseEventFields,
): Promise<void> {
  const { trialId, id, participantId, recordedBy, ...fields } = row;
  await trx('adverse_events').insert({
    trial_id: trialId,
    adverse_event_id: id,
    participant_id: participantId,
    recorded_by: recordedBy,
    ...toColumns(fields),
  });
}

/**
 * Applies a change to a locked event and appends it to the history, with the changed fields before and after;
 * the caller holds the row lock taken by `lockAdverseEvent`.
 */
export async function changeAdverseEvent(
  trx: Knex.Transaction,
  trialId: string,
  current: AdverseEventRow,
  change: { kind: AdverseEventEntryRow['kind']; note: string | null; fields: Partial<AdverseEventFields>; by: string },
): Promise<void> {
  const entry = current.revision + 1;
  const before: Record<string, unknown> = {};
  for (const key of Object.keys(change.fields) as (keyof AdverseEventFields)[]) before[key] = current[key];
  await trx('adverse_events')
    .where({ trial_id: trialId, adverse_event_id: current.id, revision: current.revision })
    .update({ ...toColumns(change.fields), revision: entry });
  await trx('adverse_event_entries').insert({
    trial_id: trialId,
    adverse_event_id: current.id,
    entry,
    kind: change.kind,
    note: change.note,
    before: JSON.stringify(before),
    after: JSON.stringify(change.fields),
    recorded_by: change.by,
  });
}

export async function listEntries(
  db: Executor,
  trialId: string,
  ids: readonly string[],
): Promise<Map<string, AdverseEventEntryRow[]>> {
  const byEvent = new Map<string, AdverseEventEntryRow[]>();
  if (ids.length === 0) return byEvent;
  const rows = await db('adverse_event_entries')
    .where('trial_id', trialId)
    .whereIn('adverse_event_id', ids)
    .orderBy(['adverse_event_id', 'entry']);
  for (const r of rows) {
    const list = byEvent.get(r.adverse_event_id) ?? [];
    list.push({
      entry: r.entry,
      kind: r.kind,
      note: r.note,
      before: r.before,
      after: r.after,
      recordedAt: (r.recorded_at as Date).toISOString(),
    });
    byEvent.set(r.adverse_event_id, list);
  }
  return byEvent;
}

export async function findSettings(db: Executor, trialId: string): Promise<ClockSettings | undefined> {
  const row = await db('safety_settings').where({ trial_id: trialId }).first();
  return (
    row && {
      timeZone: row.time_zone,
      initialReportHours: row.initial_report_hours,
      fatalOrLifeThreateningDays: row.fatal_or_life_threatening_days,
      otherSeriousDays: row.other_serious_days,
    }
  );
}

export async function upsertSettings(trx: Knex.Transaction, trialId: string, s: ClockSettings): Promise<void> {
  await trx('safety_settings')
    .insert({
      trial_id: trialId,
      time_zone: s.timeZone,
      initial_report_hours: s.initialReportHours,
      fatal_or_life_threatening_days: s.fatalOrLifeThreateningDays,
      other_serious_days: s.otherSeriousDays,
    })
    .onConflict('trial_id')
    .merge({
      time_zone: s.timeZone,
      initial_report_hours: s.initialReportHours,
      fatal_or_life_threatening_days: s.fatalOrLifeThreateningDays,
      other_serious_days: s.otherSeriousDays,
      updated_at: trx.raw('clock_timestamp()'),
    });
}
