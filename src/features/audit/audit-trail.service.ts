/* Reading and verifying the audit trail (writing it is audit.service.ts, which every feature uses). */
import { decodeCursor, Page, toPage } from '../../core/pagination';
import type { UseCaseContext } from '../../core/use-case-context';
import { ValidationError } from '../../core/errors';
import { loadTrial } from '../trials/trials.service';
import {
  AuditChainVerification,
  AuditEventView,
  LaneHead,
  listAuditEvents,
  toAuditEventView,
  walkAuditChain,
} from './audit.repo';

export interface AuditFilter {
  entityType?: string;
  entityId?: string;
  after?: string;
  order?: 'asc' | 'desc';
  limit?: number;
}

/** A cursor of the newest-first order carries `desc`, so that it cannot continue a page of the other order. */
const isAuditCursor = (value: unknown): value is { id: number; desc?: true } =>
  typeof value === 'object' &&
  value !== null &&
  Number.isSafeInteger((value as { id?: unknown }).id) &&
  [undefined, true].includes((value as { desc?: unknown }).desc as true | undefined);

/** The trail of one trial, or (trialId null) of changes that belong to no trial. */
export async function readAuditTrail(
  ctx: UseCaseContext,
  input: { trialId: string | null; filter: AuditFilter },
): Promise<Page<AuditEventView>> {
  const { db } = ctx;
  const { trialId, filter } = input;
  if (trialId !== null) await loadTrial(ctx, trialId);
  const limit = filter.limit ?? 50;
  const newestFirst = filter.order === 'desc';
  const cursor = filter.after === undefined ? undefined : decodeCursor(filter.after, isAuditCursor, 'after');
  if (cursor && (cursor.desc === true) !== newestFirst)
    throw new ValidationError([
      { pointer: '/query/after', detail: `is a cursor of the other order (order=${newestFirst ? 'asc' : 'desc'})` },
    ]);
  const rows = await listAuditEvents(db, {
    trialId,
    entityType: filter.entityType,
    entityId: filter.entityId,
    afterId: cursor?.id,
    newestFirst,
    limit,
  });
  const page = toPage(rows, limit, toAuditEventView, (row) =>
    newestFirst ? { id: row.id, desc: true as const } : { id: row.id },
  );
  if (trialId === null) return page;
  // Before and after are free-form records of the change; arms in them are shown through the caller's labeller.
  const labeller = await ctx.armLabeller(trialId);
  return {
    ...page,
    items: page.items.map((event) => ({
      ...event,
      before: labeller.payload(event.before),
      after: labeller.payload(event.after),
    })),
  };
}

const DESCRIPTIONS = {
  'content-altered': "the stored hash does not match the row's content: the row was changed after it was written",
  'previous-hash-mismatch':
    'the row does not point at the hash of the row before it: a row before it was changed, removed or inserted',
  'sequence-gap': 'chain positions are missing before this row: rows were removed',
  'missing-rows-at-end': "the lane's head records more rows than the trail holds: rows were removed from the end",
  'lane-missing': "the lane's head is missing: the lane, or its end, was removed",
} as const;

const headView = (head: LaneHead) => ({
  lane: head.lane,
  sequence: Number(head.chain_seq),
  eventId: String(head.id),
  hash: head.row_hash,
});

/** Recomputes the hash chain of a trial's trail (or, trialId null, of the system trail). */
export async function verifyAuditChain(
  ctx: UseCaseContext,
  input: { trialId: string | null },
): Promise<AuditChainVerification> {
  const { trialId } = input;
  if (trialId !== null) await loadTrial(ctx, trialId);
  const walk = await walkAuditChain(ctx.db, trialId);
  const broken = walk.firstBroken;
  return {
    chain: trialId === null ? 'system' : 'trial',
    trialId,
    verifiedAt: ctx.now().toISOString(),
    valid: broken === null,
    rowsChecked: walk.rowsChecked,
    head: walk.newest ? headView(walk.newest) : null,
    lanes: walk.lanes.map(headView),
    firstBrokenLink: broken
      ? {
          lane: broken.lane,
          sequence: broken.chain_seq,
          eventId: broken.id === null ? null : String(broken.id),
          problem: broken.problem,
          detail: `Audit chain broken at position ${broken.chain_seq}${broken.lane === 0 ? '' : ` of lane ${broken.lane}`}${broken.id === null ? '' : ` (event ${broken.id})`}: ${DESCRIPTIONS[broken.problem]}.`,
          expectedHash: broken.expected,
          storedHash: broken.stored,
        }
      : null,
  };
}
