import type { Executor } from '../../db/database';
import type { Actor } from '../../core/principal';
import { AuditEntry, AuditStatement, auditEventStatement, insertAuditEvent } from './audit.repo';

export type { AuditStatement };

/**
 * Writes one audit row. Every feature records its changes through this function, inside the transaction of
 * the change it describes, so that the row exists exactly when the change committed.
 */
export async function recordAudit(trx: Executor, actor: Actor, entry: AuditEntry): Promise<void> {
  await insertAuditEvent(trx, actor, entry);
}

/**
 * The same row as recordAudit, as a statement for the change's repository to run in the change's own statement
 * (a data-modifying CTE), so that it is still written inside the change's transaction, by the same trigger.
 */
export function auditStatement(actor: Actor, entry: AuditEntry & { trialId: string }): AuditStatement {
  return auditEventStatement(actor, entry);
}
