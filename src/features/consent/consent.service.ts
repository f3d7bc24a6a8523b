import { randomUUID } from 'node:crypto';
import { isUniqueViolation, withTransaction } from '../../db/database';
import type { ElectronicSignature } from '../../core/electronic-signature';
import type { UseCaseContext } from '../../core/use-case-context';
import { ConflictError, NotFoundError, ValidationError } from '../../core/errors';
import type { components } from '../../generated/openapi';
import { recordAudit } from '../audit/audit.service';
import { isFutureDate } from '../participants/participants';
import { assertEnrolling, lockVisibleParticipant } from '../participants/participants.service';
import { bumpTrialVersion, loadTrial, lockTrialExclusive, lockTrialShared } from '../trials/trials.service';
import * as repo from './consent.repo';

type ConsentInput = components['schemas']['ConsentInput'];
type WithdrawalInput = components['schemas']['WithdrawalInput'];
type ConsentView = components['schemas']['Consent'];
type ConsentForm = components['schemas']['ConsentForm'];
type ConsentFormUsage = components['schemas']['ConsentFormUsage'];

export async function recordConsent(
  ctx: UseCaseContext,
  request: { trialId: string; participantId: string; input: ConsentInput },
): Promise<ConsentView> {
  const { db, principal, actor } = ctx;
  const { trialId, participantId, input } = request;
  const now = ctx.now();
  try {
    return await withTransaction(db, async (trx) => {
      assertEnrolling(await lockTrialShared(trx, trialId));
      const { view: participant } = await lockVisibleParticipant(trx, principal, trialId, participantId);
      const errors = [];
      if (!(await repo.findFormVersion(trx, trialId, input.form, input.version))) {
        errors.push(
          (await repo.findForm(trx, trialId, input.form))
            ? { pointer: '/version', detail: `form ${input.form} has no version ${input.version}` }
            : { pointer: '/form', detail: `trial has no consent form ${input.form}` },
        );
      }
      if (isFutureDate(input.signedOn, now)) errors.push({ pointer: '/signedOn', detail: 'is in the future' });
      if (errors.length) throw new ValidationError(errors);
      if (!participant.eligible) {
        throw new ConflictError(
          'participant-ineligible',
          `Participant ${participantId} did not meet the eligibility criteria (${participant.unmetCriteria.join(', ')}); consent cannot be recorded.`,
        );
      }
      if (input.signedOn < participant.screenedOn) {
        throw new ConflictError(
          'date-before-screening',
          `signedOn ${input.signedOn} is before the participant was screened on ${participant.screenedOn}.`,
        );
      }
      const consentId = randomUUID();
      await repo.insertConsent(trx, {
        trialId,
        consentId,
        participantId,
        form: input.form,
        version: input.version,
        decision: input.decision,
        signedOn: input.signedOn,
        obtainedBy: input.obtainedBy,
        method: input.method,
        reason: input.reason ?? null,
      });
      const consent = (await repo.findConsent(trx, trialId, participantId, consentId))!;
      await recordAudit(trx, actor, {
        trialId,
        action: 'consent.recorded',
        entityType: 'consent',
        entityId: consentId,
        before: null,
        after: consent,
        reason: input.reason ?? null,
      });
      return consent;
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ConflictError(
        'consent-already-recorded',
        `A decision on form ${input.form} version ${input.version} is already recorded for participant ${participantId}.`,
      );
    }
    throw error;
  }
}

export async function withdrawConsent(
  ctx: UseCaseContext,
  request: {
    trialId: string;
    participantId: string;
    consentId: string;
    input: Omit<WithdrawalInput, 'signature'>;
    signature?: ElectronicSignature | null;
  },
): Promise<ConsentView> {
  const { db, principal, actor } = ctx;
  const { trialId, participantId, consentId, input } = request;
  const signature = request.signature ?? null;
  const now = ctx.now();
  try {
    return await withTransaction(db, async (trx) => {
      await lockTrialShared(trx, trialId);
      await lockVisibleParticipant(trx, principal, trialId, participantId);
      const before = await repo.findConsent(trx, trialId, participantId, consentId);
      if (!before) throw new NotFoundError(`Consent ${consentId} of participant ${participantId} was not found.`);
      if (isFutureDate(input.withdrawnOn, now))
        throw new ValidationError([{ pointer: '/withdrawnOn', detail: 'is in the future' }]);
      if (before.decision === 'declined')
        throw new ConflictError('consent-declined', `Consent ${consentId} was declined; there is nothing to withdraw.`);
      if (before.withdrawal)
        throw new ConflictError(
          'consent-already-withdrawn',
          `Consent ${consentId} was already withdrawn on ${before.withdrawal.withdrawnOn}.`,
        );
      if (input.withdrawnOn < before.signedOn)
        throw new ConflictError(
          'date-before-consent',
          `withdrawnOn ${input.withdrawnOn} is before the consent was signed on ${before.signedOn}.`,
        );
      await repo.insertWithdrawal(trx, {
        trialId,
        consentId,
        withdrawnOn: input.withdrawnOn,
        reason: input.reason,
        scope: input.scope,
        signature,
      });
      const after = (await repo.findConsent(trx, trialId, participantId, consentId))!;
      await recordAudit(trx, actor, {
        trialId,
        action: 'consent.withdrawn',
        entityType: 'consent',
        entityId: consentId,
        before,
        after: signature ? { ...after, signature } : after,
        reason: input.reason,
      });
      return after;
    });
  } catch (error) {
    if (isUniqueViolation(error))
      throw new ConflictError('consent-already-withdrawn', `Consent ${consentId} was already withdrawn.`);
    throw error;
  }
}

export async function addConsentFormVersion(
  ctx: UseCaseContext,
  request: { trialId: string; form: ConsentForm },
): Promise<ConsentFormUsage> {
  const { db, actor } = ctx;
  const { trialId, form } = request;
  try {
    return await withTransaction(db, async (trx) => {
      const locked = await lockTrialExclusive(trx, trialId);
      if (locked.status === 'closed') throw new ConflictError('trial-closed', `Trial ${trialId} is closed.`);
      const existing = await repo.findForm(trx, trialId, form.code);
      if (existing && existing.required !== form.required) {
        throw new ValidationError([
          {
            pointer: '/required',
            detail: `form ${form.code} is ${existing.required ? '' : 'not '}required; every version must agree`,
          },
        ]);
      }
      await repo.insertFormVersion(trx, trialId, form);
      await bumpTrialVersion(trx, trialId);
      const usage = (await repo.listFormUsage(trx, trialId, null)).find(
        (f) => f.code === form.code && f.version === form.version,
      )!;
      await recordAudit(trx, actor, {
        trialId,
        action: 'consent_form.added',
        entityType: 'consent_form',
        entityId: `${form.code}@${form.version}`,
        before: null,
        after: usage,
      });
      return usage;
    });
  } catch (error) {
    if (isUniqueViolation(error))
      throw new ConflictError(
        'duplicate-consent-form-version',
        `Form ${form.code} already has a version ${form.version}.`,
      );
    throw error;
  }
}

export async function listConsentForms(ctx: UseCaseContext, input: { trialId: string }): Promise<ConsentFormUsage[]> {
  await loadTrial(ctx, input.trialId);
  return repo.listFormUsage(ctx.db, input.trialId, ctx.principal.siteCodes);
}
