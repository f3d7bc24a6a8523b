import type { Knex } from 'knex';
import type { Executor } from '../../db/database';

/*
 * The only code that touches randomization_secrets (each trial's seed) and allocation_table_rows (the
 * uploaded, concealed allocation list).
 */

export async function findSeed(
  db: Executor,
  trialId: string,
): Promise<{ seed: Buffer; revealedAt: Date | null } | undefined> {
  const row = await db('randomization_secrets')
    .where({ trial_id: trialId })
    .first<{ seed: Buffer; revealed_at: Date | null } | undefined>('seed', 'revealed_at');
  return row && { seed: Buffer.from(row.seed), revealedAt: row.revealed_at };
}

export async function storeSeed(trx: Knex.Transaction, trialId: string, seed: Buffer): Promise<void> {
  await trx('randomization_secrets').insert({ trial_id: trialId, seed }).onConflict('trial_id').merge(['seed']);
}

export async function markSeedRevealed(trx: Knex.Transaction, trialId: string): Promise<Date> {
  const [row] = await trx('randomization_secrets')
    .where({ trial_id: trialId })
    .update({ revealed_at: trx.raw('coalesce(revealed_at, now())') })
    .returning<{ revealed_at: Date }[]>('revealed_at');
  return row!.revealed_at;
}

export async function replaceAllocationTable(
  trx: Knex.Transaction,
  trialId: string,
  rows: { stratumKey: string; stratum: Record<string, string>; stratumPosition: number; arm: string }[],
): Promise<void> {
  await trx('allocation_table_rows').where({ trial_id: trialId }).delete();
  for (let start = 0; start < rows.length; start += 1000) {
    await trx('allocation_table_rows').insert(
      rows.slice(start, start + 1000).map((row, i) => ({
        trial_id: trialId,
        row_index: start + i,
        stratum_key: row.stratumKey,
        stratum: JSON.stringify(row.stratum),
        stratum_position: row.stratumPosition,
        arm_code: row.arm,
      })),
    );
  }
}

export async function findListRow(
  trx: Knex.Transaction,
  trialId: string,
  stratumKey: string,
  position: number,
): Promise<{ arm_code: string } | undefined> {
  return trx('allocation_table_rows')
    .where({ trial_id: trialId, stratum_key: stratumKey, stratum_position: position })
    .first('arm_code');
}

export async function countListRows(db: Executor, trialId: string, stratumKey?: string): Promise<number> {
  const builder = db('allocation_table_rows').where({ trial_id: trialId });
  if (stratumKey !== undefined) builder.where({ stratum_key: stratumKey });
  const row = await builder.count<{ n: number }[]>('* as n').first();
  return Number(row?.n ?? 0);
}

/** Removes the uploaded allocation table of a list trial; returns how many rows it had. */
export async function deleteAllocationTable(trx: Knex.Transaction, trialId: string): Promise<number> {
  // Counted from RETURNING: knex-pglite answers a plain DELETE with the driver's result object, not a count.
  const deleted = await trx('allocation_table_rows').where({ trial_id: trialId }).delete(['row_index']);
  return deleted.length;
}
