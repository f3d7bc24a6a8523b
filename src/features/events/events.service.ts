import { randomUUID } from 'node:crypto';
import { isUniqueViolation, withTransaction } from '../../db/database';
import type { UseCaseContext } from '../../core/use-case-context';
import { ConflictError, NotFoundError, ValidationError } from '../../core/errors';
import type { components } from '../../generated/openapi';
import { recordAudit } from '../audit/audit.service';
import { isFutureDate } from '../participants/participants';
import { lockVisibleParticipant } from '../participants/participants.service';
import { lockTrialShared } from '../trials/trials.service';
import { eventRefusal } from './events';
import * as repo from './events.repo';

type EventInput = components['schemas']['EventInput'];
type ParticipantEvent = components['schemas']['ParticipantEvent'];

const utcDate = (instant: string) => instant.slice(0, 10);

export async function recordEvent(
  ctx: UseCaseContext,
  request: { trialId: string; participantId: string; input: EventInput },
): Promise<ParticipantEvent> {
  const { db, principal, actor } = ctx;
  const { trialId, participantId, input } = request;
  const now = ctx.now();
  return withTransaction(db, async (trx) => {
    const trial = await lockTrialShared(trx, trialId);
    if (trial.status === 'setup')
      throw new ConflictError('trial-not-active', `Trial ${trialId} is in set-up.`, { trialStatus: trial.status });
    const facts = await lockVisibleParticipant(trx, principal, trialId, participantId);
    const participant = facts.view;
    if (participant.role !== 'service_user')
      throw new ValidationError([
        {
          pointer: '',
          detail: 'follow-up events are recorded for service users; case workers are not in the CONSORT flow',
        },
      ]);
    if (isFutureDate(input.occurredOn, now))
      throw new ValidationError([{ pointer: '/occurredOn', detail: 'is in the future' }]);
    const refusal = eventRefusal(input.type, input.occurredOn, {
      role: participant.role,
      eligible: participant.eligible,
      consentComplete: facts.consentComplete,
      screenedOn: participant.screenedOn,
      randomizedOn: participant.allocation ? utcDate(participant.allocation.randomizedAt) : null,
    });
    if (refusal)
      throw new ConflictError(
        refusal.kind === 'before-screening' ? 'event-before-screening' : 'event-not-allowed',
        refusal.detail,
      );
    const eventId = randomUUID();
    await repo.insertEvent(trx, {
      trialId,
      eventId,
      participantId,
      type: input.type,
      occurredOn: input.occurredOn,
      reason: input.reason ?? null,
      recordedBy: principal.keyId,
    });
    const event = (await repo.findEvent(trx, trialId, participantId, eventId))!;
    await recordAudit(trx, actor, {
      trialId,
      action: 'event.recorded',
      entityType: 'event',
      entityId: eventId,
      before: null,
      after: event,
      reason: input.reason ?? null,
    });
    return event;
  });
}

export async function retractEvent(
  ctx: UseCaseContext,
  request: { trialId: string; participantId: string; eventId: string; reason: string },
): Promise<ParticipantEvent> {
  const { db, principal, actor } = ctx;
  const { trialId, participantId, eventId, reason } = request;
  try {
    return await withTransaction(db, async (trx) => {
      await lockTrialShared(trx, trialId);
      await lockVisibleParticipant(trx, principal, trialId, participantId);
      const before = await repo.findEvent(trx, trialId, participantId, eventId);
      if (!before) throw new NotFoundError(`Event ${eventId} of participant ${participantId} was not found.`);
      if (before.retraction)
        throw new ConflictError(
          'event-already-retracted',
          `Event ${eventId} was already retracted at ${before.retraction.retractedAt}.`,
        );
      await repo.insertRetraction(trx, trialId, eventId, reason);
      const after = (await repo.findEvent(trx, trialId, participantId, eventId))!;
      await recordAudit(trx, actor, {
        trialId,
        action: 'event.retracted',
        entityType: 'event',
        entityId: eventId,
        before,
        after,
        reason,
      });
      return after;
    });
  } catch (error) {
    if (isUniqueViolation(error))
      throw new ConflictError('event-already-retracted', `Event ${eventId} was already retracted.`);
    throw error;
  }
}
