import { randomUUID } from 'node:crypto';
import { withTransaction } from '../../db/database';
import type { Executor } from '../../db/database';
import type { UseCaseContext } from '../../core/use-case-context';
import { ValidationError } from '../../core/errors';
import { decodeCursor, Page, toPage } from '../../core/pagination';
import type { components } from '../../generated/openapi';
import { recordAudit } from '../audit/audit.service';
import { loadTrial, lockTrialExclusive, lockTrialShared } from '../trials/trials.service';
import {
  findRecordDocument,
  findRecordDocuments,
  RECORD_KINDS,
  RecordDocument,
  RecordKind,
} from './record-documents.query';
import { fingerprint, pointerCovers, resolvePointer } from './record-items';
import * as repo from './sdv.repo';
import type { SdvMarkRow } from './sdv.repo';

type SdvMark = components['schemas']['SdvMark'];
type SdvMarkInput = components['schemas']['SdvMarkInput'];
type SdvCoverage = components['schemas']['SdvCoverage'];
type SdvKeyItems = components['schemas']['SdvKeyItems'];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const isIdCursor = (v: unknown): v is { id: string } =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as { id?: unknown }).id === 'string' &&
  UUID.test((v as { id: string }).id);

/**
 * Whether a mark still holds, decided when it is read: the value its pointer names now is fingerprinted and compared
 * with the fingerprint kept when it was marked. A correction through any feature changes the value and so clears the
 * mark without that feature knowing about verification.
 */
export function markState(
  mark: Pick<SdvMarkRow, 'pointer' | 'valueHash'>,
  record: RecordDocument | undefined,
): { status: 'verified' | 'cleared'; clearedBecause: 'value_changed' | 'item_removed' | null } {
  const now = record ? resolvePointer(record.document, mark.pointer) : { found: false as const };
  if (!now.found) return { status: 'cleared', clearedBecause: 'item_removed' };
  if (fingerprint(now.value) !== mark.valueHash) return { status: 'cleared', clearedBecause: 'value_changed' };
  return { status: 'verified', clearedBecause: null };
}

function viewOf(mark: SdvMarkRow, record: RecordDocument | undefined): SdvMark {
  return {
    id: mark.id,
    target: { kind: mark.kind, id: mark.recordId, pointer: mark.pointer },
    participantId: mark.participantId,
    siteCode: mark.siteCode,
    verifiedOn: mark.verifiedOn,
    markedAt: mark.markedAt,
    ...markState(mark, record),
  };
}

/** The current documents of the records the marks name, by kind and id. */
async function documentsOf(db: Executor, trialId: string, marks: readonly SdvMarkRow[]) {
  const byKey = new Map<string, RecordDocument>();
  for (const kind of Object.keys(RECORD_KINDS) as RecordKind[]) {
    const ids = [...new Set(marks.filter((m) => m.kind === kind).map((m) => m.recordId))];
    if (!ids.length) continue;
    for (const d of await findRecordDocuments(db, trialId, kind, { ids, siteCodes: null }))
      byKey.set(`${kind}/${d.id}`, d);
  }
  return (m: SdvMarkRow) => byKey.get(`${m.kind}/${m.recordId}`);
}

export async function markVerified(
  ctx: UseCaseContext,
  request: { trialId: string; input: SdvMarkInput },
): Promise<SdvMark> {
  const { trialId, input } = request;
  const pointer = input.target.pointer ?? '';
  if (input.verifiedOn > ctx.now().toISOString().slice(0, 10))
    throw new ValidationError([{ pointer: '/verifiedOn', detail: 'is in the future' }]);
  return withTransaction(ctx.db, async (trx) => {
    await lockTrialShared(trx, trialId);
    const { kind, id: recordId } = input.target;
    const record = await findRecordDocument(trx, trialId, kind, recordId, ctx.principal.siteCodes);
    if (!record)
      throw new ValidationError([
        { pointer: '/target/id', detail: `trial has no ${kind.replace('_', ' ')} ${recordId}` },
      ]);
    const item = resolvePointer(record.document, pointer);
    if (!item.found)
      throw new ValidationError([
        { pointer: '/target/pointer', detail: `names nothing in ${kind.replace('_', ' ')} ${recordId}` },
      ]);
    const before = await repo.findMarkAt(trx, trialId, { kind, recordId, pointer });
    const id = await repo.upsertMark(trx, {
      trialId,
      id: randomUUID(),
      kind,
      recordId,
      pointer,
      participantId: record.participantId,
      verifiedOn: input.verifiedOn,
      valueHash: fingerprint(item.value),
      by: ctx.principal.keyId,
    });
    const mark = viewOf((await repo.findMarkAt(trx, trialId, { kind, recordId, pointer }))!, record);
    await recordAudit(trx, ctx.actor, {
      trialId,
      action: 'sdv.marked',
      entityType: 'sdv_mark',
      entityId: id,
      before: before ? viewOf(before, record) : null,
      after: mark,
    });
    return mark;
  });
}

export async function listVerifications(
  ctx: UseCaseContext,
  request: {
    trialId: string;
    siteCode?: string;
    kind?: RecordKind;
    recordId?: string;
    cursor?: string;
    limit?: number;
  },
): Promise<Page<SdvMark> & { asOf: string }> {
  const { trialId, cursor, limit = 50, ...filter } = request;
  await loadTrial(ctx, trialId);
  const after = cursor === undefined ? undefined : decodeCursor(cursor, isIdCursor).id;
  const rows = await repo.listMarks(ctx.db, trialId, {
    ...filter,
    siteCodes: ctx.principal.siteCodes,
    afterId: after,
    limit: limit + 1,
  });
  const recordOf = await documentsOf(ctx.db, trialId, rows.slice(0, limit));
  const page = toPage(
    rows,
    limit,
    (m) => viewOf(m, recordOf(m)),
    (m) => ({ id: m.id }),
  );
  return { asOf: ctx.now().toISOString(), ...page };
}

/**
 * SDV coverage per site and kind of record: the share of records verified as a whole, and the share of the trial's
 * key items (each key pointer in each record that has it) verified, by a mark on the item or on anything containing
 * it. Marks whose value changed since count as not verified.
 */
export async function getCoverage(ctx: UseCaseContext, request: { trialId: string }): Promise<SdvCoverage> {
  const { trialId } = request;
  await loadTrial(ctx, trialId);
  const siteCodes = ctx.principal.siteCodes;
  const keyItems = await repo.listKeyItems(ctx.db, trialId);
  const marks = await repo.listMarks(ctx.db, trialId, { siteCodes });
  const rows: SdvCoverage['rows'] = [];
  for (const kind of Object.keys(RECORD_KINDS) as RecordKind[]) {
    const records = await findRecordDocuments(ctx.db, trialId, kind, { siteCodes });
    const keys = keyItems.filter((k) => k.kind === kind).map((k) => k.pointer);
    const valid = new Map<string, string[]>();
    const byId = new Map(records.map((r) => [r.id, r]));
    for (const m of marks) {
      if (m.kind !== kind || markState(m, byId.get(m.recordId)).status !== 'verified') continue;
      valid.set(m.recordId, [...(valid.get(m.recordId) ?? []), m.pointer]);
    }
    const bySite = new Map<string, SdvCoverage['rows'][number]>();
    for (const r of records) {
      const row = bySite.get(r.siteCode) ?? {
        siteCode: r.siteCode,
        kind,
        records: 0,
        recordsVerified: 0,
        recordShare: null,
        keyItems: 0,
        keyItemsVerified: 0,
        keyItemShare: null,
      };
      const verified = valid.get(r.id) ?? [];
      row.records += 1;
      if (verified.includes('')) row.recordsVerified += 1;
      for (const key of keys) {
        if (!resolvePointer(r.document, key).found) continue;
        row.keyItems += 1;
        if (verified.some((p) => pointerCovers(p, key))) row.keyItemsVerified += 1;
      }
      bySite.set(r.siteCode, row);
    }
    for (const row of bySite.values()) {
      row.recordShare = row.recordsVerified / row.records;
      row.keyItemShare = row.keyItems ? row.keyItemsVerified / row.keyItems : null;
      rows.push(row);
    }
  }
  rows.sort((a, b) => a.siteCode.localeCompare(b.siteCode) || a.kind.localeCompare(b.kind));
  return { asOf: ctx.now().toISOString(), keyItems, rows };
}

export async function putKeyItems(
  ctx: UseCaseContext,
  request: { trialId: string; input: SdvKeyItems },
): Promise<SdvKeyItems> {
  const { trialId, input } = request;
  const seen = new Set<string>();
  input.items.forEach((item, i) => {
    const key = `${item.kind} ${item.pointer}`;
    if (seen.has(key)) throw new ValidationError([{ pointer: `/items/${i}`, detail: 'is listed twice' }]);
    seen.add(key);
  });
  return withTransaction(ctx.db, async (trx) => {
    await lockTrialExclusive(trx, trialId);
    const before = await repo.listKeyItems(trx, trialId);
    await repo.replaceKeyItems(trx, trialId, input.items);
    const after = { items: await repo.listKeyItems(trx, trialId) };
    await recordAudit(trx, ctx.actor, {
      trialId,
      action: 'sdv.key_items_set',
      entityType: 'sdv_key_items',
      entityId: trialId,
      before: { items: before },
      after,
    });
    return after;
  });
}
