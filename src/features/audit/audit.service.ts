import type { Knex } from 'knex';
import { decodeCursor, Page, toPage } from '../../http/pagination';
import { AuditEventView, listAuditEvents, toAuditEventView } from './audit.repo';

export interface AuditFilter {
  entityType?: string;
  entityId?: string;
  after?: string;
  limit?: number;
}

const isAuditCursor = (value: unknown): value is { id: number } =>
  typeof value === 'object' && value !== null && Number.isSafeInteger((value as { id?: unknown }).id);

/** The trail of one trial, or (trialId null) of changes that belong to no trial. */
export async function readAuditTrail(db: Knex, trialId: string | null, filter: AuditFilter): Promise<Page<AuditEventView>> {
  const limit = filter.limit ?? 50;
  const afterId = filter.after === undefined ? undefined : decodeCursor(filter.after, isAuditCursor, 'after').id;
  const rows = await listAuditEvents(db, { trialId, entityType: filter.entityType, entityId: filter.entityId, afterId, limit });
  return toPage(rows, limit, toAuditEventView, (row) => ({ id: row.id }));
}
