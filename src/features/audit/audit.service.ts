import type { Executor } from '../../db/database';
import type { Actor } from '../../core/principal';
import { AuditEntry, insertAuditEvent } from './audit.repo';

/**
 * Writes one audit row. Every feature records its changes through this function, inside the transaction of
 * the change it describes, so that the row exists exactly when the change committed.
 */
export async function recordAudit(trx: Executor, actor: Actor, entry: AuditEntry): Promise<void> {
  await insertAuditEvent(trx, actor, entry);
}
