import type { Knex } from 'knex';
import type { Executor } from '../../db/database';
import type { components } from '../../generated/openapi';
import type { Actor } from '../../core/principal';
import { ChainFinding, firstInChainOrder, LaneEnd, laneEndFindings, TRIAL_CHAIN_LANES } from './audit-chain';

export type AuditEventView = components['schemas']['AuditEvent'];
export type AuditChainVerification = components['schemas']['AuditChainVerification'];

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
  /** Absent in system_audit_events (one lane). */
  chain_lane?: number;
  chain_seq: number;
  previous_hash: Buffer | Uint8Array | null;
  row_hash: Buffer | Uint8Array;
}

const hex = (bytes: Buffer | Uint8Array | null): string | null =>
  bytes === null ? null : Buffer.from(bytes).toString('hex');

function toJsonb(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

/**
 * A trial's audit row as one INSERT statement with `?` bindings, for a repository that writes it together with the
 * change it describes in one data-modifying CTE (one round trip fewer while that change's locks are held). The
 * row is the one insertAuditEvent writes; the chain trigger links it the same way.
 */
export interface AuditStatement {
  sql: string;
  bindings: Knex.RawBinding[];
}

export function auditEventStatement(actor: Actor, entry: AuditEntry & { trialId: string }): AuditStatement {
  return {
    sql: `INSERT INTO audit_events (trial_id, actor_key_id, actor_role, action, entity_type, entity_id, before, after,
       reason, request_id) VALUES (?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?)`,
    bindings: [
      entry.trialId,
      actor.keyId,
      actor.role,
      entry.action,
      entry.entityType,
      entry.entityId,
      toJsonb(entry.before),
      toJsonb(entry.after),
      entry.reason ?? null,
      actor.requestId,
    ],
  };
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
  /** Newest first; "after" then means older than afterId. */
  newestFirst?: boolean;
  limit: number;
}

/** Fetches limit + 1 rows in trail order, so the caller can tell whether another page follows. */
export async function listAuditEvents(db: Executor, query: AuditQuery): Promise<AuditRow[]> {
  const builder =
    query.trialId === null ? db('system_audit_events') : db('audit_events').where('trial_id', query.trialId);
  if (query.entityType !== undefined) builder.where('entity_type', query.entityType);
  if (query.entityId !== undefined) builder.where('entity_id', query.entityId);
  if (query.afterId !== undefined) builder.where('id', query.newestFirst ? '<' : '>', query.afterId);
  return builder
    .orderBy('id', query.newestFirst ? 'desc' : 'asc')
    .limit(query.limit + 1)
    .select<AuditRow[]>('*');
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
    lane: row.chain_lane ?? 0,
    sequence: row.chain_seq,
    previousHash: hex(row.previous_hash),
    hash: hex(row.row_hash)!,
  };
}

export interface LaneHead {
  lane: number;
  chain_seq: number;
  id: number;
  row_hash: string;
}

export interface ChainWalk {
  rowsChecked: number;
  /** The last row of each lane, by lane. */
  lanes: LaneHead[];
  /** The newest row of the trail (highest id). */
  newest: LaneHead | null;
  firstBroken: ChainFinding | null;
}

/**
 * Recomputes one audit chain in the database in a single pass (window over each lane in chain order): each row's
 * hash from its content and the stored previous hash, each row's link to the row before it in its lane, gaps in the
 * lane's sequence, and each lane's recorded head against its last row. Returns the first failure in chain order.
 */
export async function walkAuditChain(db: Executor, trialId: string | null): Promise<ChainWalk> {
  const rowsOf =
    trialId === null
      ? `(SELECT *, 0::smallint AS chain_lane, 'system'::text AS chain_label FROM system_audit_events) t`
      : `(SELECT *, audit_chain_label(trial_id, chain_lane) AS chain_label FROM audit_events WHERE trial_id = :trialId) t`;
  const heads =
    trialId === null
      ? `SELECT 0::smallint AS lane, last_seq, last_hash FROM system_audit_chain_head WHERE chain = 'system' AND last_seq > 0`
      : `SELECT lane, last_seq, last_hash FROM audit_chain_heads WHERE trial_id = :trialId`;
  const { rows } = await db.raw(
    `WITH chain AS (
       SELECT id, chain_lane AS lane, chain_seq, previous_hash, row_hash,
              lag(row_hash) OVER w AS prior_hash,
              coalesce(lag(chain_seq) OVER w, 0) AS prior_seq,
              audit_chain_hash(previous_hash, audit_chain_payload(chain_label, chain_seq, id, occurred_at, actor_key_id,
                actor_role, action, entity_type, entity_id, before, after, reason, request_id)) AS recomputed
         FROM ${rowsOf}
       WINDOW w AS (PARTITION BY chain_lane ORDER BY chain_seq)
     ),
     findings AS (
       SELECT lane, chain_seq, id,
              CASE WHEN chain_seq <> prior_seq + 1 THEN 'sequence-gap'
                   WHEN previous_hash IS DISTINCT FROM prior_hash THEN 'previous-hash-mismatch'
                   WHEN recomputed <> row_hash THEN 'content-altered' END AS problem,
              CASE WHEN chain_seq <> prior_seq + 1 OR previous_hash IS DISTINCT FROM prior_hash THEN prior_hash ELSE recomputed END AS expected,
              CASE WHEN chain_seq <> prior_seq + 1 OR previous_hash IS DISTINCT FROM prior_hash THEN previous_hash ELSE row_hash END AS stored
         FROM chain
     ),
     last_rows AS (SELECT DISTINCT ON (lane) lane, id, chain_seq, row_hash FROM chain ORDER BY lane, chain_seq DESC),
     recorded AS (${heads}),
     ends AS (
       SELECT coalesce(l.lane, r.lane)::int AS lane, l.id, l.chain_seq, encode(l.row_hash, 'hex') AS row_hash,
              r.last_seq AS recorded_seq, encode(r.last_hash, 'hex') AS recorded_hash
         FROM last_rows l FULL JOIN recorded r ON r.lane = l.lane
     )
     SELECT (SELECT count(*) FROM chain) AS rows_checked,
            (SELECT coalesce(json_agg(e ORDER BY e.lane), '[]') FROM ends e) AS ends,
            (SELECT row_to_json(n) FROM (
               SELECT lane::int, id, chain_seq, encode(row_hash, 'hex') AS row_hash FROM chain ORDER BY id DESC LIMIT 1) n) AS newest,
            (SELECT row_to_json(f) FROM (
               SELECT lane::int, chain_seq, id, problem, encode(expected, 'hex') AS expected, encode(stored, 'hex') AS stored
                 FROM findings WHERE problem IS NOT NULL ORDER BY lane, chain_seq LIMIT 1) f) AS first_broken`,
    trialId === null ? {} : { trialId },
  );
  const result = rows[0] as {
    rows_checked: number | string;
    ends: LaneEnd[];
    newest: LaneHead | null;
    first_broken: ChainFinding | null;
  };
  const candidates = laneEndFindings(result.ends, trialId === null ? 1 : TRIAL_CHAIN_LANES);
  if (result.first_broken) candidates.push(result.first_broken);
  return {
    rowsChecked: Number(result.rows_checked),
    lanes: result.ends.flatMap((end) =>
      end.id === null || end.chain_seq === null || end.row_hash === null
        ? []
        : [{ lane: end.lane, chain_seq: end.chain_seq, id: end.id, row_hash: end.row_hash }],
    ),
    newest: result.newest,
    firstBroken: firstInChainOrder(candidates),
  };
}
