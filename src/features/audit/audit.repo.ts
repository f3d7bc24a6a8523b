import type { Executor } from '../../db/database';
import type { components } from '../../generated/openapi';
import type { Actor } from '../../http/auth';

export type AuditEventView = components['schemas']['AuditEvent'];


export interface AuditEntry {
  /** null for changes that belong to no trial (API keys); they go to system_audit_events. */
  trialId: string | null;
  action: string;
  entityType: string;
  entityId: string;
  before: unknown;
  after: unknown;
  reason?: string | null;
}

interface AuditRow {
  trial_id?: string;
  id: number;
  occurred_at: Date;
  actor_key_id: string | null;
  actor_role: string;
  action: string;
  entity_type: string;
  entity_id: string;
  before: unknown;
  after: unknown;
  reason: string | null;
  request_id: string | null;
}

function toJsonb(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

export async function insertAuditEvent(db: Executor, actor: Actor, entry: AuditEntry): Promise<void> {
  const row = {
    actor_key_id: actor.keyId,
    actor_role: actor.role,
    action: entry.action,
    entity_type: entry.entityType,
    entity_id: entry.entityId,
    before: toJsonb(entry.before),
    after: toJsonb(entry.after),
    reason: entry.reason ?? null,
    request_id: actor.requestId,
  };
  if (entry.trialId === null) await db('system_audit_events').insert(row);
  else await db('audit_events').insert({ trial_id: entry.trialId, ...row });
}

export interface AuditQuery {
  trialId: string | null;
  entityType?: string;
  entityId?: string;
  afterId?: number;
  limit: number;
}

/** Fetches limit + 1 rows in trail order, so the caller can tell whether another page follows. */
export async function listAuditEvents(db: Executor, query: AuditQuery): Promise<AuditRow[]> {
  const builder = query.trialId === null ? db('system_audit_events') : db('audit_events').where('trial_id', query.trialId);
  if (query.entityType !== undefined) builder.where('entity_type', query.entityType);
  if (query.entityId !== undefined) builder.where('entity_id', query.entityId);
  if (query.afterId !== undefined) builder.where('id', '>', query.afterId);
  return builder.orderBy('id').limit(query.limit + 1).select<AuditRow[]>('*');
}

export function toAuditEventView(row: AuditRow): AuditEventView {
  return {
    id: String(row.id),
    trialId: row.trial_id ?? null,
    occurredAt: row.occurred_at.toISOString(),
    actor: { keyId: row.actor_key_id, role: row.actor_role },
    action: row.action,
    entityType: row.entity_type,
    entityId: row.entity_id,
    before: row.before,
    after: row.after,
    reason: row.reason,
    requestId: row.request_id,
  };
}
