/**
 * Bulk loader for read-model benchmarks (CONSORT, baseline tables): fills one active trial with
 * `participants` service users and their consents, withdrawals, allocations and stratum cursors,
 * straight into the tables, far faster than the API could (100k participants in seconds, not hours).
 *
 * - Multi-row INSERTs of `chunkRows` rows, `batchParticipants` participants per transaction; each
 *   transaction carries a participant with everything that refers to it and moves the stratum
 *   cursors forward, so every committed state satisfies the schema and the service's invariants
 *   (a randomized participant is eligible with a granted current consent; sequence numbers are
 *   1..allocated per stratum; blocks of 4 are balanced 1:1).
 * - The mix is fixed by a seeded PRNG (`seed`), so a size always loads the same population:
 *   ~10% ineligible (one failed criterion), of the eligible ~85% consent, ~7% decline, the rest
 *   undecided; ~95% of consenters are randomized; ~4% of the randomized withdraw afterwards;
 *   half of the consenters also sign the optional audio form.
 * - Not loaded: audit rows and idempotency keys (no read model reads them). Allocations are not
 *   the trial's seeded sequence: `scripts/verify-allocations.py` would reject them, by design.
 *
 * The trial must be active and use `benchTrialInput()` (forms `trial` and `audio` at 1.0,
 * stratified by site); sites are read from it.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Knex } from 'knex';
import { stratumKey } from '../../src/features/randomization/stratum-key';
import { DIAGNOSES, ELIGIBLE_ANSWERS, SEXES, Trial } from './fixtures';
import { mulberry32 } from '../seeded-random';

export interface LoadOptions {
  participants: number;
  /** Participants per transaction (default 5000). */
  batchParticipants?: number;
  /** Rows per INSERT statement (default 1000; PostgreSQL allows 65535 parameters per statement). */
  chunkRows?: number;
  /** PRNG seed of the population mix (default 1). */
  seed?: number;
  /** Label prefix; labels must be unique per trial (default `BULK-`). */
  labelPrefix?: string;
  /**
   * Participants generated in this process (default 100,000). A larger size that is a multiple of it is loaded as that
   * many participants and then copied inside the database (`replicatePopulation`), which is many times faster than
   * sending every row from here; the copies repeat the generated population's mix exactly.
   */
  generatedParticipants?: number;
}

export interface LoadResult {
  participants: number;
  consents: number;
  withdrawals: number;
  allocations: number;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
}

const CRITERIA = Object.keys(ELIGIBLE_ANSWERS) as (keyof typeof ELIGIBLE_ANSWERS)[];
const WITHDRAWAL_SCOPES = ['intervention', 'follow_up', 'all'] as const;
const BLOCK_SIZE = 4;

function isoDate(base: string, plusDays: number): string {
  const date = new Date(`${base}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + plusDays);
  return date.toISOString().slice(0, 10);
}

interface StratumState {
  key: string;
  site: string;
  allocated: number;
  block: string[];
}

async function insertChunked(
  trx: Knex.Transaction,
  table: string,
  rows: Record<string, unknown>[],
  chunkRows: number,
): Promise<void> {
  for (let start = 0; start < rows.length; start += chunkRows)
    await trx(table).insert(rows.slice(start, start + chunkRows));
}

export async function loadTrialPopulation(knex: Knex, trial: Trial, options: LoadOptions): Promise<LoadResult> {
  const generated = options.generatedParticipants ?? 100_000;
  if (options.participants <= generated || options.participants % generated !== 0)
    return generatePopulation(knex, trial, options);
  const started = performance.now();
  const base = await generatePopulation(knex, trial, { ...options, participants: generated });
  await replicatePopulation(knex, trial.id, options.participants / generated - 1);
  const copies = options.participants / generated;
  const seconds = (performance.now() - started) / 1000;
  const totals = {
    participants: base.participants * copies,
    consents: base.consents * copies,
    withdrawals: base.withdrawals * copies,
    allocations: base.allocations * copies,
  };
  const rows = totals.participants + totals.consents + totals.withdrawals + totals.allocations;
  return { ...totals, rows, seconds, rowsPerSecond: rows / seconds };
}

/** Suffix of a copied participant's label; the generated participants' labels never end like this. */
const COPY_SUFFIX = '-c';

/**
 * Copies the trial's generated population `copies` times inside the database, one copy per transaction: new ids are
 * md5(old id ‖ copy) as uuid, labels get `-c<copy>`, and each copy's allocations continue every stratum's sequence
 * after the previous copy (blocks of 4 recomputed from the new sequence number); the stratum cursors end at the
 * total. Every other column is copied as it is, whatever columns the tables have.
 */
async function replicatePopulation(knex: Knex, trialId: string, copies: number): Promise<void> {
  const columns = async (table: string): Promise<string[]> =>
    (
      await knex('information_schema.columns')
        .where({ table_schema: knex.raw('current_schema()'), table_name: table })
        .orderBy('ordinal_position')
        .select<{ column_name: string }[]>('column_name')
    ).map((row) => row.column_name);
  const copyOf = async (table: string, overrides: Record<string, string>, from: string): Promise<string> => {
    const names = await columns(table);
    return `INSERT INTO ${table} (${names.map((n) => `"${n}"`).join(', ')})
      SELECT ${names.map((n) => overrides[n] ?? `t."${n}"`).join(', ')} FROM ${table} t ${from}`;
  };
  const newId = (column: string) => `md5(t.${column}::text || ':' || :copy)::uuid`;
  const baseParticipants = `SELECT participant_id FROM participants WHERE trial_id = :trial AND label_key !~ '${COPY_SUFFIX}[0-9]+$'`;
  const participants = await copyOf(
    'participants',
    {
      participant_id: newId('participant_id'),
      label: `t.label || '${COPY_SUFFIX}' || :copy`,
      label_key: `t.label_key || '${COPY_SUFFIX}' || :copy`,
    },
    `WHERE t.trial_id = :trial AND t.label_key !~ '${COPY_SUFFIX}[0-9]+$'`,
  );
  const consents = await copyOf(
    'consents',
    { consent_id: newId('consent_id'), participant_id: newId('participant_id') },
    `WHERE t.trial_id = :trial AND t.participant_id IN (${baseParticipants})`,
  );
  const withdrawals = await copyOf(
    'consent_withdrawals',
    { consent_id: newId('consent_id') },
    `WHERE t.trial_id = :trial AND t.consent_id IN (SELECT consent_id FROM consents WHERE trial_id = :trial
       AND participant_id IN (${baseParticipants}))`,
  );
  const sequence = `(t.sequence_number + :copy * s.base)`;
  const allocations = await copyOf(
    'allocations',
    {
      allocation_id: newId('allocation_id'),
      participant_id: newId('participant_id'),
      sequence_number: sequence,
      block_number: `(${sequence} + ${BLOCK_SIZE - 1}) / ${BLOCK_SIZE}`,
      block_size: String(BLOCK_SIZE),
      position_in_block: `((${sequence} - 1) % ${BLOCK_SIZE}) + 1`,
    },
    `JOIN (SELECT stratum_key, count(*)::int AS base FROM allocations WHERE trial_id = :trial
             AND participant_id IN (${baseParticipants}) GROUP BY stratum_key) s USING (stratum_key)
      WHERE t.trial_id = :trial AND t.participant_id IN (${baseParticipants})`,
  );
  // Without statistics on the generated rows the planner takes the trial for a handful of rows and runs each copy's
  // IN (...) as a nested loop over every participant (minutes instead of seconds; see "A hazard" in benchmarks.md).
  await knex.raw('ANALYZE participants, consents, consent_withdrawals, allocations');
  for (let copy = 1; copy <= copies; copy++) {
    await knex.transaction(async (trx) => {
      for (const statement of [participants, consents, withdrawals, allocations])
        await trx.raw(statement, { trial: trialId, copy });
    });
  }
  await knex.raw(
    `UPDATE randomization_strata r SET allocated = a.allocated, block_number = (a.allocated + ${BLOCK_SIZE - 1}) / ${BLOCK_SIZE},
       block_size = ${BLOCK_SIZE}, block_start_sequence = ((a.allocated - 1) / ${BLOCK_SIZE}) * ${BLOCK_SIZE} + 1
       FROM (SELECT stratum_key, max(sequence_number) AS allocated FROM allocations WHERE trial_id = :trial
             GROUP BY stratum_key) a
      WHERE r.trial_id = :trial AND r.stratum_key = a.stratum_key`,
    { trial: trialId },
  );
}

async function generatePopulation(knex: Knex, trial: Trial, options: LoadOptions): Promise<LoadResult> {
  const batchParticipants = options.batchParticipants ?? 5000;
  const chunkRows = options.chunkRows ?? 1000;
  const labelPrefix = options.labelPrefix ?? 'BULK-';
  const random = mulberry32(options.seed ?? 1);
  const armCodes = trial.arms.map((arm) => arm.code);
  const strata: StratumState[] = trial.sites.map((site) => ({
    key: stratumKey(['site'], { site: site.code }),
    site: site.code,
    allocated: 0,
    block: [],
  }));
  const totals = { participants: 0, consents: 0, withdrawals: 0, allocations: 0 };
  const started = performance.now();

  await knex('randomization_strata')
    .insert(strata.map((s) => ({ trial_id: trial.id, stratum_key: s.key })))
    .onConflict(['trial_id', 'stratum_key'])
    .ignore();
  const existing = await knex('randomization_strata')
    .where({ trial_id: trial.id })
    .select<{ stratum_key: string; allocated: number }[]>('stratum_key', 'allocated');
  for (const row of existing) {
    const stratum = strata.find((s) => s.key === row.stratum_key);
    if (stratum && row.allocated > 0)
      throw new Error(
        `trial ${trial.id} already has allocations in stratum ${row.stratum_key}: load into a fresh trial`,
      );
  }

  /** The next arm of the stratum: balanced blocks of 4, each a seeded shuffle of the arms (1:1). */
  const nextArm = (stratum: StratumState): string => {
    if (stratum.block.length === 0) {
      const block = Array.from({ length: BLOCK_SIZE }, (_, i) => armCodes[i % armCodes.length]!);
      for (let i = block.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [block[i], block[j]] = [block[j]!, block[i]!];
      }
      stratum.block = block;
    }
    return stratum.block.shift()!;
  };

  await knex.raw('ANALYZE participants, consents, consent_withdrawals, allocations');
  for (let first = 0; first < options.participants; first += batchParticipants) {
    const last = Math.min(options.participants, first + batchParticipants);
    const participants: Record<string, unknown>[] = [];
    const consents: Record<string, unknown>[] = [];
    const withdrawals: Record<string, unknown>[] = [];
    const allocations: Record<string, unknown>[] = [];
    for (let i = first; i < last; i++) {
      const participantId = randomUUID();
      const stratum = strata[i % strata.length]!;
      const screenedOn = isoDate('2018-01-01', i % 365);
      const eligibility: Record<string, boolean> = { ...ELIGIBLE_ANSWERS };
      const unmet: string[] = [];
      if (random() < 0.1) {
        const failed = CRITERIA[Math.floor(random() * CRITERIA.length)]!;
        eligibility[failed] = !eligibility[failed];
        unmet.push(failed);
      }
      const label = `${labelPrefix}${String(i).padStart(7, '0')}`;
      participants.push({
        trial_id: trial.id,
        participant_id: participantId,
        site_code: stratum.site,
        role: 'service_user',
        label,
        label_key: label.normalize('NFC'),
        screened_on: screenedOn,
        eligibility: JSON.stringify(eligibility),
        eligible: unmet.length === 0,
        unmet_criteria: unmet,
        baseline: JSON.stringify({
          age: 18 + Math.floor(random() * 63),
          sex: SEXES[Math.floor(random() * SEXES.length)],
          diagnosis: DIAGNOSES[Math.floor(random() * DIAGNOSES.length)],
          onsetYears: Math.round(random() * 300) / 10,
        }),
      });
      if (unmet.length > 0) continue;

      const decision = random();
      if (decision >= 0.92) continue;
      const signedOn = isoDate(screenedOn, 1);
      const consent = (form: string, granted: boolean) => {
        const consentId = randomUUID();
        consents.push({
          trial_id: trial.id,
          consent_id: consentId,
          participant_id: participantId,
          form_code: form,
          form_version: '1.0',
          decision: granted ? 'granted' : 'declined',
          signed_on: signedOn,
          obtained_by: 'IW',
          method: 'written',
          reason: granted ? null : 'not interested',
        });
        return consentId;
      };
      if (decision >= 0.85) {
        consent('trial', false);
        continue;
      }
      const trialConsent = consent('trial', true);
      if (random() < 0.5) consent('audio', true);
      if (random() >= 0.95) continue;

      stratum.allocated += 1;
      const sequenceNumber = stratum.allocated;
      allocations.push({
        trial_id: trial.id,
        allocation_id: randomUUID(),
        participant_id: participantId,
        stratum_key: stratum.key,
        stratum: JSON.stringify({ site: stratum.site }),
        sequence_number: sequenceNumber,
        block_number: Math.ceil(sequenceNumber / BLOCK_SIZE),
        block_size: BLOCK_SIZE,
        position_in_block: ((sequenceNumber - 1) % BLOCK_SIZE) + 1,
        arm_code: nextArm(stratum),
      });
      if (random() < 0.04) {
        withdrawals.push({
          trial_id: trial.id,
          consent_id: trialConsent,
          withdrawn_on: isoDate(signedOn, 100),
          reason: 'moved out of the district',
          scope: WITHDRAWAL_SCOPES[i % WITHDRAWAL_SCOPES.length],
        });
      }
    }

    await knex.transaction(async (trx) => {
      await insertChunked(trx, 'participants', participants, chunkRows);
      await insertChunked(trx, 'consents', consents, chunkRows);
      await insertChunked(trx, 'consent_withdrawals', withdrawals, chunkRows);
      await insertChunked(trx, 'allocations', allocations, chunkRows);
      for (const stratum of strata) {
        const blockNumber = Math.ceil(stratum.allocated / BLOCK_SIZE);
        await trx('randomization_strata')
          .where({ trial_id: trial.id, stratum_key: stratum.key })
          .update(
            stratum.allocated === 0
              ? { allocated: 0 }
              : {
                  allocated: stratum.allocated,
                  block_number: blockNumber,
                  block_size: BLOCK_SIZE,
                  block_start_sequence: (blockNumber - 1) * BLOCK_SIZE + 1,
                },
          );
      }
    });
    // The foreign-key checks of consents and allocations run cached plans, made when the pooled connection first
    // checked a key: if the tables were small then (a benchmark that randomized through the API first), the plan is a
    // sequential scan, and every row of the load scans every participant loaded so far (quadratic: 26k participants in
    // six minutes at 100k). ANALYZE updates the statistics and invalidates those plans, so they are made again for
    // the tables' present size.
    await knex.raw('ANALYZE participants, consents, consent_withdrawals, allocations');
    totals.participants += participants.length;
    totals.consents += consents.length;
    totals.withdrawals += withdrawals.length;
    totals.allocations += allocations.length;
  }

  const seconds = (performance.now() - started) / 1000;
  const rows = totals.participants + totals.consents + totals.withdrawals + totals.allocations;
  return { ...totals, rows, seconds, rowsPerSecond: rows / seconds };
}
