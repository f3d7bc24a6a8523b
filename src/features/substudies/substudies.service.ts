import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { isUniqueViolation, withTransaction } from '../../db/database';
import type { ArmLabeller, UseCaseContext } from '../../core/use-case-context';
import { withExecutor } from '../../core/use-case-context';
import { ConflictError, FieldError, ForbiddenError, NotFoundError, ValidationError } from '../../core/errors';
import type { components } from '../../generated/openapi';
import { recordAudit } from '../audit/audit.service';
import { findIncentiveEntry, issueIncentive } from '../incentives/incentives.service';
import { isFutureDate } from '../participants/participants';
import { lockVisibleParticipant } from '../participants/participants.service';
import type { TrialView } from '../trials/trials';
import { loadTrial, lockTrialShared } from '../trials/trials.service';
import { agreementTrend, codingErrors, roundAgreement } from './coding-agreement';
import { samplingTable, SamplingTable } from './sampling-table';
import * as query from './substudies.query';
import * as repo from './substudies.repo';

type SubstudyInput = components['schemas']['SubstudyInput'];
type Substudy = components['schemas']['Substudy'];
type InvitationInput = components['schemas']['InvitationInput'];
type InvitationAnswerInput = components['schemas']['InvitationAnswerInput'];
type Invitation = components['schemas']['Invitation'];
type InterviewInput = components['schemas']['InterviewInput'];
type Interview = components['schemas']['Interview'];
type TranscriptStageInput = components['schemas']['TranscriptStageInput'];
type InterviewCouponInput = components['schemas']['InterviewCouponInput'];
type IncentiveEntry = components['schemas']['IncentiveEntry'];
type CodingRoundInput = components['schemas']['CodingRoundInput'];
type CodingRound = components['schemas']['CodingRound'];
type CodingRoundList = components['schemas']['CodingRoundList'];
type QuotaChangeInput = components['schemas']['QuotaChangeInput'];
type QuotaChange = components['schemas']['QuotaChange'];
type InvitationWithdrawalInput = components['schemas']['InvitationWithdrawalInput'];
type InterviewCorrectionInput = components['schemas']['InterviewCorrectionInput'];
type RecordingDeletionInput = components['schemas']['RecordingDeletionInput'];
type ParticipantView = components['schemas']['Participant'];

interface SubstudyRef {
  trialId: string;
  substudyCode: string;
}

const DEFAULT_AUDIO_FORM = 'audio';

const substudyNotFound = (code: string) => new NotFoundError(`Sub-study ${code} was not found.`);

/** The arm a quota names: a code, or the label this caller sees (so blinded coordinators can set quotas). */
function resolveArm(trial: TrialView, labeller: ArmLabeller, arm: string): string | undefined {
  return (
    trial.arms.find((a) => a.code === arm)?.code ??
    (labeller.blinded ? trial.arms.find((a) => labeller.label(a.code) === arm)?.code : undefined)
  );
}

function substudyView(labeller: ArmLabeller, row: repo.SubstudyRow): Substudy {
  const quotas = row.quotas.map((q) => ({ ...q, arm: labeller.label(q.arm) }));
  // Labels are sorted so that the order of arm codes does not give the arms away.
  quotas.sort(
    (a, b) =>
      a.siteCode.localeCompare(b.siteCode, 'en', { numeric: true }) ||
      a.arm.localeCompare(b.arm, 'en', { numeric: true }) ||
      a.role.localeCompare(b.role),
  );
  return { ...row, quotas };
}

const invitationView = (labeller: ArmLabeller, row: repo.InvitationRow): Invitation => ({
  ...row,
  arm: labeller.label(row.arm),
});

/**
 * Opens a change to a sub-study: the trial's shared lock (404 for an unknown trial; the trial as read under it) and
 * the sub-study's row lock, which serialises the sub-study's changes, so that each takes its locks in one order.
 */
async function lockSubstudyForChange(trx: Knex.Transaction, ref: SubstudyRef) {
  const trial = await lockTrialShared(trx, ref.trialId);
  const substudy = await repo.lockSubstudy(trx, ref.trialId, ref.substudyCode);
  if (!substudy) throw substudyNotFound(ref.substudyCode);
  return { trial, substudy };
}

/** For reads: the trial as this key may see it, and the sub-study (404 for either). */
async function readSubstudy(ctx: UseCaseContext, ref: SubstudyRef) {
  const trial = await loadTrial(ctx, ref.trialId);
  const [substudy] = await repo.listSubstudies(ctx.db, ref.trialId, { code: ref.substudyCode, siteCodes: [] });
  if (!substudy) throw substudyNotFound(ref.substudyCode);
  return { trial, substudy };
}

function refuseFutureDate(ctx: UseCaseContext, pointer: string, date: string) {
  if (isFutureDate(date, ctx.now())) throw new ValidationError([{ pointer, detail: 'is in the future' }]);
}

/** Locks the participant a record is about; another site's participant makes the record as invisible (404). */
async function lockRecordOwner(
  ctx: UseCaseContext,
  trx: Knex.Transaction,
  owner: { trialId: string; participantId: string },
  notFound: NotFoundError,
): Promise<ParticipantView> {
  try {
    return (await lockVisibleParticipant(trx, ctx.principal, owner.trialId, owner.participantId)).view;
  } catch (error) {
    throw error instanceof NotFoundError ? notFound : error;
  }
}

/**
 * The quotas as stored (arm codes) from the quotas as given (codes, or a blinded caller's labels). Unknown sites
 * and arms and a cell given twice are 422 with their pointers; a cell outside a site-limited key's sites is 403.
 */
function resolveQuotas(
  ctx: UseCaseContext,
  trial: TrialView,
  labeller: ArmLabeller,
  given: SubstudyInput['quotas'],
  errors: FieldError[] = [],
): repo.QuotaRow[] {
  const cells = new Set<string>();
  const quotas = given.map((q, i) => {
    if (!trial.sites.some((s) => s.code === q.siteCode))
      errors.push({ pointer: `/quotas/${i}/siteCode`, detail: `trial has no site ${q.siteCode}` });
    const arm = resolveArm(trial, labeller, q.arm);
    if (arm === undefined) errors.push({ pointer: `/quotas/${i}/arm`, detail: `trial has no arm ${q.arm}` });
    const cell = JSON.stringify([q.siteCode, arm ?? q.arm, q.role]);
    if (cells.has(cell)) errors.push({ pointer: `/quotas/${i}`, detail: 'this site, arm and role is given twice' });
    cells.add(cell);
    return { siteCode: q.siteCode, arm: arm ?? q.arm, role: q.role, target: q.target };
  });
  if (errors.length) throw new ValidationError(errors);
  const { siteCodes } = ctx.principal;
  const foreign = quotas.find((q) => siteCodes !== null && !siteCodes.includes(q.siteCode));
  if (foreign)
    throw new ForbiddenError(
      `This key is limited to sites ${siteCodes!.join(', ')}; quotas name site ${foreign.siteCode}.`,
    );
  return quotas;
}

export async function createSubstudy(
  ctx: UseCaseContext,
  request: { trialId: string; input: SubstudyInput },
): Promise<Substudy> {
  const { db, principal, actor } = ctx;
  const { trialId, input } = request;
  try {
    return await withTransaction(db, async (trx) => {
      // Sites, arms, forms and incentives are read under the lock: a PATCH committed meanwhile is what counts.
      const trial = await lockTrialShared(trx, trialId);
      const labeller = await ctx.armLabeller(trialId, trx);
      const errors: FieldError[] = [];
      const audioConsentForm = input.audioConsentForm ?? DEFAULT_AUDIO_FORM;
      if (!trial.consentForms.some((f) => f.code === audioConsentForm))
        errors.push({ pointer: '/audioConsentForm', detail: `trial has no consent form ${audioConsentForm}` });
      if (input.incentive !== undefined && !trial.incentives.some((i) => i.code === input.incentive))
        errors.push({ pointer: '/incentive', detail: `trial has no incentive ${input.incentive}` });
      const quotas = resolveQuotas(ctx, trial, labeller, input.quotas, errors);
      await repo.insertSubstudy(trx, {
        trialId,
        code: input.code,
        title: input.title,
        audioConsentForm,
        incentive: input.incentive ?? null,
        createdBy: principal.keyId,
        quotas,
      });
      const [created] = await repo.listSubstudies(trx, trialId, { code: input.code, siteCodes: null });
      await recordAudit(trx, actor, {
        trialId,
        action: 'substudy.created',
        entityType: 'substudy',
        entityId: input.code,
        before: null,
        after: created!,
      });
      return substudyView(labeller, created!);
    });
  } catch (error) {
    if (isUniqueViolation(error, 'substudies_pkey'))
      throw new ConflictError('duplicate-substudy', `Trial ${trialId} already has a sub-study ${input.code}.`);
    throw error;
  }
}

export async function listSubstudies(ctx: UseCaseContext, request: { trialId: string }): Promise<Substudy[]> {
  const { trialId } = request;
  await loadTrial(ctx, trialId);
  const labeller = await ctx.armLabeller(trialId);
  const rows = await repo.listSubstudies(ctx.db, trialId, { siteCodes: ctx.principal.siteCodes });
  return rows.map((row) => substudyView(labeller, row));
}

export async function changeSubstudyQuotas(
  ctx: UseCaseContext,
  request: SubstudyRef & { input: QuotaChangeInput },
): Promise<QuotaChange> {
  const { trialId, substudyCode, input } = request;
  return withTransaction(ctx.db, async (trx) => {
    const { trial } = await lockSubstudyForChange(trx, request);
    const labeller = await ctx.armLabeller(trialId, trx);
    const quotas = resolveQuotas(ctx, trial, labeller, input.quotas);
    const sameCell = (a: repo.QuotaRow) => (b: repo.QuotaRow) =>
      a.siteCode === b.siteCode && a.arm === b.arm && a.role === b.role;
    const [before] = await repo.listSubstudies(trx, trialId, { code: substudyCode, siteCodes: null });
    await repo.upsertQuotas(trx, trialId, substudyCode, quotas);
    const counted = await query.samplingCells(trx, { trialId, substudy: substudyCode, siteCodes: null });
    const belowAccepted = quotas.flatMap((q) => {
      const accepted = counted.find(sameCell(q))?.accepted ?? 0;
      return accepted > q.target ? [{ ...q, arm: labeller.label(q.arm), accepted }] : [];
    });
    await recordAudit(trx, ctx.actor, {
      trialId,
      action: 'substudy.quotas_changed',
      entityType: 'substudy',
      entityId: substudyCode,
      before: { quotas: quotas.map((q) => ({ ...q, target: before!.quotas.find(sameCell(q))?.target ?? null })) },
      after: { quotas },
      reason: input.reason,
    });
    const [after] = await repo.listSubstudies(trx, trialId, { code: substudyCode, siteCodes: ctx.principal.siteCodes });
    return { substudy: substudyView(labeller, after!), belowAccepted };
  });
}

export async function inviteToSubstudy(
  ctx: UseCaseContext,
  request: SubstudyRef & { input: InvitationInput },
): Promise<Invitation> {
  const { db, principal, actor } = ctx;
  const { trialId, substudyCode, input } = request;
  try {
    return await withTransaction(db, async (trx) => {
      await lockSubstudyForChange(trx, request);
      const { view: participant } = await lockVisibleParticipant(trx, principal, trialId, input.participantId);
      const labeller = await ctx.armLabeller(trialId, trx);
      refuseFutureDate(ctx, '/invitedOn', input.invitedOn);
      const arm = participant.role === 'service_user' ? participant.allocation?.arm : participant.assignment?.arm;
      if (!arm)
        throw new ConflictError(
          'not-a-substudy-candidate',
          participant.role === 'service_user'
            ? `Participant ${input.participantId} is not randomized; only randomized service users are candidates.`
            : `Case worker ${input.participantId} is not assigned to an arm; only assigned case workers are candidates.`,
        );
      if (input.invitedOn < participant.screenedOn)
        throw new ConflictError(
          'date-before-screening',
          `invitedOn ${input.invitedOn} is before the participant was screened on ${participant.screenedOn}.`,
        );
      const cell = { trialId, substudy: substudyCode, siteCode: participant.siteCode, arm, role: participant.role };
      if (!(await repo.hasQuota(trx, cell)))
        throw new ConflictError(
          'outside-sampling-frame',
          `Sub-study ${substudyCode} has no quota for ${participant.role.replace('_', ' ')}s of ${labeller.label(arm)} at site ${participant.siteCode}.`,
        );
      const existing = await repo.findInvitation(trx, {
        trialId,
        substudy: substudyCode,
        participantId: participant.id,
      });
      if (existing) throw alreadyInvited(input.participantId, substudyCode);
      const invitationId = randomUUID();
      await repo.insertInvitation(trx, {
        trialId,
        substudy: substudyCode,
        invitationId,
        participantId: participant.id,
        siteCode: participant.siteCode,
        arm,
        role: participant.role,
        invitedOn: input.invitedOn,
        invitedBy: input.invitedBy,
        recordedBy: principal.keyId,
      });
      const invitation = (await repo.findInvitation(trx, { trialId, substudy: substudyCode, invitationId }))!;
      await recordAudit(trx, actor, {
        trialId,
        action: 'substudy.invited',
        entityType: 'substudy_invitation',
        entityId: invitationId,
        before: null,
        after: { substudy: substudyCode, ...invitation },
      });
      return invitationView(labeller, invitation);
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw alreadyInvited(input.participantId, substudyCode);
    throw error;
  }
}

const alreadyInvited = (participantId: string, substudy: string) =>
  new ConflictError('already-invited', `Participant ${participantId} is already invited to sub-study ${substudy}.`);

export async function answerInvitation(
  ctx: UseCaseContext,
  request: SubstudyRef & { invitationId: string; input: InvitationAnswerInput },
): Promise<Invitation> {
  const { db, actor } = ctx;
  const { trialId, substudyCode, invitationId, input } = request;
  return withTransaction(db, async (trx) => {
    await lockSubstudyForChange(trx, request);
    const before = await lockVisibleInvitation(ctx, trx, request);
    refuseFutureDate(ctx, '/answeredOn', input.answeredOn);
    if (before.withdrawal !== null) throw invitationWithdrawn(before);
    if (before.answer !== null)
      throw new ConflictError(
        'invitation-already-answered',
        `Invitation ${invitationId} was already ${before.answer} on ${before.answeredOn}.`,
      );
    if (input.answeredOn < before.invitedOn)
      throw new ConflictError(
        'date-before-invitation',
        `answeredOn ${input.answeredOn} is before the invitation on ${before.invitedOn}.`,
      );
    const answered = await repo.answerInvitation(trx, {
      trialId,
      substudy: substudyCode,
      invitationId,
      answer: input.answer,
      answeredOn: input.answeredOn,
      reason: input.reason ?? null,
    });
    if (!answered)
      throw new ConflictError('invitation-already-answered', `Invitation ${invitationId} was already answered.`);
    const after = (await repo.findInvitation(trx, { trialId, substudy: substudyCode, invitationId }))!;
    await recordAudit(trx, actor, {
      trialId,
      action: `substudy.invitation_${input.answer}`,
      entityType: 'substudy_invitation',
      entityId: invitationId,
      before,
      after,
      reason: input.reason ?? null,
    });
    return invitationView(await ctx.armLabeller(trialId, trx), after);
  });
}

/** Reads a visible invitation: one of another site's participant answers 404, like the participant. */
async function lockVisibleInvitation(
  ctx: UseCaseContext,
  trx: Knex.Transaction,
  request: SubstudyRef & { invitationId: string },
): Promise<repo.InvitationRow> {
  const { trialId, substudyCode, invitationId } = request;
  const notFound = new NotFoundError(`Invitation ${invitationId} was not found.`);
  const invitation = await repo.findInvitation(trx, { trialId, substudy: substudyCode, invitationId });
  if (!invitation) throw notFound;
  await lockRecordOwner(ctx, trx, { trialId, participantId: invitation.participantId }, notFound);
  return invitation;
}

const invitationWithdrawn = (invitation: repo.InvitationRow) =>
  new ConflictError(
    'invitation-already-withdrawn',
    `Invitation ${invitation.id} was withdrawn on ${invitation.withdrawal!.on}.`,
  );

export async function withdrawInvitation(
  ctx: UseCaseContext,
  request: SubstudyRef & { invitationId: string; input: InvitationWithdrawalInput },
): Promise<Invitation> {
  const { trialId, substudyCode, invitationId, input } = request;
  return withTransaction(ctx.db, async (trx) => {
    await lockSubstudyForChange(trx, request);
    const before = await lockVisibleInvitation(ctx, trx, request);
    refuseFutureDate(ctx, '/withdrawnOn', input.withdrawnOn);
    if (before.withdrawal !== null) throw invitationWithdrawn(before);
    if (before.answer === 'declined')
      throw new ConflictError(
        'invitation-declined',
        `Invitation ${invitationId} was declined on ${before.answeredOn}; there is nothing to withdraw.`,
      );
    if (await repo.hasInterview(trx, { trialId, substudy: substudyCode, invitationId }))
      throw new ConflictError(
        'already-interviewed',
        `The participant of invitation ${invitationId} was interviewed; an invitation is withdrawn before the interview.`,
      );
    const since = before.answeredOn ?? before.invitedOn;
    if (input.withdrawnOn < since)
      throw new ConflictError(
        'date-before-invitation',
        `withdrawnOn ${input.withdrawnOn} is before the invitation${before.answeredOn ? "'s answer" : ''} on ${since}.`,
      );
    await repo.withdrawInvitation(trx, {
      trialId,
      substudy: substudyCode,
      invitationId,
      on: input.withdrawnOn,
      by: input.withdrawnBy,
      reason: input.reason,
    });
    const after = (await repo.findInvitation(trx, { trialId, substudy: substudyCode, invitationId }))!;
    await recordAudit(trx, ctx.actor, {
      trialId,
      action: 'substudy.invitation_withdrawn',
      entityType: 'substudy_invitation',
      entityId: invitationId,
      before,
      after,
      reason: input.reason,
    });
    return invitationView(await ctx.armLabeller(trialId, trx), after);
  });
}

export async function getSubstudySampling(ctx: UseCaseContext, request: SubstudyRef): Promise<SamplingTable> {
  const { trialId, substudyCode } = request;
  const { trial, substudy } = await readSubstudy(ctx, request);
  const labeller = await ctx.armLabeller(trialId);
  const cells = await query.samplingCells(ctx.db, {
    trialId,
    substudy: substudyCode,
    siteCodes: ctx.principal.siteCodes,
  });
  return samplingTable(
    { trialId, substudy: substudyCode, title: substudy.title },
    cells.map((cell) => ({ ...cell, arm: labeller.label(cell.arm) })),
    labeller.arms(trial.arms).map((arm) => arm.code),
  );
}

async function interviewView(
  trx: Knex.Transaction,
  trialId: string,
  substudy: string,
  interviewId: string,
): Promise<Interview> {
  const [interview] = await query.listInterviews(trx, { trialId, substudy, siteCodes: null, interviewId });
  return interview!;
}

export async function recordInterview(
  ctx: UseCaseContext,
  request: SubstudyRef & { input: InterviewInput },
): Promise<Interview> {
  const { db, principal, actor } = ctx;
  const { trialId, substudyCode, input } = request;
  try {
    return await withTransaction(db, async (trx) => {
      const { substudy } = await lockSubstudyForChange(trx, request);
      // The participant's row lock also serialises this with a withdrawal of consent.
      const { view: participant } = await lockVisibleParticipant(trx, principal, trialId, input.participantId);
      refuseFutureDate(ctx, '/conductedOn', input.conductedOn);
      const invitation = await repo.findInvitation(trx, {
        trialId,
        substudy: substudyCode,
        participantId: participant.id,
      });
      if (!invitation || invitation.answer !== 'accepted' || invitation.withdrawal !== null)
        throw new ConflictError(
          'invitation-not-accepted',
          `Participant ${input.participantId} has ${!invitation ? 'no' : invitation.withdrawal ? 'a withdrawn' : `${invitation.answer ?? 'not answered'} the`} invitation to sub-study ${substudyCode}; interviews need an accepted one.`,
        );
      refuseBeforeAcceptance(input.conductedOn, invitation);
      const audioConsentId = input.audioRecorded
        ? audioConsentFor(participant, substudy.audioConsentForm, input.conductedOn)
        : null;
      const interviewId = randomUUID();
      await repo.insertInterview(trx, {
        trialId,
        substudy: substudyCode,
        interviewId,
        invitationId: invitation.id,
        participantId: participant.id,
        conductedOn: input.conductedOn,
        interviewer: input.interviewer,
        durationMinutes: input.durationMinutes,
        location: input.location,
        audioConsentId,
        recordedBy: principal.keyId,
      });
      const interview = await interviewView(trx, trialId, substudyCode, interviewId);
      await recordAudit(trx, actor, {
        trialId,
        action: 'substudy.interviewed',
        entityType: 'substudy_interview',
        entityId: interviewId,
        before: null,
        after: { substudy: substudyCode, ...interview },
      });
      return interview;
    });
  } catch (error) {
    if (isUniqueViolation(error))
      throw new ConflictError(
        'already-interviewed',
        `Participant ${input.participantId} was already interviewed for sub-study ${substudyCode}.`,
      );
    throw error;
  }
}

function refuseBeforeAcceptance(conductedOn: string, invitation: repo.InvitationRow) {
  if (conductedOn < invitation.answeredOn!)
    throw new ConflictError(
      'date-before-acceptance',
      `conductedOn ${conductedOn} is before the invitation was accepted on ${invitation.answeredOn}.`,
    );
}

/**
 * The consent an audio recording on `on` relies on: granted, on the form's current version, not withdrawn, signed
 * by then. Without one: 409 `audio-consent-missing` (and the caller writes nothing).
 */
function audioConsentFor(participant: ParticipantView, form: string, on: string): string {
  const consent = participant.consents.find(
    (c) => c.form === form && c.current && c.decision === 'granted' && c.withdrawal === null && c.signedOn <= on,
  );
  if (!consent)
    throw new ConflictError(
      'audio-consent-missing',
      `Participant ${participant.id} holds no granted, current, not withdrawn consent to form ${form} signed by ${on}; the interview cannot be audio-recorded.`,
    );
  return consent.id;
}

export async function listInterviews(ctx: UseCaseContext, request: SubstudyRef): Promise<Interview[]> {
  const { trialId, substudyCode } = request;
  await readSubstudy(ctx, request);
  return query.listInterviews(ctx.db, { trialId, substudy: substudyCode, siteCodes: ctx.principal.siteCodes });
}

/**
 * Locks a visible interview and its participant (whose row lock serialises this with a withdrawal of consent): one
 * of another site's participant answers 404, like the participant.
 */
async function lockVisibleInterview(
  ctx: UseCaseContext,
  trx: Knex.Transaction,
  request: SubstudyRef & { interviewId: string },
): Promise<{ facts: repo.InterviewFacts; participant: ParticipantView }> {
  const { trialId, substudyCode, interviewId } = request;
  const facts = await repo.lockInterview(trx, trialId, substudyCode, interviewId);
  const notFound = new NotFoundError(`Interview ${interviewId} was not found.`);
  if (!facts) throw notFound;
  const participant = await lockRecordOwner(ctx, trx, { trialId, participantId: facts.participantId }, notFound);
  return { facts, participant };
}

const CORRECTABLE = ['conductedOn', 'interviewer', 'durationMinutes', 'location', 'audioRecorded'] as const;

/** The fields a correction changes, as they were and as they become; empty when it changes nothing. */
export function interviewChanges(
  facts: repo.InterviewFields,
  input: Partial<repo.InterviewFields>,
): { before: Partial<repo.InterviewFields>; after: Partial<repo.InterviewFields> } {
  const before: Record<string, unknown> = {};
  const after: Record<string, unknown> = {};
  for (const field of CORRECTABLE)
    if (input[field] !== undefined && input[field] !== facts[field]) {
      before[field] = facts[field];
      after[field] = input[field];
    }
  return { before, after };
}

const correctionRefused = (interviewId: string, why: string) =>
  new ConflictError('interview-correction-refused', `Cannot correct interview ${interviewId}: ${why}.`);

export async function correctInterview(
  ctx: UseCaseContext,
  request: SubstudyRef & { interviewId: string; input: InterviewCorrectionInput },
): Promise<Interview> {
  const { trialId, substudyCode, interviewId, input } = request;
  return withTransaction(ctx.db, async (trx) => {
    const { substudy } = await lockSubstudyForChange(trx, request);
    const { facts, participant } = await lockVisibleInterview(ctx, trx, request);
    const { reason, ...fields } = input;
    const { before, after } = interviewChanges(facts, fields);
    if (!Object.keys(after).length) throw correctionRefused(interviewId, 'the request changes nothing');
    const conductedOn = after.conductedOn ?? facts.conductedOn;
    const current = await interviewView(trx, trialId, substudyCode, interviewId);
    if (after.conductedOn !== undefined) {
      refuseFutureDate(ctx, '/conductedOn', after.conductedOn);
      const invitation = await repo.findInvitation(trx, {
        trialId,
        substudy: substudyCode,
        invitationId: facts.invitationId,
      });
      refuseBeforeAcceptance(after.conductedOn, invitation!);
      if (facts.transcribedOn !== null && after.conductedOn > facts.transcribedOn)
        throw correctionRefused(
          interviewId,
          `the transcript was made on ${facts.transcribedOn}, before ${conductedOn}`,
        );
    }
    let audioConsentId = facts.audioConsentId;
    if (after.audioRecorded === false) {
      if (facts.checkedOn !== null)
        throw correctionRefused(interviewId, `its transcript was checked against the recording on ${facts.checkedOn}`);
      if (current.recording?.deletionRequiredSince)
        throw correctionRefused(interviewId, 'its recording is flagged for deletion; record the deletion instead');
      audioConsentId = null;
    } else if (after.audioRecorded === true) {
      audioConsentId = audioConsentFor(participant, substudy.audioConsentForm, conductedOn);
    } else if (facts.audioRecorded && after.conductedOn !== undefined) {
      const relied = participant.consents.find((c) => c.id === facts.audioConsentId)!;
      if (relied.signedOn > conductedOn)
        throw new ConflictError(
          'audio-consent-missing',
          `The audio consent the recording relies on was signed on ${relied.signedOn}, after ${conductedOn}.`,
        );
    }
    await repo.correctInterview(trx, {
      trialId,
      substudy: substudyCode,
      interviewId,
      before,
      after,
      audioConsentId,
      reason,
      correctedBy: ctx.principal.keyId,
    });
    await recordAudit(trx, ctx.actor, {
      trialId,
      action: 'substudy.interview_corrected',
      entityType: 'substudy_interview',
      entityId: interviewId,
      before,
      after,
      reason,
    });
    return interviewView(trx, trialId, substudyCode, interviewId);
  });
}

export async function recordRecordingDeletion(
  ctx: UseCaseContext,
  request: SubstudyRef & { interviewId: string; input: RecordingDeletionInput },
): Promise<Interview> {
  const { trialId, substudyCode, interviewId, input } = request;
  return withTransaction(ctx.db, async (trx) => {
    await lockSubstudyForChange(trx, request);
    await lockVisibleInterview(ctx, trx, request);
    refuseFutureDate(ctx, '/deletedOn', input.deletedOn);
    const before = await interviewView(trx, trialId, substudyCode, interviewId);
    const refused = (why: string) =>
      new ConflictError(
        'recording-deletion-refused',
        `Cannot record the deletion for interview ${interviewId}: ${why}.`,
      );
    const flaggedSince = before.recording?.deletionRequiredSince;
    if (!before.recording) throw refused('the interview was not audio-recorded');
    if (!flaggedSince) throw refused('its recording is not flagged for deletion (the audio consent stands)');
    if (before.recording.deletion)
      throw refused(`the recording was recorded as deleted on ${before.recording.deletion.on}`);
    if (input.deletedOn < flaggedSince)
      throw refused(`${input.deletedOn} is before the consent was withdrawn on ${flaggedSince}`);
    await repo.setRecordingDeletion(trx, {
      trialId,
      substudy: substudyCode,
      interviewId,
      on: input.deletedOn,
      by: input.deletedBy,
      method: input.method ?? null,
    });
    const after = await interviewView(trx, trialId, substudyCode, interviewId);
    await recordAudit(trx, ctx.actor, {
      trialId,
      action: 'substudy.recording_deleted',
      entityType: 'substudy_interview',
      entityId: interviewId,
      before: before.recording,
      after: after.recording,
    });
    return after;
  });
}

/** Why a transcript stage cannot be recorded now, or null when it can. */
export function transcriptStageRefusal(facts: repo.InterviewFacts, stage: repo.TranscriptStageName, on: string) {
  const done = { transcribed: facts.transcribedOn, checked: facts.checkedOn, deidentified: facts.deidentifiedOn };
  if (done[stage] !== null) return `the transcript was already ${stage} on ${done[stage]}`;
  if (stage === 'transcribed')
    return on < facts.conductedOn ? `${on} is before the interview on ${facts.conductedOn}` : null;
  if (facts.transcribedOn === null) return 'the interview is not transcribed yet';
  if (stage === 'checked' && !facts.audioRecorded)
    return 'the interview was not recorded, so there is nothing to check against';
  if (stage === 'deidentified' && facts.audioRecorded && facts.checkedOn === null)
    return 'the transcript of a recorded interview is checked against the recording before it is de-identified';
  const previous = stage === 'deidentified' && facts.checkedOn !== null ? facts.checkedOn : facts.transcribedOn;
  return on < previous ? `${on} is before the previous stage on ${previous}` : null;
}

export async function recordTranscriptStage(
  ctx: UseCaseContext,
  request: SubstudyRef & { interviewId: string; input: TranscriptStageInput },
): Promise<Interview> {
  const { db, actor } = ctx;
  const { trialId, substudyCode, interviewId, input } = request;
  return withTransaction(db, async (trx) => {
    await lockSubstudyForChange(trx, request);
    const { facts } = await lockVisibleInterview(ctx, trx, request);
    refuseFutureDate(ctx, '/on', input.on);
    const refusal = transcriptStageRefusal(facts, input.stage, input.on);
    if (refusal)
      throw new ConflictError(
        'transcript-stage-refused',
        `Cannot record "${input.stage}" for interview ${interviewId}: ${refusal}.`,
      );
    const before = await interviewView(trx, trialId, substudyCode, interviewId);
    await repo.setTranscriptStage(trx, { trialId, substudy: substudyCode, interviewId, ...input });
    const after = await interviewView(trx, trialId, substudyCode, interviewId);
    await recordAudit(trx, actor, {
      trialId,
      action: `substudy.transcript_${input.stage}`,
      entityType: 'substudy_interview',
      entityId: interviewId,
      before: before.transcript,
      after: after.transcript,
    });
    return after;
  });
}

export async function issueInterviewCoupon(
  ctx: UseCaseContext,
  request: SubstudyRef & { interviewId: string; input: InterviewCouponInput },
): Promise<IncentiveEntry> {
  const { db, actor } = ctx;
  const { trialId, substudyCode, interviewId, input } = request;
  return withTransaction(db, async (trx) => {
    // The sub-study's row lock serialises coupons: a retry waits for the first request and then finds its coupon.
    const { substudy } = await lockSubstudyForChange(trx, request);
    const { facts, participant } = await lockVisibleInterview(ctx, trx, request);
    const existing = await repo.findCoupon(trx, trialId, substudyCode, interviewId);
    if (existing) {
      const entry = (await findIncentiveEntry({ db: trx }, { trialId, entryId: existing }))!;
      if (entry.reference === input.reference) return entry;
      throw new ConflictError(
        'interview-coupon-already-issued',
        `Interview ${interviewId} already has its coupon (${entry.reference}, issued on ${entry.issuedOn}).`,
        { incentiveId: entry.id },
      );
    }
    if (substudy.incentive === null)
      throw new ConflictError('substudy-has-no-incentive', `Sub-study ${substudyCode} issues no incentive.`);
    if (participant.role !== 'service_user')
      throw new ValidationError([
        { pointer: '', detail: 'interview coupons are for service users; this interview is of a case worker' },
      ]);
    const entry = await issueIncentive(withExecutor(ctx, trx), {
      trialId,
      participantId: facts.participantId,
      input: {
        incentive: substudy.incentive,
        issuedOn: input.issuedOn,
        reference: input.reference,
        note: `sub-study ${substudyCode}, interview ${interviewId}`,
      },
    });
    await repo.insertCoupon(trx, { trialId, substudy: substudyCode, interviewId, entryId: entry.id });
    await recordAudit(trx, actor, {
      trialId,
      action: 'substudy.coupon_issued',
      entityType: 'substudy_interview',
      entityId: interviewId,
      before: null,
      after: { substudy: substudyCode, interviewId, incentiveId: entry.id, reference: entry.reference },
    });
    return entry;
  });
}

function codingRoundView(row: repo.CodingRoundRow): CodingRound {
  const result = roundAgreement(row.coders, row.codings);
  return {
    round: row.round,
    coders: row.coders,
    units: result.units,
    codings: row.codings.length,
    note: row.note,
    agreement: result.agreement,
    byCode: result.byCode,
    recordedAt: row.recordedAt,
  };
}

export async function recordCodingRound(
  ctx: UseCaseContext,
  request: SubstudyRef & { input: CodingRoundInput },
): Promise<CodingRound> {
  const { db, principal, actor } = ctx;
  const { trialId, substudyCode, input } = request;
  const errors = codingErrors(input.coders, input.codings);
  if (errors.length) throw new ValidationError(errors);
  return withTransaction(db, async (trx) => {
    await lockSubstudyForChange(trx, request);
    const round = await repo.insertCodingRound(trx, {
      trialId,
      substudy: substudyCode,
      coders: input.coders,
      codings: input.codings,
      note: input.note ?? null,
      recordedBy: principal.keyId,
    });
    const view = codingRoundView((await repo.listCodingRounds(trx, trialId, substudyCode, round))[0]!);
    await recordAudit(trx, actor, {
      trialId,
      action: 'substudy.coding_round_recorded',
      entityType: 'substudy_coding_round',
      entityId: `${substudyCode}#${round}`,
      before: null,
      after: {
        round,
        coders: input.coders,
        units: view.units,
        codings: view.codings,
        percentAgreement: view.agreement.percentAgreement.percent,
      },
    });
    return view;
  });
}

export async function listCodingRounds(ctx: UseCaseContext, request: SubstudyRef): Promise<CodingRoundList> {
  const { trialId, substudyCode } = request;
  await readSubstudy(ctx, request);
  const rounds = (await repo.listCodingRounds(ctx.db, trialId, substudyCode)).map(codingRoundView);
  return { rounds, trend: agreementTrend(rounds) };
}
