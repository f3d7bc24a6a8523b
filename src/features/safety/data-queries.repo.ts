import type { Knex } from 'knex';
import type { Executor } from '../../db/database';
import type { Role } from '../../core/principal';
import type { QueryAction, QueryStatus } from './query-states';
import type { RecordKind as QueryTargetKind } from './record-documents.query';

export interface DataQueryMessageRow {
  seq: number;
  action: 'raise' | QueryAction;
  text: string;
  at: string;
  role: Role;
  viaCorrection: boolean;
}

export interface DataQueryRow {
  id: string;
  participantId: string;
  siteCode: string;
  target: { kind: QueryTargetKind; id: string; pointer: string };
  status: QueryStatus;
  raisedAt: string;
  statusChangedAt: string;
  /** The automatic check that raised it; null when a person did. */
  check: AutomaticCheck | null;
  messages: DataQueryMessageRow[];
}

export type AutomaticCheck = 'soft_range' | 'missing_item';

interface DataQueryDbRow {
  query_id: string;
  participant_id: string;
  site_code: string;
  target_kind: QueryTargetKind;
  target_id: string;
  pointer: string;
  status: QueryStatus;
  raised_at: Date;
  status_changed_at: Date;
  auto_check: AutomaticCheck | null;
}

function selectQueries(db: Executor, trialId: string) {
  return db('data_queries as q')
    .join('participants as p', function () {
      this.on('p.trial_id', 'q.trial_id').andOn('p.participant_id', 'q.participant_id');
    })
    .where('q.trial_id', trialId)
    .select('q.*', 'p.site_code');
}

async function withMessages(db: Executor, trialId: string, rows: DataQueryDbRow[]): Promise<DataQueryRow[]> {
  const ids = rows.map((r) => r.query_id);
  const messages = ids.length
    ? await db('data_query_messages').where('trial_id', trialId).whereIn('query_id', ids).orderBy(['query_id', 'seq'])
    : [];
  const byQuery = new Map<string, DataQueryMessageRow[]>();
  for (const m of messages) {
    const list = byQuery.get(m.query_id) ?? [];
    list.push({
      seq: m.seq,
      action: m.action,
      text: m.text,
      at: (m.at as Date).toISOString(),
      role: m.by_role,
      viaCorrection: m.via_correction,
    });
    byQuery.set(m.query_id, list);
  }
  return rows.map((r) => ({
    id: r.query_id,
    participantId: r.participant_id,
    siteCode: r.site_code,
    target: { kind: r.target_kind, id: r.target_id, pointer: r.pointer },
    status: r.status,
    raisedAt: r.raised_at.toISOString(),
    statusChangedAt: r.status_changed_at.toISOString(),
    check: r.auto_check,
    messages: byQuery.get(r.query_id) ?? [],
  }));
}

export async function findQuery(db: Executor, trialId: string, id: string): Promise<DataQueryRow | undefined> {
  const row = (await selectQueries(db, trialId).andWhere('q.query_id', id).first()) as DataQueryDbRow | undefined;
  return row && (await withMessages(db, trialId, [row]))[0];
}

export async function lockQuery(trx: Knex.Transaction, trialId: string, id: string): Promise<DataQueryRow | undefined> {
  const locked = await trx('data_queries').where({ trial_id: trialId, query_id: id }).forUpdate().first('status');
  return locked ? findQuery(trx, trialId, id) : undefined;
}

/** The open queries the automatic checks raised on one record, locked (oldest first), for a correction of it. */
export async function lockOpenAutomaticQueries(
  trx: Knex.Transaction,
  trialId: string,
  record: { kind: QueryTargetKind; id: string },
): Promise<DataQueryRow[]> {
  const rows = (await selectQueries(trx, trialId)
    .andWhere({ 'q.target_kind': record.kind, 'q.target_id': record.id, 'q.status': 'open' })
    .whereNotNull('q.auto_check')
    .orderBy([{ column: 'q.raised_at' }, { column: 'q.query_id' }])
    .forUpdate('q')) as DataQueryDbRow[];
  return withMessages(trx, trialId, rows);
}

/** The query a check raised on an item (at most one, by the partial unique index), locked. */
export async function lockAutomaticQuery(
  trx: Knex.Transaction,
  trialId: string,
  item: { kind: QueryTargetKind; id: string; pointer: string; check: AutomaticCheck },
): Promise<DataQueryRow | undefined> {
  const row = (await selectQueries(trx, trialId)
    .andWhere({
      'q.target_kind': item.kind,
      'q.target_id': item.id,
      'q.pointer': item.pointer,
      'q.auto_check': item.check,
    })
    .forUpdate('q')
    .first()) as DataQueryDbRow | undefined;
  return row && (await withMessages(trx, trialId, [row]))[0];
}

export interface DataQueryFilter {
  siteCodes: string[] | null;
  siteCode?: string;
  status?: QueryStatus;
  kind?: QueryTargetKind;
  targetId?: string;
  raisedBefore?: Date;
  /** Keyset: queries after this one in list order (raising time, id). */
  after?: { at: string; id: string };
  limit: number;
}

export async function listQueries(db: Executor, trialId: string, filter: DataQueryFilter): Promise<DataQueryRow[]> {
  const q = selectQueries(db, trialId);
  if (filter.siteCodes) q.whereIn('p.site_code', filter.siteCodes);
  if (filter.siteCode) q.andWhere('p.site_code', filter.siteCode);
  if (filter.status) q.andWhere('q.status', filter.status);
  if (filter.kind) q.andWhere('q.target_kind', filter.kind);
  if (filter.targetId) q.andWhere('q.target_id', filter.targetId);
  if (filter.raisedBefore) q.andWhere('q.raised_at', '<', filter.raisedBefore);
  if (filter.after)
    q.andWhereRaw('(q.raised_at, q.query_id) > (?::timestamptz, ?::uuid)', [filter.after.at, filter.after.id]);
  const rows = (await q
    .orderBy([{ column: 'q.raised_at' }, { column: 'q.query_id' }])
    .limit(filter.limit)) as DataQueryDbRow[];
  return withMessages(db, trialId, rows);
}

/** Counts by site and status, for the monitoring summary (the caller's sites only). */
export async function countQueries(
  db: Executor,
  trialId: string,
  siteCodes: string[] | null,
): Promise<{ siteCode: string; kind: QueryTargetKind; status: QueryStatus; count: number }[]> {
  const q = db('data_queries as q')
    .join('participants as p', function () {
      this.on('p.trial_id', 'q.trial_id').andOn('p.participant_id', 'q.participant_id');
    })
    .where('q.trial_id', trialId)
    .groupBy('p.site_code', 'q.target_kind', 'q.status')
    .select('p.site_code', 'q.target_kind', 'q.status', db.raw('count(*)::int AS count'));
  if (siteCodes) q.whereIn('p.site_code', siteCodes);
  const rows = await q;
  return rows.map((r: { site_code: string; target_kind: QueryTargetKind; status: QueryStatus; count: number }) => ({
    siteCode: r.site_code,
    kind: r.target_kind,
    status: r.status,
    count: r.count,
  }));
}

interface NewQuery {
  trialId: string;
  id: string;
  participantId: string;
  target: DataQueryRow['target'];
  text: string;
  at: Date;
  byKey: string;
  byRole: string;
}

/**
 * A query raised by an automatic check, unless that check already raised one on the item (the partial unique index
 * decides, so concurrent runs cannot raise it twice); true when it was raised.
 */
export async function insertAutomaticQuery(
  trx: Knex.Transaction,
  row: NewQuery & { check: AutomaticCheck },
): Promise<boolean> {
  const inserted = await trx.raw(
    `INSERT INTO data_queries (trial_id, query_id, participant_id, target_kind, target_id, pointer, status, raised_at,
                               raised_by, status_changed_at, auto_check)
     VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?)
     ON CONFLICT (trial_id, target_kind, target_id, pointer, auto_check) WHERE auto_check IS NOT NULL DO NOTHING
     RETURNING query_id`,
    [
      row.trialId,
      row.id,
      row.participantId,
      row.target.kind,
      row.target.id,
      row.target.pointer,
      row.at,
      row.byKey,
      row.at,
      row.check,
    ],
  );
  if (!(inserted.rows as unknown[]).length) return false;
  await insertMessage(trx, row);
  return true;
}

async function insertMessage(trx: Knex.Transaction, row: NewQuery): Promise<void> {
  await trx('data_query_messages').insert({
    trial_id: row.trialId,
    query_id: row.id,
    seq: 1,
    action: 'raise',
    text: row.text,
    at: row.at,
    by_key: row.byKey,
    by_role: row.byRole,
  });
}

export async function insertQuery(trx: Knex.Transaction, row: NewQuery): Promise<void> {
  await trx('data_queries').insert({
    trial_id: row.trialId,
    query_id: row.id,
    participant_id: row.participantId,
    target_kind: row.target.kind,
    target_id: row.target.id,
    pointer: row.target.pointer,
    status: 'open',
    raised_at: row.at,
    raised_by: row.byKey,
    status_changed_at: row.at,
  });
  await insertMessage(trx, row);
}

/**
 * Moves a locked query from `from` to `to` and appends the message; guarded in SQL on the status read under
 * the lock, so a concurrent action cannot be overwritten.
 */
export async function moveQuery(
  trx: Knex.Transaction,
  trialId: string,
  current: DataQueryRow,
  change: {
    action: QueryAction;
    to: QueryStatus;
    text: string;
    at: Date;
    byKey: string;
    byRole: string;
    viaCorrection: boolean;
  },
): Promise<void> {
  const moved = await trx('data_queries')
    .where({ trial_id: trialId, query_id: current.id, status: current.status })
    .update({ status: change.to, status_changed_at: change.at });
  if (moved !== 1) throw new Error(`query ${current.id} changed under its lock`);
  await trx('data_query_messages').insert({
    trial_id: trialId,
    query_id: current.id,
    seq: current.messages.length + 1,
    action: change.action,
    text: change.text,
    at: change.at,
    by_key: change.byKey,
    by_role: change.byRole,
    via_correction: change.viaCorrection,
  });
}
