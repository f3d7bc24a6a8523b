import type { Knex } from 'knex';
import type { ElectronicSignature } from '../../core/electronic-signature';
import type { Executor } from '../../db/database';
import type { components } from '../../generated/openapi';
import type { BlockPosition } from './permuted-blocks';

type AllocationView = components['schemas']['Allocation'];
type AllocationRecord = components['schemas']['AllocationRecord'];

export interface StratumCursor {
  allocated: number;
  currentBlock: BlockPosition | null;
}

/**
 * Claims the stratum's next sequence number in one statement: creates the cursor on first use, or advances it, and
 * locks it until commit (allocations within one stratum are serialised; an aborted transaction gives its number
 * back, so sequences stay gap-free). Returns the claimed number and the block the cursor was in before it.
 */
export async function claimNextSequence(
  trx: Knex.Transaction,
  trialId: string,
  stratumKey: string,
): Promise<{ sequenceNumber: number; currentBlock: BlockPosition | null }> {
  const { rows } = await trx.raw(
    `INSERT INTO randomization_strata AS s (trial_id, stratum_key, allocated) VALUES (?, ?, 1)
     ON CONFLICT (trial_id, stratum_key) DO UPDATE SET allocated = s.allocated + 1
     RETURNING s.allocated, s.block_number, s.block_size, s.block_start_sequence`,
    [trialId, stratumKey],
  );
  const row = rows[0] as {
    allocated: number;
    block_number: number | null;
    block_size: number | null;
    block_start_sequence: number | null;
  };
  return {
    sequenceNumber: row.allocated,
    currentBlock:
      row.block_number === null
        ? null
        : { blockNumber: row.block_number, blockSize: row.block_size!, blockStartSequence: row.block_start_sequence! },
  };
}

export interface NewAllocation {
  trialId: string;
  allocationId: string;
  participantId: string;
  stratumKey: string;
  stratum: Record<string, string>;
  sequenceNumber: number;
  blockNumber: number | null;
  blockSize: number | null;
  positionInBlock: number | null;
  arm: string;
  randomizedBy: string | null;
  /** The use case's "now" (ctx.now()), so that visit windows counted from it are testable without waiting. */
  randomizedAt: Date;
  /** The history import that wrote it (the arm came from the previous system); absent when trialdesk randomized. */
  importId?: string;
  /** The signed-in person's electronic signature (21 CFR 11.200); null when an API key randomized. */
  signature: ElectronicSignature | null;
}

interface AllocationRow {
  allocation_id: string;
  participant_id: string;
  stratum_key: string;
  stratum: Record<string, string>;
  sequence_number: number;
  block_number: number | null;
  block_size: number | null;
  position_in_block: number | null;
  arm_code: string;
  randomized_at: Date;
  error_reason: string | null;
  error_flagged_at: Date | null;
  import_id: string | null;
}

/**
 * Writes the allocation, for permuted blocks the block the stratum's cursor is now in, and the audit row the
 * caller built for it (`audit`, from the audit feature: the chain trigger links it as any other row), in one
 * statement; the cursor row is already locked by claimNextSequence, so after this the transaction holds its locks
 * for COMMIT alone. Returns the allocation as stored.
 */
export async function insertAllocation(
  trx: Knex.Transaction,
  a: NewAllocation,
  block: BlockPosition | null,
  audit: { sql: string; bindings: Knex.RawBinding[] },
): Promise<AllocationView> {
  const allocation = [
    a.trialId,
    a.allocationId,
    a.participantId,
    a.stratumKey,
    JSON.stringify(a.stratum),
    a.sequenceNumber,
    a.blockNumber,
    a.blockSize,
    a.positionInBlock,
    a.arm,
    a.randomizedBy,
    a.randomizedAt,
    a.importId ?? null,
    a.signature && JSON.stringify(a.signature),
  ];
  const insert = `INSERT INTO allocations (trial_id, allocation_id, participant_id, stratum_key, stratum, sequence_number,
       block_number, block_size, position_in_block, arm_code, randomized_by, randomized_at, import_id, signature)
     VALUES (?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb) RETURNING *`;
  const { rows } = block
    ? await trx.raw(
        `WITH audit AS (${audit.sql}), cursor AS (
           UPDATE randomization_strata SET block_number = ?, block_size = ?, block_start_sequence = ?
            WHERE trial_id = ? AND stratum_key = ?
         ) ${insert}`,
        [
          ...audit.bindings,
          block.blockNumber,
          block.blockSize,
          block.blockStartSequence,
          a.trialId,
          a.stratumKey,
          ...allocation,
        ],
      )
    : await trx.raw(`WITH audit AS (${audit.sql}) ${insert}`, [...audit.bindings, ...allocation]);
  return toAllocationView(rows[0] as AllocationRow);
}

/** Why a stratum cannot take an imported allocation at this sequence number, or null when it can. */
export async function importedSlotProblem(
  trx: Knex.Transaction,
  trialId: string,
  stratumKey: string,
  sequenceNumber: number,
): Promise<'slot-taken' | 'stratum-randomized-here' | null> {
  const { rows } = await trx.raw(
    `SELECT bool_or(sequence_number = ?) AS taken, bool_or(import_id IS NULL) AS randomized_here
       FROM allocations WHERE trial_id = ? AND stratum_key = ?`,
    [sequenceNumber, trialId, stratumKey],
  );
  const row = rows[0] as { taken: boolean | null; randomized_here: boolean | null };
  if (row.taken) return 'slot-taken';
  if (row.randomized_here) return 'stratum-randomized-here';
  return null;
}

/**
 * Advances the stratum's cursor past an imported sequence number (creating it on first use), so that the next
 * randomization takes the number after the highest imported one and no slot is used twice. With permuted blocks the
 * cursor's block becomes block 0, spanning sequence numbers 1 to that highest one: permutedBlockSlot then opens block
 * 1 of the seed's stream right after the imported slots. Locks the cursor until commit.
 */
export async function advanceCursorPastImport(
  trx: Knex.Transaction,
  trialId: string,
  stratumKey: string,
  sequenceNumber: number,
  permutedBlocks: boolean,
): Promise<void> {
  await trx.raw(
    `INSERT INTO randomization_strata AS s (trial_id, stratum_key, allocated, block_number, block_size, block_start_sequence)
     VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (trial_id, stratum_key) DO UPDATE SET allocated = greatest(s.allocated, EXCLUDED.allocated),
       block_size = CASE WHEN EXCLUDED.block_number IS NULL THEN s.block_size
                         ELSE greatest(s.allocated, EXCLUDED.allocated) END`,
    [
      trialId,
      stratumKey,
      sequenceNumber,
      permutedBlocks ? 0 : null,
      permutedBlocks ? sequenceNumber : null,
      permutedBlocks ? 1 : null,
    ],
  );
}

/** The allocation a new one will read as once stored (toAllocationView of the row insertAllocation writes). */
export function allocationViewOf(a: NewAllocation): AllocationView {
  return {
    allocationId: a.allocationId,
    participantId: a.participantId,
    arm: a.arm,
    stratum: a.stratum,
    randomizedAt: a.randomizedAt.toISOString(),
    error: null,
  };
}

export function toAllocationView(row: AllocationRow): AllocationView {
  return {
    allocationId: row.allocation_id,
    participantId: row.participant_id,
    arm: row.arm_code,
    stratum: row.stratum,
    randomizedAt: row.randomized_at.toISOString(),
    error:
      row.error_reason === null ? null : { reason: row.error_reason, flaggedAt: row.error_flagged_at!.toISOString() },
  };
}

/** Flags in one guarded statement; undefined when there is no allocation or it was already flagged. */
export async function flagAllocationError(
  trx: Knex.Transaction,
  trialId: string,
  participantId: string,
  reason: string,
): Promise<AllocationView | undefined> {
  const [row] = await trx('allocations')
    .where({ trial_id: trialId, participant_id: participantId })
    .whereNull('error_reason')
    .update({ error_reason: reason, error_flagged_at: trx.fn.now() })
    .returning<AllocationRow[]>('*');
  return row && toAllocationView(row);
}

function toRecord(row: AllocationRow): AllocationRecord {
  return {
    sequenceNumber: row.sequence_number,
    stratum: row.stratum,
    stratumKey: row.stratum_key,
    blockNumber: row.block_number,
    blockSize: row.block_size,
    positionInBlock: row.position_in_block,
    arm: row.arm_code,
    participantId: row.participant_id,
    randomizedAt: row.randomized_at.toISOString(),
    errorFlag: row.error_reason !== null,
  };
}

export async function listAllocationRecords(
  db: Executor,
  trialId: string,
  page: { limit: number; after?: { stratumKey: string; sequenceNumber: number } } | null,
): Promise<{ record: AllocationRecord; levels: Record<string, unknown>; importId: string | null }[]> {
  const builder = db('allocations as a')
    .join('participants as p', function joinParticipant() {
      this.on('p.trial_id', 'a.trial_id').andOn('p.participant_id', 'a.participant_id');
    })
    .where('a.trial_id', trialId)
    .select('a.*', 'p.site_code', 'p.baseline')
    .orderBy([{ column: 'a.stratum_key' }, { column: 'a.sequence_number' }]);
  if (page?.after)
    builder.whereRaw('(a.stratum_key, a.sequence_number) > (?, ?)', [page.after.stratumKey, page.after.sequenceNumber]);
  if (page) builder.limit(page.limit + 1);
  const rows: (AllocationRow & { site_code: string; baseline: Record<string, unknown> })[] = await builder;
  return rows.map((row) => ({
    record: toRecord(row),
    levels: { site: row.site_code, ...row.baseline },
    importId: row.import_id,
  }));
}

/** Allocations so far per factor level and arm, for minimization: counts[factor][level][arm]. */
export async function marginalCounts(
  trx: Knex.Transaction,
  trialId: string,
  factors: string[],
): Promise<Record<string, Record<string, Record<string, number>>>> {
  const counts: Record<string, Record<string, Record<string, number>>> = Object.fromEntries(
    factors.map((f) => [f, {}]),
  );
  if (!factors.length) return counts;
  const selects = factors.map(
    (factor) =>
      `SELECT ?::text AS factor, ${factor === 'site' ? 'p.site_code' : 'p.baseline ->> ?'} AS level, a.arm_code, count(*) AS n
         FROM allocations a JOIN participants p ON p.trial_id = a.trial_id AND p.participant_id = a.participant_id
        WHERE a.trial_id = ? GROUP BY 2, 3`,
  );
  const bindings = factors.flatMap((factor) => (factor === 'site' ? [factor, trialId] : [factor, factor, trialId]));
  const result = await trx.raw(selects.join(' UNION ALL '), bindings);
  for (const row of result.rows as { factor: string; level: string | null; arm_code: string; n: number }[]) {
    if (row.level === null) continue;
    const byLevel = (counts[row.factor]![row.level] ??= {});
    byLevel[row.arm_code] = Number(row.n);
  }
  return counts;
}
