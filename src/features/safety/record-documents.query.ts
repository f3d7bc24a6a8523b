import type { Executor } from '../../db/database';

/**
 * Read model across the features that own recorded data: the kinds of record a data query or a source-data
 * verification can address, the table (with its id column) each lives in, and each record as a document — its
 * stored fields under camelCase names (JSON columns such as `values` and `baseline` as stored), without
 * book-keeping columns and without any arm, so that blinded keys may read it.
 */
export const RECORD_KINDS = {
  participant: { table: 'participants', id: 'participant_id' },
  consent: { table: 'consents', id: 'consent_id' },
  event: { table: 'participant_events', id: 'event_id' },
  assessment: { table: 'assessments', id: 'assessment_id' },
  adverse_event: { table: 'adverse_events', id: 'adverse_event_id' },
  session: { table: 'delivery_sessions', id: 'session_id' },
} as const;

export type RecordKind = keyof typeof RECORD_KINDS;

/** Columns that are not recorded data: keys, counters, times and keys of the writer, the arm. */
const NOT_DATA = new Set([
  'trial_id',
  'label_key',
  'created_at',
  'recorded_at',
  'recorded_by',
  'corrections',
  'revision',
  'updated_at',
  'case_worker_arm',
]);

export interface RecordDocument {
  kind: RecordKind;
  id: string;
  participantId: string;
  siteCode: string;
  document: Record<string, unknown>;
}

const camel = (column: string) => column.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

function documentOf(row: Record<string, unknown>): Record<string, unknown> {
  const document: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(row)) if (!NOT_DATA.has(column)) document[camel(column)] = value;
  return document;
}

/**
 * Records of one kind as documents: those named by `ids`, or all of the trial's (in id order), limited to the
 * given sites when `siteCodes` is not null.
 */
export async function findRecordDocuments(
  db: Executor,
  trialId: string,
  kind: RecordKind,
  filter: { ids?: readonly string[]; siteCodes: readonly string[] | null },
): Promise<RecordDocument[]> {
  const { table, id: idColumn } = RECORD_KINDS[kind];
  const q = db({ r: table })
    .join('participants as p', function () {
      this.on('p.trial_id', 'r.trial_id').andOn('p.participant_id', 'r.participant_id');
    })
    .where('r.trial_id', trialId)
    .select({ id: `r.${idColumn}`, participant_id: 'p.participant_id', site_code: 'p.site_code' })
    .select(db.raw('to_jsonb(r) AS doc'))
    .orderBy(`r.${idColumn}`);
  if (filter.ids !== undefined) q.whereIn(`r.${idColumn}`, filter.ids);
  if (filter.siteCodes !== null) q.whereIn('p.site_code', filter.siteCodes);
  const rows = (await q) as { id: string; participant_id: string; site_code: string; doc: Record<string, unknown> }[];
  return rows.map((r) => ({
    kind,
    id: r.id,
    participantId: r.participant_id,
    siteCode: r.site_code,
    document: documentOf(r.doc),
  }));
}

/** One record as a document, or undefined when the trial has no such record (or the sites given do not hold it). */
export async function findRecordDocument(
  db: Executor,
  trialId: string,
  kind: RecordKind,
  id: string,
  siteCodes: readonly string[] | null,
): Promise<RecordDocument | undefined> {
  return (await findRecordDocuments(db, trialId, kind, { ids: [id], siteCodes }))[0];
}
