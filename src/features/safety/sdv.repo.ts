import type { Knex } from 'knex';
import type { Executor } from '../../db/database';
import type { RecordKind } from './record-documents.query';

/** A source-data verification mark as stored, with the site of its participant. */
export interface SdvMarkRow {
  id: string;
  kind: RecordKind;
  recordId: string;
  pointer: string;
  participantId: string;
  siteCode: string;
  verifiedOn: string;
  valueHash: string;
  markedAt: string;
}

interface SdvMarkDbRow {
  sdv_id: string;
  kind: RecordKind;
  record_id: string;
  pointer: string;
  participant_id: string;
  site_code: string;
  verified_on: string;
  value_hash: string;
  marked_at: Date;
}

const toRow = (r: SdvMarkDbRow): SdvMarkRow => ({
  id: r.sdv_id,
  kind: r.kind,
  recordId: r.record_id,
  pointer: r.pointer,
  participantId: r.participant_id,
  siteCode: r.site_code,
  verifiedOn: r.verified_on,
  valueHash: r.value_hash,
  markedAt: r.marked_at.toISOString(),
});

/**
 * Marks an item verified, or marks it again (a new day, the value as it is now) when it already carries a mark;
 * returns the mark as it was before, if any.
 */
export async function upsertMark(
  trx: Knex.Transaction,
  mark: {
    trialId: string;
    id: string;
    kind: RecordKind;
    recordId: string;
    pointer: string;
    participantId: string;
    verifiedOn: string;
    valueHash: string;
    by: string;
  },
): Promise<string> {
  const row = {
    trial_id: mark.trialId,
    sdv_id: mark.id,
    kind: mark.kind,
    record_id: mark.recordId,
    pointer: mark.pointer,
    participant_id: mark.participantId,
    verified_on: mark.verifiedOn,
    value_hash: mark.valueHash,
    verified_by: mark.by,
  };
  const [saved] = await trx('sdv_marks')
    .insert(row)
    .onConflict(['trial_id', 'kind', 'record_id', 'pointer'])
    .merge({
      verified_on: row.verified_on,
      value_hash: row.value_hash,
      verified_by: row.verified_by,
      marked_at: trx.raw('clock_timestamp()'),
    })
    .returning('sdv_id');
  return (saved as { sdv_id: string }).sdv_id;
}

export async function findMarkAt(
  db: Executor,
  trialId: string,
  at: { kind: RecordKind; recordId: string; pointer: string },
): Promise<SdvMarkRow | undefined> {
  const rows = await listMarks(db, trialId, { siteCodes: null, ...at, limit: 1 });
  return rows[0];
}

export interface SdvMarkFilter {
  siteCodes: readonly string[] | null;
  siteCode?: string;
  kind?: RecordKind;
  recordId?: string;
  pointer?: string;
  /** Keyset: marks after this id. */
  afterId?: string;
  limit?: number;
}

/** Marks in id order (the cursor's order), limited to the given sites. */
export async function listMarks(db: Executor, trialId: string, filter: SdvMarkFilter): Promise<SdvMarkRow[]> {
  const q = db({ m: 'sdv_marks' })
    .join('participants as p', function () {
      this.on('p.trial_id', 'm.trial_id').andOn('p.participant_id', 'm.participant_id');
    })
    .where('m.trial_id', trialId)
    .select('m.*', 'p.site_code')
    .orderBy('m.sdv_id');
  if (filter.siteCodes !== null) q.whereIn('p.site_code', filter.siteCodes);
  if (filter.siteCode !== undefined) q.andWhere('p.site_code', filter.siteCode);
  if (filter.kind !== undefined) q.andWhere('m.kind', filter.kind);
  if (filter.recordId !== undefined) q.andWhere('m.record_id', filter.recordId);
  if (filter.pointer !== undefined) q.andWhere('m.pointer', filter.pointer);
  if (filter.afterId !== undefined) q.andWhere('m.sdv_id', '>', filter.afterId);
  if (filter.limit !== undefined) q.limit(filter.limit);
  return ((await q) as SdvMarkDbRow[]).map(toRow);
}

export async function listKeyItems(db: Executor, trialId: string): Promise<{ kind: RecordKind; pointer: string }[]> {
  return db('sdv_key_items')
    .where({ trial_id: trialId })
    .orderBy(['kind', 'pointer'])
    .select('kind', 'pointer') as Promise<{ kind: RecordKind; pointer: string }[]>;
}

export async function replaceKeyItems(
  trx: Knex.Transaction,
  trialId: string,
  items: readonly { kind: RecordKind; pointer: string }[],
): Promise<void> {
  await trx('sdv_key_items').where({ trial_id: trialId }).delete();
  if (items.length) await trx('sdv_key_items').insert(items.map((i) => ({ trial_id: trialId, ...i })));
}
