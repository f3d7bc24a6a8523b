import { randomUUID } from 'node:crypto';
import { isUniqueViolation, withTransaction } from '../../db/database';
import type { UseCaseContext } from '../../core/use-case-context';
import { csvLine } from '../../core/csv';
import { ConflictError, NotFoundError, ValidationError } from '../../core/errors';
import { decodeCursor, isTimeOrderedCursor, Page, toPage } from '../../core/pagination';
import type { components } from '../../generated/openapi';
import { recordAudit } from '../audit/audit.service';
import { isFutureDate } from '../participants/participants';
import { lockVisibleParticipant } from '../participants/participants.service';
import { toMinorUnits, validateTrialConfiguration } from '../trials/trials';
import { bumpTrialVersion, loadTrial, lockTrialExclusive, lockTrialShared } from '../trials/trials.service';
import * as repo from './incentives.repo';

type IncentiveEntry = components['schemas']['IncentiveEntry'];
type IncentiveIssueInput = components['schemas']['IncentiveIssueInput'];
type IncentiveType = components['schemas']['IncentiveType'];
type IncentiveSummary = components['schemas']['IncentiveSummary'];

export async function issueIncentive(
  ctx: UseCaseContext,
  request: { trialId: string; participantId: string; input: IncentiveIssueInput },
): Promise<IncentiveEntry> {
  const { db, principal, actor } = ctx;
  const { trialId, participantId, input } = request;
  const now = ctx.now();
  try {
    return await withTransaction(db, async (trx) => {
      // The trial's status is read under the lock: an activation committed meanwhile is seen, not missed.
      const trial = await lockTrialShared(trx, trialId);
      if (trial.status === 'setup')
        throw new ConflictError('trial-not-active', `Trial ${trialId} is in set-up.`, { trialStatus: trial.status });
      const { view: participant } = await lockVisibleParticipant(trx, principal, trialId, participantId);
      const type = await repo.findIncentiveType(trx, trialId, input.incentive);
      if (!type)
        throw new ValidationError([{ pointer: '/incentive', detail: `trial has no incentive ${input.incentive}` }]);
      if (!type.roles.includes(participant.role)) {
        throw new ValidationError([
          {
            pointer: '/incentive',
            detail: `${input.incentive} is for ${type.roles.join(' and ').replace(/_/g, ' ')}s, not ${participant.role.replace('_', ' ')}s`,
          },
        ]);
      }
      if (isFutureDate(input.issuedOn, now))
        throw new ValidationError([{ pointer: '/issuedOn', detail: 'is in the future' }]);
      if (!participant.consents.some((c) => c.decision === 'granted')) {
        throw new ConflictError(
          'participant-not-consented',
          `Participant ${participantId} never consented; incentives are for consented participants.`,
        );
      }
      if (input.issuedOn < participant.screenedOn)
        throw new ConflictError(
          'date-before-screening',
          `issuedOn ${input.issuedOn} is before the participant was screened on ${participant.screenedOn}.`,
        );
      const live = await repo.countLiveIssues(trx, trialId, participantId, input.incentive);
      if (live >= type.max_per_participant) {
        throw new ConflictError(
          'incentive-limit-reached',
          `Participant ${participantId} already has ${live} ${input.incentive} (at most ${type.max_per_participant}).`,
        );
      }
      const entryId = randomUUID();
      await repo.insertEntry(trx, {
        trialId,
        entryId,
        participantId,
        incentive: input.incentive,
        kind: 'issue',
        amountMinor: Number(type.amount_minor),
        currency: type.currency,
        issuedOn: input.issuedOn,
        reference: input.reference,
        note: input.note ?? null,
        voids: null,
        reason: null,
        recordedBy: principal.keyId,
      });
      const entry = (await repo.findEntry(trx, trialId, entryId))!;
      await recordAudit(trx, actor, {
        trialId,
        action: 'incentive.issued',
        entityType: 'incentive',
        entityId: entryId,
        before: null,
        after: entry,
      });
      return entry;
    });
  } catch (error) {
    if (isUniqueViolation(error, 'incentive_ledger_reference'))
      throw new ConflictError(
        'duplicate-reference',
        `Reference "${input.reference}" is already used in trial ${trialId}.`,
      );
    throw error;
  }
}

/** One ledger entry, for another feature that links to it (a sub-study's interview coupon); undefined if none. */
export async function findIncentiveEntry(
  ctx: Pick<UseCaseContext, 'db'>,
  request: { trialId: string; entryId: string },
): Promise<IncentiveEntry | undefined> {
  return repo.findEntry(ctx.db, request.trialId, request.entryId);
}

export async function voidIncentive(
  ctx: UseCaseContext,
  request: { trialId: string; participantId: string; incentiveId: string; reason: string },
): Promise<IncentiveEntry> {
  const { db, principal, actor } = ctx;
  const { trialId, participantId, incentiveId: entryId, reason } = request;
  try {
    return await withTransaction(db, async (trx) => {
      await lockTrialShared(trx, trialId);
      await lockVisibleParticipant(trx, principal, trialId, participantId);
      const original = await repo.findEntry(trx, trialId, entryId);
      if (!original || original.participantId !== participantId)
        throw new NotFoundError(`Incentive ${entryId} of participant ${participantId} was not found.`);
      if (original.kind === 'void') throw new ConflictError('not-an-issue', `Entry ${entryId} is itself a void.`);
      if (original.voided)
        throw new ConflictError('incentive-already-voided', `Incentive ${entryId} is already voided.`);
      const voidId = randomUUID();
      const minor = toMinorUnits(original.amount, original.currency)!;
      await repo.insertEntry(trx, {
        trialId,
        entryId: voidId,
        participantId,
        incentive: original.incentive,
        kind: 'void',
        amountMinor: -minor,
        currency: original.currency,
        issuedOn: original.issuedOn,
        reference: null,
        note: null,
        voids: entryId,
        reason,
        recordedBy: principal.keyId,
      });
      const reversal = (await repo.findEntry(trx, trialId, voidId))!;
      await recordAudit(trx, actor, {
        trialId,
        action: 'incentive.voided',
        entityType: 'incentive',
        entityId: entryId,
        before: original,
        after: reversal,
        reason,
      });
      return reversal;
    });
  } catch (error) {
    if (isUniqueViolation(error, 'incentive_ledger_trial_id_voids_entry_id_key'))
      throw new ConflictError('incentive-already-voided', `Incentive ${entryId} is already voided.`);
    throw error;
  }
}

export async function addIncentiveType(
  ctx: UseCaseContext,
  request: { trialId: string; type: IncentiveType },
): Promise<IncentiveType> {
  const { db, actor } = ctx;
  const { trialId, type } = request;
  try {
    return await withTransaction(db, async (trx) => {
      const locked = await lockTrialExclusive(trx, trialId);
      if (locked.status === 'closed') throw new ConflictError('trial-closed', `Trial ${trialId} is closed.`);
      const errors = validateTrialConfiguration({
        title: 'x',
        registry: null,
        arms: [],
        randomization: { method: 'simple' },
        eligibility: [],
        consentForms: [],
        baselineVariables: [],
        incentives: [type],
        visits: [],
        measures: [],
        primaryVisit: null,
        delivery: null,
        fidelityScale: null,
      }).map((e) => ({ ...e, pointer: e.pointer.replace(/^\/incentives\/0/, '') }));
      if (errors.length) throw new ValidationError(errors);
      await repo.insertIncentiveType(trx, trialId, {
        code: type.code,
        description: type.description,
        amountMinor: toMinorUnits(type.amount, type.currency)!,
        currency: type.currency,
        roles: type.roles,
        maxPerParticipant: type.maxPerParticipant,
        occasion: type.occasion ?? null,
      });
      await bumpTrialVersion(trx, trialId);
      await recordAudit(trx, actor, {
        trialId,
        action: 'incentive_type.added',
        entityType: 'incentive_type',
        entityId: type.code,
        before: null,
        after: type,
      });
      return type;
    });
  } catch (error) {
    if (isUniqueViolation(error, 'incentive_types_pkey'))
      throw new ConflictError('duplicate-incentive-type', `Trial ${trialId} already has an incentive ${type.code}.`);
    throw error;
  }
}

export interface LedgerFilter {
  siteCode?: string;
  participantId?: string;
  from?: string;
  to?: string;
  limit?: number;
  cursor?: string;
}

export async function listIncentives(
  ctx: UseCaseContext,
  request: { trialId: string } & LedgerFilter,
): Promise<Page<IncentiveEntry>> {
  const { db, principal } = ctx;
  const { trialId, ...filter } = request;
  await loadTrial(ctx, trialId);
  const limit = filter.limit ?? 50;
  const after = filter.cursor === undefined ? undefined : decodeCursor(filter.cursor, isTimeOrderedCursor);
  const rows = await repo.listEntries(db, { trialId, siteCodes: principal.siteCodes, ...filter, limit, after });
  return toPage(
    rows,
    limit,
    (row) => row.entry,
    (row) => row.cursor,
  );
}

const LEDGER_COLUMNS = [
  'id',
  'participantId',
  'siteCode',
  'incentive',
  'kind',
  'amount',
  'currency',
  'issuedOn',
  'reference',
  'note',
  'voided',
  'voids',
  'reason',
  'recordedAt',
] as const;

export async function incentivesCsv(ctx: UseCaseContext, request: { trialId: string } & LedgerFilter): Promise<string> {
  const { db, principal } = ctx;
  const { trialId, ...filter } = request;
  await loadTrial(ctx, trialId);
  const rows = await repo.listEntries(db, { trialId, siteCodes: principal.siteCodes, ...filter, limit: null });
  return csvLine(LEDGER_COLUMNS) + rows.map(({ entry }) => csvLine(LEDGER_COLUMNS.map((c) => entry[c]))).join('');
}

export async function summarizeIncentives(ctx: UseCaseContext, input: { trialId: string }): Promise<IncentiveSummary> {
  const { db, principal } = ctx;
  const { trialId } = input;
  await loadTrial(ctx, trialId);
  const rows = await repo.summarize(db, trialId, principal.siteCodes);
  const labeller = await ctx.armLabeller(trialId);
  const byArm = rows
    .filter((r) => r.grouping === 'arm')
    .map((r) => ({ ...r.totals, arm: r.key === null ? null : labeller.label(r.key) }));
  // Masked rows are listed in label order: the order of arm codes would give the arms away.
  if (labeller.blinded)
    byArm.sort((a, b) => String(a.arm ?? '~').localeCompare(String(b.arm ?? '~'), 'en', { numeric: true }));
  return {
    trialId,
    byType: rows.filter((r) => r.grouping === 'type').map((r) => r.totals),
    bySite: rows.filter((r) => r.grouping === 'site').map((r) => ({ siteCode: r.key!, ...r.totals })),
    byArm,
  };
}

const SUMMARY_COLUMNS = [
  'incentive',
  'currency',
  'issuedCount',
  'issuedAmount',
  'voidedCount',
  'voidedAmount',
  'netCount',
  'netAmount',
] as const;

export function summaryCsv(summary: IncentiveSummary): string {
  const line = (grouping: string, key: string | null, totals: Record<(typeof SUMMARY_COLUMNS)[number], unknown>) =>
    csvLine([grouping, key, ...SUMMARY_COLUMNS.map((c) => totals[c])]);
  return (
    csvLine(['grouping', 'key', ...SUMMARY_COLUMNS]) +
    summary.byType.map((t) => line('type', null, t)).join('') +
    summary.bySite.map((t) => line('site', t.siteCode, t)).join('') +
    summary.byArm.map((t) => line('arm', t.arm, t)).join('')
  );
}
