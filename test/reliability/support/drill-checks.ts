import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import type { Allocation, IncentiveEntry, KeyedWrite } from './drill-world';

/*
 * What the drills check in the database itself, over a connection of their own (not the service's):
 * acknowledged writes are there and equal to what was answered, and the invariants that tie an
 * allocation to its slot, its audit row and its idempotency record hold.
 */

const DATE_OID = 1082;
const INT8_OID = 20;

/** A superuser connection to the private server; dates stay strings, int8 becomes a number. */
export async function openDrillClient(url: string): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: url,
    application_name: 'trialdesk-drill',
    types: {
      getTypeParser: ((oid: number, format?: string) => {
        if (oid === DATE_OID) return (value: string) => value;
        if (oid === INT8_OID) return (value: string) => Number(value);
        return pg.types.getTypeParser(oid, format as 'text');
      }) as typeof pg.types.getTypeParser,
    },
  });
  client.on('error', () => undefined); // a crash drill may cut it; queries then fail and say so
  await client.connect();
  return client;
}

interface AllocationRow {
  allocation_id: string;
  participant_id: string;
  stratum: Record<string, string>;
  arm_code: string;
  randomized_at: Date;
}

interface EntryRow {
  entry_id: string;
  participant_id: string;
  incentive_code: string;
  kind: string;
  amount_minor: number;
  currency: string;
  issued_on: string;
  reference: string | null;
}

/** What the database holds for a keyed write: the allocations of its participant, or the entries with its reference. */
export interface StoredWork {
  allocations: AllocationRow[];
  entries: EntryRow[];
}

/** Stored work for many writes in two queries (the per-round checks run after every kill). */
export async function storedWorkOf(
  client: pg.Client,
  trialId: string,
  writes: KeyedWrite[],
): Promise<Map<string, StoredWork>> {
  const participants = writes.filter((w) => w.kind === 'randomize').map((w) => w.participantId);
  const references = writes.flatMap((w) => (w.kind === 'coupon' ? [w.reference] : []));
  const allocations = (
    await client.query<AllocationRow>(
      'SELECT * FROM allocations WHERE trial_id = $1 AND participant_id = ANY($2::uuid[])',
      [trialId, participants],
    )
  ).rows;
  const entries = (
    await client.query<EntryRow>(
      `SELECT * FROM incentive_ledger WHERE trial_id = $1 AND kind = 'issue' AND reference = ANY($2::text[])`,
      [trialId, references],
    )
  ).rows;
  const result = new Map<string, StoredWork>();
  for (const write of writes) {
    result.set(write.key, {
      allocations:
        write.kind === 'randomize' ? allocations.filter((row) => row.participant_id === write.participantId) : [],
      entries: write.kind === 'coupon' ? entries.filter((row) => row.reference === write.reference) : [],
    });
  }
  return result;
}

/** Exactly one record for the write, equal to the answered body; null when it is so, else what differs. */
export function mismatchWithAnswer(write: KeyedWrite, stored: StoredWork, answeredText: string): string | null {
  let answered: unknown;
  try {
    answered = JSON.parse(answeredText);
  } catch {
    return `the answer is not JSON: ${answeredText.slice(0, 200)}`;
  }
  if (write.kind === 'randomize') {
    if (stored.allocations.length !== 1)
      return `${stored.allocations.length} allocations for participant ${write.participantId}`;
    const row = stored.allocations[0]!;
    const body = answered as Allocation;
    const fromDb = {
      allocationId: row.allocation_id,
      participantId: row.participant_id,
      arm: row.arm_code,
      stratum: row.stratum,
      randomizedAt: row.randomized_at.toISOString(),
    };
    const fromAnswer = {
      allocationId: body.allocationId,
      participantId: body.participantId,
      arm: body.arm,
      stratum: body.stratum,
      randomizedAt: body.randomizedAt,
    };
    return isDeepStrictEqual(fromDb, fromAnswer)
      ? null
      : `answered ${JSON.stringify(fromAnswer)}, stored ${JSON.stringify(fromDb)}`;
  }
  if (stored.entries.length !== 1) return `${stored.entries.length} ledger entries with reference "${write.reference}"`;
  const row = stored.entries[0]!;
  const body = answered as IncentiveEntry;
  const fromDb = {
    id: row.entry_id,
    participantId: row.participant_id,
    incentive: row.incentive_code,
    kind: row.kind,
    amountMinor: row.amount_minor,
    currency: row.currency,
    issuedOn: row.issued_on,
    reference: row.reference,
  };
  const fromAnswer = {
    id: body.id,
    participantId: body.participantId,
    incentive: body.incentive,
    kind: body.kind,
    amountMinor: Math.round(body.amount * 100),
    currency: body.currency,
    issuedOn: body.issuedOn,
    reference: body.reference,
  };
  return isDeepStrictEqual(fromDb, fromAnswer)
    ? null
    : `answered ${JSON.stringify(fromAnswer)}, stored ${JSON.stringify(fromDb)}`;
}

export interface InvariantCounts {
  participants: number;
  allocations: number;
  ledgerEntries: number;
  auditRows: number;
  idempotencyRecords: number;
}

/**
 * The invariants of one trial, each as a query that returns the rows breaking it:
 * - every allocation has its `participant.randomized` audit row (naming that allocation) and vice versa;
 * - every ledger issue has its `incentive.issued` audit row and vice versa; every participant its
 *   `participant.screened` row;
 * - each stratum's cursor (`randomization_strata.allocated`: slots consumed) equals the number of its
 *   allocations and their highest sequence number, with no sequence number missing or repeated, and
 *   the cursor's block is the block of the last allocation: no slot consumed without its allocation;
 * - no participant has two allocations;
 * - every stored idempotent response (201) points at work that exists, and every allocation and
 *   ledger issue of the drill (all sent with a key) has its stored response.
 * Returns one line per broken row (empty when all hold) and the table counts.
 */
export async function checkInvariants(
  client: pg.Client,
  trialId: string,
): Promise<{ violations: string[]; counts: InvariantCounts }> {
  const checks: [string, string][] = [
    [
      'allocation without its audit row',
      `SELECT a.participant_id, a.allocation_id FROM allocations a
        WHERE a.trial_id = $1 AND NOT EXISTS (
          SELECT 1 FROM audit_events e WHERE e.trial_id = a.trial_id AND e.action = 'participant.randomized'
             AND e.entity_id = a.participant_id::text AND e.after -> 'allocation' ->> 'allocationId' = a.allocation_id::text)`,
    ],
    [
      'randomization audit row without its allocation',
      `SELECT e.id, e.entity_id FROM audit_events e
        WHERE e.trial_id = $1 AND e.action = 'participant.randomized' AND NOT EXISTS (
          SELECT 1 FROM allocations a WHERE a.trial_id = e.trial_id AND a.allocation_id::text = e.after -> 'allocation' ->> 'allocationId')`,
    ],
    [
      'ledger issue without its audit row',
      `SELECT l.entry_id, l.reference FROM incentive_ledger l
        WHERE l.trial_id = $1 AND l.kind = 'issue' AND NOT EXISTS (
          SELECT 1 FROM audit_events e WHERE e.trial_id = l.trial_id AND e.action = 'incentive.issued' AND e.entity_id = l.entry_id::text)`,
    ],
    [
      'incentive audit row without its ledger entry',
      `SELECT e.id, e.entity_id FROM audit_events e
        WHERE e.trial_id = $1 AND e.action = 'incentive.issued' AND NOT EXISTS (
          SELECT 1 FROM incentive_ledger l WHERE l.trial_id = e.trial_id AND l.entry_id::text = e.entity_id)`,
    ],
    [
      'participant without its screening audit row',
      `SELECT p.participant_id FROM participants p
        WHERE p.trial_id = $1 AND NOT EXISTS (
          SELECT 1 FROM audit_events e WHERE e.trial_id = p.trial_id AND e.action = 'participant.screened' AND e.entity_id = p.participant_id::text)`,
    ],
    [
      'stratum cursor disagrees with its allocations (a slot consumed without its allocation, or reused)',
      `SELECT s.stratum_key, s.allocated, count(a.allocation_id) AS allocations, coalesce(max(a.sequence_number), 0) AS max_sequence,
              count(DISTINCT a.sequence_number) AS distinct_sequences, s.block_number,
              (array_agg(a.block_number ORDER BY a.sequence_number DESC))[1] AS last_allocation_block
         FROM randomization_strata s
         LEFT JOIN allocations a ON a.trial_id = s.trial_id AND a.stratum_key = s.stratum_key
        WHERE s.trial_id = $1
        GROUP BY s.stratum_key, s.allocated, s.block_number
       HAVING s.allocated <> count(a.allocation_id) OR s.allocated <> coalesce(max(a.sequence_number), 0)
           OR count(DISTINCT a.sequence_number) <> count(a.allocation_id)
           OR s.block_number IS DISTINCT FROM (array_agg(a.block_number ORDER BY a.sequence_number DESC))[1]`,
    ],
    [
      'allocation in a stratum without a cursor',
      `SELECT a.allocation_id, a.stratum_key FROM allocations a
        WHERE a.trial_id = $1 AND NOT EXISTS (SELECT 1 FROM randomization_strata s WHERE s.trial_id = a.trial_id AND s.stratum_key = a.stratum_key)`,
    ],
    [
      'participant with more than one allocation',
      `SELECT participant_id, count(*) AS n FROM allocations WHERE trial_id = $1 GROUP BY participant_id HAVING count(*) > 1`,
    ],
    [
      'stored idempotent response without its work',
      `SELECT k.idempotency_key, k.response_status FROM idempotency_keys k
        WHERE k.trial_id = $1 AND k.response_status = 201 AND NOT (
          EXISTS (SELECT 1 FROM allocations a WHERE a.trial_id = k.trial_id AND a.allocation_id::text = k.response_body::jsonb ->> 'allocationId')
          OR EXISTS (SELECT 1 FROM incentive_ledger l WHERE l.trial_id = k.trial_id AND l.entry_id::text = k.response_body::jsonb ->> 'id'))`,
    ],
    [
      'allocation without its stored idempotent response',
      `SELECT a.allocation_id, a.participant_id FROM allocations a
        WHERE a.trial_id = $1 AND NOT EXISTS (
          SELECT 1 FROM idempotency_keys k WHERE k.trial_id = a.trial_id AND k.response_body::jsonb ->> 'allocationId' = a.allocation_id::text)`,
    ],
    [
      'ledger issue without its stored idempotent response',
      `SELECT l.entry_id, l.reference FROM incentive_ledger l
        WHERE l.trial_id = $1 AND l.kind = 'issue' AND l.incentive_code = 'drill_token' AND NOT EXISTS (
          SELECT 1 FROM idempotency_keys k WHERE k.trial_id = l.trial_id AND k.response_body::jsonb ->> 'id' = l.entry_id::text)`,
    ],
  ];
  const violations: string[] = [];
  for (const [name, sql] of checks) {
    const { rows } = await client.query(sql, [trialId]);
    for (const row of rows.slice(0, 20)) violations.push(`${name}: ${JSON.stringify(row)}`);
    if (rows.length > 20) violations.push(`${name}: ... ${rows.length - 20} more`);
  }
  const { rows } = await client.query<InvariantCounts>(
    `SELECT (SELECT count(*) FROM participants WHERE trial_id = $1) AS participants,
            (SELECT count(*) FROM allocations WHERE trial_id = $1) AS allocations,
            (SELECT count(*) FROM incentive_ledger WHERE trial_id = $1) AS "ledgerEntries",
            (SELECT count(*) FROM audit_events WHERE trial_id = $1) AS "auditRows",
            (SELECT count(*) FROM idempotency_keys WHERE trial_id = $1) AS "idempotencyRecords"`,
    [trialId],
  );
  return { violations, counts: rows[0]! };
}

/** Participants that exist (for acknowledged screenings). */
export async function existingParticipants(client: pg.Client, trialId: string, ids: string[]): Promise<Set<string>> {
  const { rows } = await client.query<{ participant_id: string }>(
    'SELECT participant_id FROM participants WHERE trial_id = $1 AND participant_id = ANY($2::uuid[])',
    [trialId, ids],
  );
  return new Set(rows.map((row) => row.participant_id));
}
