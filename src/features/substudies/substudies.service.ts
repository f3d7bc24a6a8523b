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
import { lockVisibleParticipant, requireVisibleParticipant } from '../participants/participants.service';
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

async function requireSubstudy(trx: Knex.Transaction, trialId: string, code: string) {
  const substudy = await repo.lockSubstudy(trx, trialId, code);
  if (!substudy) throw substudyNotFound(code);
  return substudy;
}

export async function createSubstudy(
  ctx: UseCaseContext,
  request: { trialId: string; input: SubstudyInput },
): Promise<Substudy> {
  const { db, principal, actor } = ctx;
  const { trialId, input } = request;
  await loadTrial(ctx, trialId);
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
      const cells = new Set<string>();
      const quotas: repo.QuotaRow[] = [];
      input.quotas.forEach((q, i) => {
        if (!trial.sites.some((s) => s.code === q.siteCode))
          errors.push({ pointer: `/quotas/${i}/siteCode`, detail: `trial has no site ${q.siteCode}` });
        const arm = resolveArm(trial, labeller, q.arm);
        if (arm === undefined) errors.push({ pointer: `/quotas/${i}/arm`, detail: `trial has no arm ${q.arm}` });
        const cell = JSON.stringify([q.siteCode, arm ?? q.arm, q.role]);
        if (cells.has(cell)) errors.push({ pointer: `/quotas/${i}`, detail: 'this site, arm and role is given twice' });
        cells.add(cell);
        quotas.push({ siteCode: q.siteCode, arm: arm ?? q.arm, role: q.role, target: q.target });
      });
      if (errors.length) throw new ValidationError(errors);
      const foreign = quotas.filter((q) => principal.siteCodes !== null && !principal.siteCodes.includes(q.siteCode));
      if (foreign.length)
        throw new ForbiddenError(
          `This key is limited to sites ${principal.siteCodes!.join(', ')}; quotas name site ${foreign[0]!.siteCode}.`,
        );
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

export async function inviteToSubstudy(
  ctx: UseCaseContext,
  request: SubstudyRef & { input: InvitationInput },
): Promise<Invitation> {
  const { db, principal, actor } = ctx;
  const { trialId, substudyCode, input } = request;
  const now = ctx.now();
  await loadTrial(ctx, trialId);
  try {
    return await withTransaction(db, async (trx) => {
      await lockTrialShared(trx, trialId);
      await requireSubstudy(trx, trialId, substudyCode);
      const { view: participant } = await lockVisibleParticipant(trx, principal, trialId, input.participantId);
      const labeller = await ctx.armLabeller(trialId, trx);
      if (isFutureDate(input.invitedOn, now))
        throw new ValidationError([{ pointer: '/invitedOn', detail: 'is in the future' }]);
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
  const { db, principal, actor } = ctx;
  const { trialId, substudyCode, invitationId, input } = request;
  const now = ctx.now();
  await loadTrial(ctx, trialId);
  return withTransaction(db, async (trx) => {
    await requireSubstudy(trx, trialId, substudyCode);
    const before = await repo.findInvitation(trx, { trialId, substudy: substudyCode, invitationId });
    if (!before) throw new NotFoundError(`Invitation ${invitationId} was not found.`);
    // An invitation of another site's participant is as invisible as the participant.
    await lockVisibleParticipant(trx, principal, trialId, before.participantId).catch((error: unknown) => {
      throw error instanceof NotFoundError ? new NotFoundError(`Invitation ${invitationId} was not found.`) : error;
    });
    if (isFutureDate(input.answeredOn, now))
      throw new ValidationError([{ pointer: '/answeredOn', detail: 'is in the future' }]);
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

export async function getSubstudySampling(ctx: UseCaseContext, request: SubstudyRef): Promise<SamplingTable> {
  const { trialId, substudyCode } = request;
  const trial = await loadTrial(ctx, trialId);
  const [substudy] = await repo.listSubstudies(ctx.db, trialId, { code: substudyCode, siteCodes: [] });
  if (!substudy) throw substudyNotFound(substudyCode);
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
  const now = ctx.now();
  await loadTrial(ctx, trialId);
  try {
    return await withTransaction(db, async (trx) => {
      await lockTrialShared(trx, trialId);
      const substudy = await requireSubstudy(trx, trialId, substudyCode);
      // The participant's row lock also serialises this with a withdrawal of consent.
      const { view: participant } = await lockVisibleParticipant(trx, principal, trialId, input.participantId);
      if (isFutureDate(input.conductedOn, now))
        throw new ValidationError([{ pointer: '/conductedOn', detail: 'is in the future' }]);
      const invitation = await repo.findInvitation(trx, {
        trialId,
        substudy: substudyCode,
        participantId: participant.id,
      });
      if (!invitation || invitation.answer !== 'accepted')
        throw new ConflictError(
          'invitation-not-accepted',
          `Participant ${input.participantId} has ${invitation ? `${invitation.answer ?? 'not answered'} the` : 'no'} invitation to sub-study ${substudyCode}; interviews need an accepted one.`,
        );
      if (input.conductedOn < invitation.answeredOn!)
        throw new ConflictError(
          'date-before-acceptance',
          `conductedOn ${input.conductedOn} is before the invitation was accepted on ${invitation.answeredOn}.`,
        );
      let audioConsentId: string | null = null;
      if (input.audioRecorded) {
        const consent = participant.consents.find(
          (c) =>
            c.form === substudy.audioConsentForm &&
            c.current &&
            c.decision === 'granted' &&
            c.withdrawal === null &&
            c.signedOn <= input.conductedOn,
        );
        if (!consent)
          throw new ConflictError(
            'audio-consent-missing',
            `Participant ${input.participantId} holds no granted, current, not withdrawn consent to form ${substudy.audioConsentForm} signed by ${input.conductedOn}; the interview cannot be audio-recorded.`,
          );
        audioConsentId = consent.id;
      }
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

export async function listInterviews(ctx: UseCaseContext, request: SubstudyRef): Promise<Interview[]> {
  const { trialId, substudyCode } = request;
  await loadTrial(ctx, trialId);
  const [substudy] = await repo.listSubstudies(ctx.db, trialId, { code: substudyCode, siteCodes: [] });
  if (!substudy) throw substudyNotFound(substudyCode);
  return query.listInterviews(ctx.db, { trialId, substudy: substudyCode, siteCodes: ctx.principal.siteCodes });
}

/** Locks a visible interview: one of another site's participant answers 404, like the participant. */
async function lockVisibleInterview(
  ctx: UseCaseContext,
  trx: Knex.Transaction,
  request: SubstudyRef & { interviewId: string },
): Promise<repo.InterviewFacts> {
  const { trialId, substudyCode, interviewId } = request;
  const facts = await repo.lockInterview(trx, trialId, substudyCode, interviewId);
  const notFound = new NotFoundError(`Interview ${interviewId} was not found.`);
  if (!facts) throw notFound;
  await requireVisibleParticipant(trx, ctx.principal, trialId, facts.participantId).catch((error: unknown) => {
    throw error instanceof NotFoundError ? notFound : error;
  });
  return facts;
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
  const now = ctx.now();
  await loadTrial(ctx, trialId);
  return withTransaction(db, async (trx) => {
    await requireSubstudy(trx, trialId, substudyCode);
    const facts = await lockVisibleInterview(ctx, trx, request);
    if (isFutureDate(input.on, now)) throw new ValidationError([{ pointer: '/on', detail: 'is in the future' }]);
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
  await loadTrial(ctx, trialId);
  return withTransaction(db, async (trx) => {
    // The sub-study's row lock serialises coupons: a retry waits for the first request and then finds its coupon.
    const substudy = await requireSubstudy(trx, trialId, substudyCode);
    const facts = await lockVisibleInterview(ctx, trx, request);
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
    const { view: participant } = await requireVisibleParticipant(trx, ctx.principal, trialId, facts.participantId);
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
  await loadTrial(ctx, trialId);
  const errors = codingErrors(input.coders, input.codings);
  if (errors.length) throw new ValidationError(errors);
  return withTransaction(db, async (trx) => {
    await requireSubstudy(trx, trialId, substudyCode);
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
  await loadTrial(ctx, trialId);
  const [substudy] = await repo.listSubstudies(ctx.db, trialId, { code: substudyCode, siteCodes: [] });
  if (!substudy) throw substudyNotFound(substudyCode);
  const rounds = (await repo.listCodingRounds(ctx.db, trialId, substudyCode)).map(codingRoundView);
  return { rounds, trend: agreementTrend(rounds) };
}
