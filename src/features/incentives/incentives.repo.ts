import type { Knex } from 'knex';
import type { Executor } from '../../db/database';
import type { components } from '../../generated/openapi';
import type { TimeOrderedCursor } from '../../core/pagination';
import { EntryJson, entryJsonSql, toEntryView } from './entry-json';
import { fromMinorUnits, toMinorUnits } from '../trials/trials';

type IncentiveType = components['schemas']['IncentiveType'];

type IncentiveEntry = components['schemas']['IncentiveEntry'];
type IncentiveTotals = components['schemas']['IncentiveTotals'];

/** A ledger entry as JSON, built in SQL; shared by the participant view and the ledger listing. */
export interface NewEntry {
  trialId: string;
  entryId: string;
  participantId: string;
  incentive: string;
  kind: 'issue' | 'void';
  amountMinor: number;
  currency: string;
  issuedOn: string;
  reference: string | null;
  note: string | null;
  voids: string | null;
  reason: string | null;
  recordedBy: string;
}

export async function insertEntry(trx: Knex.Transaction, e: NewEntry): Promise<void> {
  await trx('incentive_ledger').insert({
    trial_id: e.trialId,
    entry_id: e.entryId,
    participant_id: e.participantId,
    incentive_code: e.incentive,
    kind: e.kind,
    amount_minor: e.amountMinor,
    currency: e.currency,
    issued_on: e.issuedOn,
    reference: e.reference,
    note: e.note,
    voids_entry_id: e.voids,
    reason: e.reason,
    recorded_by: e.recordedBy,
  });
}

export async function findEntry(db: Executor, trialId: string, entryId: string): Promise<IncentiveEntry | undefined> {
  const row = await db('incentive_ledger as l')
    .where({ 'l.trial_id': trialId, 'l.entry_id': entryId })
    .first(db.raw(`${entryJsonSql()} AS entry`));
  return row && toEntryView(row.entry);
}

export async function findIncentiveType(
  db: Executor,
  trialId: string,
  code: string,
): Promise<{ amount_minor: number; currency: string; roles: string[]; max_per_participant: number } | undefined> {
  return db('incentive_types')
    .where({ trial_id: trialId, code })
    .first('amount_minor', 'currency', 'roles', 'max_per_participant');
}

export async function countLiveIssues(
  trx: Knex.Transaction,
  trialId: string,
  participantId: string,
  incentive: string,
): Promise<number> {
  const row = await trx('incentive_ledger as l')
    .where({
      'l.trial_id': trialId,
      'l.participant_id': participantId,
      'l.incentive_code': incentive,
      'l.kind': 'issue',
    })
    .whereNotExists(trx('incentive_ledger as v').whereRaw('v.trial_id = l.trial_id AND v.voids_entry_id = l.entry_id'))
    .count<{ n: number }[]>('* as n')
    .first();
  return Number(row?.n ?? 0);
}

/** The incentive types a trial's set-up defines, replacing those it had (set-up only: nothing issued yet). */
export async function replaceTrialIncentiveTypes(
  trx: Knex.Transaction,
  trialId: string,
  types: IncentiveType[],
): Promise<void> {
  await trx('incentive_types').where({ trial_id: trialId }).delete();
  if (!types.length) return;
  await trx('incentive_types').insert(
    types.map((i, position) => ({
      trial_id: trialId,
      code: i.code,
      description: i.description,
      amount_minor: toMinorUnits(i.amount, i.currency),
      currency: i.currency,
      roles: i.roles,
      max_per_participant: i.maxPerParticipant,
      occasion: i.occasion ?? null,
      position,
    })),
  );
}

export async function insertIncentiveType(
  trx: Knex.Transaction,
  trialId: string,
  t: {
    code: string;
    description: string;
    amountMinor: number;
    currency: string;
    roles: string[];
    maxPerParticipant: number;
    occasion: string | null;
  },
): Promise<void> {
  await trx('incentive_types').insert({
    trial_id: trialId,
    code: t.code,
    description: t.description,
    amount_minor: t.amountMinor,
    currency: t.currency,
    roles: t.roles,
    max_per_participant: t.maxPerParticipant,
    occasion: t.occasion,
    position: trx.raw('(SELECT coalesce(max(position), -1) + 1 FROM incentive_types WHERE trial_id = ?)', [trialId]),
  });
}

export interface LedgerQuery {
  trialId: string;
  siteCodes: string[] | null;
  siteCode?: string;
  participantId?: string;
  from?: string;
  to?: string;
  limit: number | null;
  after?: TimeOrderedCursor;
}

export async function listEntries(
  db: Executor,
  q: LedgerQuery,
): Promise<{ entry: IncentiveEntry; cursor: TimeOrderedCursor }[]> {
  const builder = db('incentive_ledger as l')
    .join('participants as p', function joinParticipant() {
      this.on('p.trial_id', 'l.trial_id').andOn('p.participant_id', 'l.participant_id');
    })
    .where('l.trial_id', q.trialId)
    .select(db.raw(`${entryJsonSql()} AS entry`), db.raw('l.recorded_at::text AS recorded_at_text'), 'l.entry_id')
    .orderBy([{ column: 'l.recorded_at' }, { column: 'l.entry_id' }]);
  if (q.siteCodes) builder.whereIn('p.site_code', q.siteCodes);
  if (q.siteCode) builder.where('p.site_code', q.siteCode);
  if (q.participantId) builder.where('l.participant_id', q.participantId);
  if (q.from) builder.where('l.issued_on', '>=', q.from);
  if (q.to) builder.where('l.issued_on', '<=', q.to);
  if (q.after) builder.whereRaw('(l.recorded_at, l.entry_id) > (?::timestamptz, ?::uuid)', [q.after.at, q.after.id]);
  if (q.limit !== null) builder.limit(q.limit + 1);
  const rows: { entry: EntryJson; recorded_at_text: string; entry_id: string }[] = await builder;
  return rows.map((row) => ({ entry: toEntryView(row.entry), cursor: { at: row.recorded_at_text, id: row.entry_id } }));
}

type Grouping = 'type' | 'site' | 'arm';

/**
 * Totals by type, by site and by arm in one aggregation (GROUPING SETS). Issued entries count whether
 * or not they were voided; voided ones are also counted apart, and net = issued − voided.
 */
export async function summarize(
  db: Executor,
  trialId: string,
  siteCodes: string[] | null,
): Promise<{ grouping: Grouping; key: string | null; totals: IncentiveTotals }[]> {
  const result = await db.raw(
    `WITH issues AS (
       SELECT l.incentive_code, l.currency, l.amount_minor, p.site_code, a.arm_code,
              EXISTS (SELECT 1 FROM incentive_ledger v WHERE v.trial_id = l.trial_id AND v.voids_entry_id = l.entry_id) AS voided
         FROM incentive_ledger l
         JOIN participants p ON p.trial_id = l.trial_id AND p.participant_id = l.participant_id
         LEFT JOIN allocations a ON a.trial_id = l.trial_id AND a.participant_id = l.participant_id
        WHERE l.trial_id = :trialId AND l.kind = 'issue'
          AND (:sites::jsonb IS NULL OR p.site_code IN (SELECT jsonb_array_elements_text(:sites::jsonb))))
     SELECT CASE WHEN GROUPING(site_code) = 0 THEN 'site' WHEN GROUPING(arm_code) = 0 THEN 'arm' ELSE 'type' END AS grouping,
            CASE WHEN GROUPING(site_code) = 0 THEN site_code WHEN GROUPING(arm_code) = 0 THEN arm_code END AS key,
            incentive_code, currency,
            count(*) AS issued_count, sum(amount_minor) AS issued_minor,
            count(*) FILTER (WHERE voided) AS voided_count, coalesce(sum(amount_minor) FILTER (WHERE voided), 0) AS voided_minor
       FROM issues
      GROUP BY GROUPING SETS ((incentive_code, currency), (site_code, incentive_code, currency), (arm_code, incentive_code, currency))
      ORDER BY 1, 2 NULLS LAST, 3, 4`,
    { trialId, sites: siteCodes === null ? null : JSON.stringify(siteCodes) },
  );
  return result.rows.map((r: Record<string, unknown>) => {
    const currency = String(r.currency);
    const issuedMinor = Number(r.issued_minor);
    const voidedMinor = Number(r.voided_minor);
    return {
      grouping: r.grouping as Grouping,
      key: (r.key as string | null) ?? null,
      totals: {
        incentive: String(r.incentive_code),
        currency,
        issuedCount: Number(r.issued_count),
        issuedAmount: fromMinorUnits(issuedMinor, currency),
        voidedCount: Number(r.voided_count),
        voidedAmount: fromMinorUnits(voidedMinor, currency),
        netCount: Number(r.issued_count) - Number(r.voided_count),
        netAmount: fromMinorUnits(issuedMinor - voidedMinor, currency),
      },
    };
  });
}
