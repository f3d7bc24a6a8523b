import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { withTransaction } from '../../db/database';
import type { ElectronicSignature } from '../../core/electronic-signature';
import type { ArmLabeller, UseCaseContext } from '../../core/use-case-context';
import { csvLine, CsvParseError, parseCsv } from '../../core/csv';
import { ConflictError, FieldError, ValidationError } from '../../core/errors';
import { decodeCursor, Page, toPage } from '../../core/pagination';
import type { components } from '../../generated/openapi';
import { auditStatement, recordAudit } from '../audit/audit.service';
import { lockVisibleParticipant, lockVisibleParticipantForDecision } from '../participants/participants.service';
import type { TrialView } from '../trials/trials';
import { findSeed, findListArm, markSeedRevealed, replaceAllocationTable } from '../seed-custody/seed-custody.service';
import {
  findLockedTrial,
  loadTrial,
  lockTrialExclusive,
  lockTrialShared,
  lockTrialSharedState,
} from '../trials/trials.service';
import { allocationListProblems, AllocationListRow } from './allocation-list';
import { allocationCommitment, commitmentPreimage } from './commitment';
import { DEFAULT_IMBALANCE_MEASURE, DEFAULT_MINIMIZATION_P, minimizationAllocation } from './minimization';
import { permutedBlockSlot } from './permuted-blocks';
import * as repo from './randomization.repo';
import { simpleAllocation } from './simple-randomization';
import { stratumKey } from './stratum-key';

type Allocation = components['schemas']['Allocation'];
type AllocationRecord = components['schemas']['AllocationRecord'];
type SeedReveal = components['schemas']['SeedReveal'];
type AllocationTableSummary = components['schemas']['AllocationTableSummary'];
type Randomization = TrialView['randomization'];

/** The factors that make a stratum: `stratifyBy`, or none for minimization (which balances over the whole trial). */
export function stratifyByOf(randomization: Randomization): string[] {
  return randomization.method === 'minimization' ? [] : (randomization.stratifyBy ?? []);
}

function levelsOf(
  factors: string[],
  participant: { siteCode: string; baseline: Record<string, unknown> },
): { levels: Record<string, string>; missing: string[] } {
  const levels: Record<string, string> = {};
  const missing: string[] = [];
  for (const factor of factors) {
    const value = factor === 'site' ? participant.siteCode : participant.baseline[factor];
    if (typeof value === 'string') levels[factor] = value;
    else missing.push(factor);
  }
  return { levels, missing };
}

function refuse(slug: string, detail: string): ConflictError {
  return new ConflictError(slug, detail);
}

/** What a randomization takes from an active trial: fixed at activation and covered by its allocation commitment. */
interface SealedDesign {
  allocationCommitment: string | null;
  arms: TrialView['arms'];
  randomization: Randomization;
  seed: Buffer;
}

/**
 * Designs of active trials already read by this process, by trial id. An entry is used only when its commitment equals
 * the one read under the trial's lock in the same transaction, so a stale or foreign entry (another database, a trial
 * re-created with the same id) is never used; it is read again and replaced. Bounded: the oldest entry goes first.
 */
const sealedDesigns = new Map<string, SealedDesign>();
const SEALED_DESIGNS_MAX = 1_000;

async function sealedDesignOf(
  trx: Knex.Transaction,
  trialId: string,
  commitment: string | null,
): Promise<SealedDesign> {
  const cached = commitment === null ? undefined : sealedDesigns.get(trialId);
  if (cached && cached.allocationCommitment === commitment) return cached;
  const trial = await findLockedTrial(trx, trialId);
  const design = {
    allocationCommitment: commitment,
    arms: trial.arms,
    randomization: trial.randomization,
    seed: (await findSeed(trx, trialId))!.seed,
  };
  // A commitment that does not match the design read with it must never be cached (it cannot happen: both are
  // written in the activation transaction, and the trial row is locked).
  if (commitment !== null && trial.allocationCommitment === commitment) {
    sealedDesigns.delete(trialId);
    if (sealedDesigns.size >= SEALED_DESIGNS_MAX) sealedDesigns.delete(sealedDesigns.keys().next().value!);
    sealedDesigns.set(trialId, design);
  }
  return design;
}

/**
 * Statements on the hot path (docs/benchmarks.md): the trial's status and commitment under its shared lock (its design
 * from the process's cache when the commitment matches), the participant's lock, its derived state in one lean read,
 * the stratum's next number claimed by one upsert, the allocation (and block) written in one statement returning it,
 * and the audit row.
 */
export async function randomizeParticipant(
  ctx: UseCaseContext,
  input: { trialId: string; participantId: string; signature?: ElectronicSignature | null },
): Promise<Allocation> {
  const { db, principal, actor } = ctx;
  const { trialId, participantId } = input;
  const signature = input.signature ?? null;
  // No read before the transaction: the operation layer has checked the key's trial scope, and the trial is read
  // (404 if absent) under its lock below — one pool acquisition and one trial read fewer on the hottest path.
  return withTransaction(db, async (trx) => {
    // FOR SHARE: closure and set-up changes (FOR UPDATE) wait for randomizations in flight, and a randomization
    // decides on the trial as read after the lock — the design that the published commitment covers.
    const state = await lockTrialSharedState(trx, trialId);
    if (state.status !== 'active')
      throw new ConflictError(
        'trial-not-active',
        `Trial ${trialId} is ${state.status}; only active trials randomize.`,
        {
          trialStatus: state.status,
        },
      );
    const trial = await sealedDesignOf(trx, trialId, state.allocationCommitment);

    const facts = await lockVisibleParticipantForDecision(trx, principal, trialId, participantId);
    const participant = { ...facts.item, baseline: facts.baseline };
    if (participant.role !== 'service_user')
      throw refuse(
        'not-eligible',
        `Participant ${participantId} is a case worker; case workers are assigned to arms, not randomized.`,
      );
    if (!participant.eligible)
      throw refuse(
        'not-eligible',
        `Participant ${participantId} did not meet the eligibility criteria (${participant.unmetCriteria.join(', ')}).`,
      );
    if (facts.randomizedAt !== null)
      throw refuse(
        'already-randomized',
        `Participant ${participantId} was already randomized at ${facts.randomizedAt}.`,
      );
    if (facts.consentWithdrawn)
      throw refuse('consent-withdrawn', `Participant ${participantId} withdrew a required consent.`);
    if (!facts.consentComplete) {
      throw refuse(
        'consent-missing',
        `Participant ${participantId} lacks a granted, current consent to every required form${participant.reconsentRequired ? ' (a newer version must be signed)' : ''}.`,
      );
    }

    const factors = stratifyByOf(trial.randomization);
    const { levels, missing } = levelsOf(factors, participant);
    if (missing.length)
      throw refuse(
        'stratum-unknown',
        `Participant ${participantId} has no baseline value for ${missing.join(', ')}, which defines the stratum.`,
      );
    const key = stratumKey(factors, levels);
    // From here until commit the stratum's cursor is locked; its number goes back if anything below throws.
    const cursor = await repo.claimNextSequence(trx, trialId, key);
    const sequenceNumber = cursor.sequenceNumber;

    let arm: string;
    let block: { blockNumber: number; blockSize: number; blockStartSequence: number } | null = null;
    let positionInBlock: number | null = null;
    const randomization = trial.randomization;
    switch (randomization.method) {
      case 'permuted_block': {
        const slot = permutedBlockSlot(
          trial.seed,
          { arms: trial.arms, blockSizes: randomization.blockSizes },
          key,
          cursor.currentBlock,
          sequenceNumber,
        );
        arm = slot.arm;
        block = {
          blockNumber: slot.blockNumber,
          blockSize: slot.blockSize,
          blockStartSequence: slot.blockStartSequence,
        };
        positionInBlock = slot.positionInBlock;
        break;
      }
      case 'simple':
        arm = simpleAllocation(trial.seed, trial.arms, key, sequenceNumber);
        break;
      case 'minimization': {
        const { levels: factorLevels, missing: missingFactors } = levelsOf(randomization.factors, participant);
        if (missingFactors.length)
          throw refuse(
            'stratum-unknown',
            `Participant ${participantId} has no baseline value for ${missingFactors.join(', ')}, a minimization factor.`,
          );
        const choice = minimizationAllocation(
          trial.seed,
          {
            arms: trial.arms,
            factors: randomization.factors,
            counts: await repo.marginalCounts(trx, trialId, randomization.factors),
            participantLevels: factorLevels,
            imbalance: randomization.imbalance ?? DEFAULT_IMBALANCE_MEASURE,
            p: randomization.p ?? DEFAULT_MINIMIZATION_P,
          },
          sequenceNumber,
        );
        arm = choice.arm;
        break;
      }
      case 'list': {
        const listArm = await findListArm(trx, trialId, key, sequenceNumber);
        if (listArm === undefined) {
          throw new ConflictError(
            'list-exhausted',
            `The allocation list has no row left for stratum ${JSON.stringify(levels)} (${sequenceNumber - 1} used).`,
            { stratum: levels },
          );
        }
        arm = listArm;
        break;
      }
    }

    const newAllocation: repo.NewAllocation = {
      trialId,
      allocationId: randomUUID(),
      participantId,
      stratumKey: key,
      stratum: levels,
      sequenceNumber,
      blockNumber: block?.blockNumber ?? null,
      blockSize: block?.blockSize ?? null,
      positionInBlock,
      arm,
      randomizedBy: principal.keyId,
      randomizedAt: ctx.now(),
      signature,
    };
    // The audit row carries the allocation as the response shows it, known before the write (every field is chosen
    // here), so it is written by the allocation's own statement: one round trip fewer holding the stratum's cursor.
    const recorded = repo.allocationViewOf(newAllocation);
    const allocation = await repo.insertAllocation(
      trx,
      newAllocation,
      block,
      auditStatement(actor, {
        trialId,
        action: 'participant.randomized',
        entityType: 'participant',
        entityId: participantId,
        before: { status: participant.status },
        after: signature ? { allocation: recorded, signature } : { allocation: recorded },
      }),
    );
    return allocationViewFor(await ctx.armLabeller(trialId, trx), allocation);
  });
}

export async function flagRandomizationError(
  ctx: UseCaseContext,
  input: { trialId: string; participantId: string; reason: string },
): Promise<Allocation> {
  const { db, principal, actor } = ctx;
  const { trialId, participantId, reason } = input;
  return withTransaction(db, async (trx) => {
    await lockTrialShared(trx, trialId);
    const { view } = await lockVisibleParticipant(trx, principal, trialId, participantId);
    if (!view.allocation)
      throw new ConflictError('not-randomized', `Participant ${participantId} has not been randomized.`);
    const flagged = await repo.flagAllocationError(trx, trialId, participantId, reason);
    if (!flagged)
      throw new ConflictError(
        'already-flagged',
        `The randomization of participant ${participantId} is already flagged as an error.`,
      );
    await recordAudit(trx, actor, {
      trialId,
      action: 'randomization.flagged_error',
      entityType: 'participant',
      entityId: participantId,
      before: { allocation: view.allocation },
      after: { allocation: flagged },
      reason,
    });
    return allocationViewFor(await ctx.armLabeller(trialId, trx), flagged);
  });
}

export async function revealSeed(ctx: UseCaseContext, input: { trialId: string; reason: string }): Promise<SeedReveal> {
  const { db, actor } = ctx;
  const { trialId, reason } = input;
  return withTransaction(db, async (trx) => {
    const trial = await lockTrialExclusive(trx, trialId);
    if (trial.status !== 'closed')
      throw new ConflictError(
        'trial-not-closed',
        `Trial ${trialId} is ${trial.status}; the seed is revealed only after closure.`,
        { trialStatus: trial.status },
      );
    const secret = (await findSeed(trx, trialId))!;
    const revealedAt = await markSeedRevealed(trx, trialId);
    const seed = secret.seed.toString('hex');
    const config = { arms: trial.arms, randomization: trial.randomization };
    const reveal: SeedReveal = {
      trialId,
      seed,
      allocationCommitment: allocationCommitment(seed, config),
      commitmentPreimage: commitmentPreimage(seed, config),
      revealedAt: revealedAt.toISOString(),
    };
    await recordAudit(trx, actor, {
      trialId,
      action: 'trial.seed_revealed',
      entityType: 'trial',
      entityId: trialId,
      before: null,
      after: reveal,
      reason,
    });
    return reveal;
  });
}

/** The allocation as this caller may see it. */
function allocationViewFor(labeller: ArmLabeller, allocation: Allocation): Allocation {
  return labeller.blinded ? { ...allocation, arm: labeller.label(allocation.arm) } : allocation;
}

function tableRowsFromCsv(text: string, stratifyBy: string[]): AllocationListRow[] {
  let rows: string[][];
  try {
    rows = parseCsv(text);
  } catch (error) {
    if (error instanceof CsvParseError)
      throw new ValidationError([{ pointer: '', detail: `the CSV is malformed: ${error.message}` }]);
    throw error;
  }
  const [header, ...data] = rows;
  const expected = ['arm', ...stratifyBy];
  if (!header || header.length !== expected.length || !expected.every((column) => header.includes(column))) {
    throw new ValidationError([{ pointer: '', detail: `the CSV header must be the columns ${expected.join(', ')}` }]);
  }
  return data.map((fields) => ({
    arm: fields[header.indexOf('arm')] ?? '',
    stratum: Object.fromEntries(stratifyBy.map((factor) => [factor, fields[header.indexOf(factor)] ?? ''])),
  }));
}

export async function putAllocationTable(
  ctx: UseCaseContext,
  request: { trialId: string; rows?: AllocationListRow[]; csv?: string },
): Promise<AllocationTableSummary> {
  const { db, actor } = ctx;
  const { trialId } = request;
  return withTransaction(db, async (trx) => {
    // The rows are checked against the trial as read under the lock: a PATCH of arms or strata committed while
    // this request waited is what they must fit, not the trial as it was when the request arrived.
    const trial = await lockTrialExclusive(trx, trialId);
    if (trial.randomization.method !== 'list')
      throw new ConflictError(
        'not-a-list-trial',
        `Trial ${trialId} randomizes by ${trial.randomization.method}; allocation tables are for the list method.`,
      );
    if (trial.status !== 'setup')
      throw new ConflictError(
        'trial-not-in-setup',
        `Trial ${trialId} is ${trial.status}; the allocation table is locked.`,
        {
          trialStatus: trial.status,
        },
      );
    const stratifyBy = stratifyByOf(trial.randomization);
    const rows = request.csv !== undefined ? tableRowsFromCsv(request.csv, stratifyBy) : request.rows!;
    const levelsByFactor: Record<string, string[]> = { site: trial.sites.map((s) => s.code) };
    for (const variable of trial.baselineVariables)
      if (variable.type === 'category') levelsByFactor[variable.name] = variable.levels ?? [];
    const problems = allocationListProblems(rows, {
      armCodes: trial.arms.map((a) => a.code),
      stratifyBy,
      levelsByFactor,
    });
    if (problems.length)
      throw new ValidationError(
        problems.slice(0, 100).map((p) => ({ pointer: `/rows${p.pointer}`, detail: p.message })) as FieldError[],
      );
    const positions = new Map<string, number>();
    const stored = rows.map((row) => {
      const key = stratumKey(stratifyBy, row.stratum);
      const position = (positions.get(key) ?? 0) + 1;
      positions.set(key, position);
      return { stratumKey: key, stratum: { ...row.stratum }, stratumPosition: position, arm: row.arm };
    });
    await replaceAllocationTable(trx, trialId, stored);
    const summary: AllocationTableSummary = {
      rows: stored.length,
      strata: [...positions.entries()].map(([key, count]) => ({
        stratum: stored.find((row) => row.stratumKey === key)!.stratum,
        rows: count,
      })),
    };
    // The audit keeps the counts, not the table: the rows stay concealed until the seed-free list is used.
    await recordAudit(trx, actor, {
      trialId,
      action: 'allocation_table.uploaded',
      entityType: 'trial',
      entityId: trialId,
      before: null,
      after: summary,
    });
    return summary;
  });
}

const isAllocationCursor = (value: unknown): value is { stratumKey: string; sequenceNumber: number } =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Record<string, unknown>).stratumKey === 'string' &&
  Number.isSafeInteger((value as Record<string, unknown>).sequenceNumber);

export async function listAllocations(
  ctx: UseCaseContext,
  input: { trialId: string; limit?: number; cursor?: string },
): Promise<Page<AllocationRecord>> {
  const { db } = ctx;
  const { trialId, ...query } = input;
  await loadTrial(ctx, trialId);
  const labeller = await ctx.armLabeller(trialId);
  const limit = query.limit ?? 50;
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, isAllocationCursor);
  const rows = await repo.listAllocationRecords(db, trialId, { limit, after });
  return toPage(
    rows,
    limit,
    (row) => ({ ...row.record, arm: labeller.label(row.record.arm) }),
    (row) => ({ stratumKey: row.record.stratumKey, sequenceNumber: row.record.sequenceNumber }),
  );
}

/**
 * The export `scripts/verify-allocations.py` reads; minimization adds one column per factor with the participant's
 * level.
 */
export async function allocationsCsv(ctx: UseCaseContext, input: { trialId: string }): Promise<string> {
  const { db } = ctx;
  const { trialId } = input;
  const trial = await loadTrial(ctx, trialId);
  const labeller = await ctx.armLabeller(trialId);
  const factors = trial.randomization.method === 'minimization' ? trial.randomization.factors : [];
  const rows = await repo.listAllocationRecords(db, trialId, null);
  const header = csvLine([
    'sequenceNumber',
    'stratum',
    'blockNumber',
    'blockSize',
    'positionInBlock',
    'arm',
    'participantId',
    'randomizedAt',
    'errorFlag',
    'importId',
    ...factors,
  ]);
  return (
    header +
    rows
      .map(({ record: r, levels, importId }) =>
        csvLine([
          r.sequenceNumber,
          r.stratumKey,
          r.blockNumber,
          r.blockSize,
          r.positionInBlock,
          labeller.label(r.arm),
          r.participantId,
          r.randomizedAt,
          r.errorFlag,
          importId,
          ...factors.map((f) => levels[f]),
        ]),
      )
      .join('')
  );
}

/**
 * One allocation of a trial migrating in with its history (issue #20): the arm, stratum position and instant the
 * previous system recorded, written as they were and marked with the import. Run inside the import's transaction
 * (which holds the trial's exclusive lock). The participant must be a consented, eligible service user screened on or
 * before the randomization and not yet randomized; the stratum is derived from the participant as a randomization
 * would derive it (`stratum`, when given, must agree). A stratum already randomized by trialdesk takes no imported
 * slot, and an imported slot is never taken twice; the stratum's cursor is advanced past it, so randomization
 * continues after the highest imported sequence number (docs/interoperability.md: imported allocations and the
 * commitment).
 */
export async function importAllocation(
  ctx: UseCaseContext,
  input: {
    trialId: string;
    participantId: string;
    importId: string;
    arm: string;
    sequenceNumber: number;
    randomizedAt: Date;
    stratum: Record<string, string>;
  },
): Promise<Allocation> {
  const { trialId, participantId } = input;
  return withTransaction(ctx.db, async (trx) => {
    const trial = await lockTrialShared(trx, trialId);
    if (trial.status !== 'active')
      throw new ConflictError(
        'trial-not-active',
        `Trial ${trialId} is ${trial.status}; only active trials randomize.`,
        {
          trialStatus: trial.status,
        },
      );
    const { view } = await lockVisibleParticipant(trx, ctx.principal, trialId, participantId);
    const randomizedOn = input.randomizedAt.toISOString().slice(0, 10);
    const problems: FieldError[] = [];
    if (!trial.arms.some((arm) => arm.code === input.arm))
      problems.push({ pointer: '/arm', detail: `the trial has no arm ${input.arm}` });
    if (view.role !== 'service_user')
      problems.push({ pointer: '/label', detail: 'is a case worker; case workers are assigned, not randomized' });
    else if (!view.eligible)
      problems.push({ pointer: '/label', detail: `did not meet the criteria (${view.unmetCriteria.join(', ')})` });
    if (view.allocation)
      problems.push({ pointer: '/label', detail: `was already randomized at ${view.allocation.randomizedAt}` });
    if (!view.consents.some((c) => c.decision === 'granted' && c.signedOn <= randomizedOn))
      problems.push({ pointer: '/randomizedAt', detail: 'is before any granted consent of the participant' });
    if (randomizedOn < view.screenedOn)
      problems.push({ pointer: '/randomizedAt', detail: `is before the screening on ${view.screenedOn}` });
    if (input.randomizedAt.getTime() > ctx.now().getTime())
      problems.push({ pointer: '/randomizedAt', detail: 'is in the future' });
    const factors = stratifyByOf(trial.randomization);
    const { levels, missing } = levelsOf(factors, view);
    for (const factor of missing)
      problems.push({ pointer: `/stratum/${factor}`, detail: `the participant has no value for ${factor}` });
    for (const [factor, level] of Object.entries(input.stratum))
      if (!factors.includes(factor))
        problems.push({ pointer: `/stratum/${factor}`, detail: `the trial does not stratify by ${factor}` });
      else if (levels[factor] !== undefined && levels[factor] !== level)
        problems.push({ pointer: `/stratum/${factor}`, detail: `the participant's ${factor} is ${levels[factor]}` });
    const key = stratumKey(factors, levels);
    if (!missing.length) {
      const slot = await repo.importedSlotProblem(trx, trialId, key, input.sequenceNumber);
      if (slot === 'slot-taken')
        problems.push({ pointer: '/sequenceNumber', detail: 'is already taken in this stratum' });
      if (slot === 'stratum-randomized-here')
        problems.push({
          pointer: '/sequenceNumber',
          detail: 'the stratum was already randomized by trialdesk; history is imported before randomizing',
        });
    }
    if (problems.length) throw new ValidationError(problems);
    await repo.advanceCursorPastImport(
      trx,
      trialId,
      key,
      input.sequenceNumber,
      trial.randomization.method === 'permuted_block',
    );
    const imported: repo.NewAllocation = {
      trialId,
      allocationId: randomUUID(),
      participantId,
      stratumKey: key,
      stratum: levels,
      sequenceNumber: input.sequenceNumber,
      blockNumber: null,
      blockSize: null,
      positionInBlock: null,
      arm: input.arm,
      randomizedBy: null,
      randomizedAt: input.randomizedAt,
      importId: input.importId,
      // Signed, if at all, in the system it was randomized in; the import's own audit row names who imported it.
      signature: null,
    };
    const allocation = await repo.insertAllocation(
      trx,
      imported,
      null,
      auditStatement(ctx.actor, {
        trialId,
        action: 'participant.randomized',
        entityType: 'participant',
        entityId: participantId,
        before: { status: view.status },
        after: { allocation: repo.allocationViewOf(imported), importId: input.importId },
      }),
    );
    return allocation;
  });
}
