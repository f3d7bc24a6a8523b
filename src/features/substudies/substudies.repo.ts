import type { Knex } from 'knex';
import type { Executor } from '../../db/database';
import type { Coding } from './coding-agreement';

export type ParticipantRole = 'service_user' | 'case_worker';

export interface QuotaRow {
  siteCode: string;
  arm: string;
  role: ParticipantRole;
  target: number;
}

export interface SubstudyRow {
  code: string;
  title: string;
  audioConsentForm: string;
  incentive: string | null;
  createdAt: string;
  quotas: QuotaRow[];
}

const iso = (value: Date | string) => (value instanceof Date ? value.toISOString() : new Date(value).toISOString());
const day = (value: Date | string | null) =>
  value === null ? null : value instanceof Date ? value.toISOString().slice(0, 10) : String(value).slice(0, 10);

export async function insertSubstudy(
  trx: Knex.Transaction,
  s: {
    trialId: string;
    code: string;
    title: string;
    audioConsentForm: string;
    incentive: string | null;
    createdBy: string;
    quotas: QuotaRow[];
  },
): Promise<void> {
  await trx('substudies').insert({
    trial_id: s.trialId,
    code: s.code,
    title: s.title,
    audio_consent_form: s.audioConsentForm,
    incentive_code: s.incentive,
    created_by: s.createdBy,
  });
  await trx('substudy_quotas').insert(
    s.quotas.map((q) => ({
      trial_id: s.trialId,
      substudy_code: s.code,
      site_code: q.siteCode,
      arm: q.arm,
      role: q.role,
      target: q.target,
    })),
  );
}

/** Sub-studies of a trial (one, when `code` is given) with their quotas; `siteCodes` limits the quotas listed. */
export async function listSubstudies(
  db: Executor,
  trialId: string,
  options: { code?: string; siteCodes: string[] | null },
): Promise<SubstudyRow[]> {
  const studies: {
    code: string;
    title: string;
    audio_consent_form: string;
    incentive_code: string | null;
    created_at: Date | string;
  }[] = await db('substudies')
    .where({ trial_id: trialId })
    .modify((q) => (options.code === undefined ? q : q.where({ code: options.code })))
    .orderBy([{ column: 'created_at' }, { column: 'code' }])
    .select('code', 'title', 'audio_consent_form', 'incentive_code', 'created_at');
  if (!studies.length) return [];
  const quotas: {
    substudy_code: string;
    site_code: string;
    arm: string;
    role: ParticipantRole;
    target: number;
  }[] = await db('substudy_quotas')
    .where({ trial_id: trialId })
    .whereIn(
      'substudy_code',
      studies.map((s) => s.code),
    )
    .modify((q) => (options.siteCodes === null ? q : q.whereIn('site_code', options.siteCodes)))
    .orderBy(['site_code', 'arm', 'role'])
    .select('substudy_code', 'site_code', 'arm', 'role', 'target');
  return studies.map((s) => ({
    code: s.code,
    title: s.title,
    audioConsentForm: s.audio_consent_form,
    incentive: s.incentive_code,
    createdAt: iso(s.created_at),
    quotas: quotas
      .filter((q) => q.substudy_code === s.code)
      .map((q) => ({ siteCode: q.site_code, arm: q.arm, role: q.role, target: q.target })),
  }));
}

/** Locks the sub-study's row, so that its invitations, interviews and rounds are decided one at a time. */
export async function lockSubstudy(
  trx: Knex.Transaction,
  trialId: string,
  code: string,
): Promise<{ audioConsentForm: string; incentive: string | null } | undefined> {
  const row = await trx('substudies')
    .where({ trial_id: trialId, code })
    .forUpdate()
    .first('audio_consent_form', 'incentive_code');
  return row && { audioConsentForm: row.audio_consent_form, incentive: row.incentive_code };
}

export async function hasQuota(
  db: Executor,
  cell: { trialId: string; substudy: string; siteCode: string; arm: string; role: string },
): Promise<boolean> {
  const row = await db('substudy_quotas')
    .where({
      trial_id: cell.trialId,
      substudy_code: cell.substudy,
      site_code: cell.siteCode,
      arm: cell.arm,
      role: cell.role,
    })
    .first('target');
  return row !== undefined;
}

/** Sets the target of each cell given, adding the cells not yet in the frame (the sub-study row is locked). */
export async function upsertQuotas(
  trx: Knex.Transaction,
  trialId: string,
  substudy: string,
  quotas: readonly QuotaRow[],
): Promise<void> {
  await trx('substudy_quotas')
    .insert(
      quotas.map((q) => ({
        trial_id: trialId,
        substudy_code: substudy,
        site_code: q.siteCode,
        arm: q.arm,
        role: q.role,
        target: q.target,
      })),
    )
    .onConflict(['trial_id', 'substudy_code', 'site_code', 'arm', 'role'])
    .merge(['target']);
}

export interface InvitationRow {
  id: string;
  participantId: string;
  siteCode: string;
  arm: string;
  role: ParticipantRole;
  invitedOn: string;
  invitedBy: string;
  answer: 'accepted' | 'declined' | null;
  answeredOn: string | null;
  reason: string | null;
  withdrawal: { on: string; by: string; reason: string } | null;
  recordedAt: string;
}

interface InvitationDbRow {
  invitation_id: string;
  participant_id: string;
  site_code: string;
  arm: string;
  role: ParticipantRole;
  invited_on: string;
  invited_by: string;
  answer: 'accepted' | 'declined' | null;
  answered_on: string | null;
  answer_reason: string | null;
  withdrawn_on: string | null;
  withdrawn_by: string | null;
  withdrawal_reason: string | null;
  recorded_at: Date | string;
}

function toInvitation(r: InvitationDbRow): InvitationRow {
  return {
    id: r.invitation_id,
    participantId: r.participant_id,
    siteCode: r.site_code,
    arm: r.arm,
    role: r.role,
    invitedOn: day(r.invited_on)!,
    invitedBy: r.invited_by,
    answer: r.answer,
    answeredOn: day(r.answered_on),
    reason: r.answer_reason,
    withdrawal:
      r.withdrawn_on === null ? null : { on: day(r.withdrawn_on)!, by: r.withdrawn_by!, reason: r.withdrawal_reason! },
    recordedAt: iso(r.recorded_at),
  };
}

export async function insertInvitation(
  trx: Knex.Transaction,
  i: {
    trialId: string;
    substudy: string;
    invitationId: string;
    participantId: string;
    siteCode: string;
    arm: string;
    role: ParticipantRole;
    invitedOn: string;
    invitedBy: string;
    recordedBy: string;
  },
): Promise<void> {
  await trx('substudy_invitations').insert({
    trial_id: i.trialId,
    substudy_code: i.substudy,
    invitation_id: i.invitationId,
    participant_id: i.participantId,
    site_code: i.siteCode,
    arm: i.arm,
    role: i.role,
    invited_on: i.invitedOn,
    invited_by: i.invitedBy,
    recorded_by: i.recordedBy,
  });
}

export async function findInvitation(
  db: Executor,
  key: { trialId: string; substudy: string } & ({ invitationId: string } | { participantId: string }),
): Promise<InvitationRow | undefined> {
  const where = 'invitationId' in key ? { invitation_id: key.invitationId } : { participant_id: key.participantId };
  const row = await db('substudy_invitations')
    .where({ trial_id: key.trialId, substudy_code: key.substudy, ...where })
    .first();
  return row && toInvitation(row);
}

/** Records the answer unless one is recorded already; false when it was. */
export async function answerInvitation(
  trx: Knex.Transaction,
  a: {
    trialId: string;
    substudy: string;
    invitationId: string;
    answer: 'accepted' | 'declined';
    answeredOn: string;
    reason: string | null;
  },
): Promise<boolean> {
  const updated = await trx('substudy_invitations')
    .where({ trial_id: a.trialId, substudy_code: a.substudy, invitation_id: a.invitationId })
    .whereNull('answer')
    .update({ answer: a.answer, answered_on: a.answeredOn, answer_reason: a.reason });
  return updated === 1;
}

/** Records the withdrawal unless the invitation was withdrawn already; false when it was. */
export async function withdrawInvitation(
  trx: Knex.Transaction,
  w: { trialId: string; substudy: string; invitationId: string; on: string; by: string; reason: string },
): Promise<boolean> {
  const updated = await trx('substudy_invitations')
    .where({ trial_id: w.trialId, substudy_code: w.substudy, invitation_id: w.invitationId })
    .whereNull('withdrawn_on')
    .update({ withdrawn_on: w.on, withdrawn_by: w.by, withdrawal_reason: w.reason });
  return updated === 1;
}

export interface NewInterview {
  trialId: string;
  substudy: string;
  interviewId: string;
  invitationId: string;
  participantId: string;
  conductedOn: string;
  interviewer: string;
  durationMinutes: number;
  location: string;
  audioConsentId: string | null;
  recordedBy: string;
}

export async function insertInterview(trx: Knex.Transaction, i: NewInterview): Promise<void> {
  await trx('substudy_interviews').insert({
    trial_id: i.trialId,
    substudy_code: i.substudy,
    interview_id: i.interviewId,
    invitation_id: i.invitationId,
    participant_id: i.participantId,
    conducted_on: i.conductedOn,
    interviewer: i.interviewer,
    duration_minutes: i.durationMinutes,
    location: i.location,
    audio_recorded: i.audioConsentId !== null,
    audio_consent_id: i.audioConsentId,
    recorded_by: i.recordedBy,
  });
}

/** The fields of an interview record that a correction may change. */
export interface InterviewFields {
  conductedOn: string;
  interviewer: string;
  durationMinutes: number;
  location: string;
  audioRecorded: boolean;
}

export interface InterviewFacts extends InterviewFields {
  participantId: string;
  invitationId: string;
  audioConsentId: string | null;
  transcribedOn: string | null;
  checkedOn: string | null;
  deidentifiedOn: string | null;
  recordingDeletedOn: string | null;
}

/** Locks one interview row for a change and returns what the change decides on. */
export async function lockInterview(
  trx: Knex.Transaction,
  trialId: string,
  substudy: string,
  interviewId: string,
): Promise<InterviewFacts | undefined> {
  const row = await trx('substudy_interviews')
    .where({ trial_id: trialId, substudy_code: substudy, interview_id: interviewId })
    .forUpdate()
    .first();
  return (
    row && {
      participantId: row.participant_id,
      invitationId: row.invitation_id,
      conductedOn: day(row.conducted_on)!,
      interviewer: row.interviewer,
      durationMinutes: Number(row.duration_minutes),
      location: row.location,
      audioRecorded: row.audio_recorded,
      audioConsentId: row.audio_consent_id,
      transcribedOn: day(row.transcribed_on),
      checkedOn: day(row.checked_on),
      deidentifiedOn: day(row.deidentified_on),
      recordingDeletedOn: day(row.recording_deleted_on),
    }
  );
}

/** Writes a correction of the interview (row locked by the caller) and keeps it, numbered after the last one. */
export async function correctInterview(
  trx: Knex.Transaction,
  c: {
    trialId: string;
    substudy: string;
    interviewId: string;
    before: Partial<InterviewFields>;
    after: Partial<InterviewFields>;
    audioConsentId: string | null;
    reason: string;
    correctedBy: string;
  },
): Promise<void> {
  const key = { trial_id: c.trialId, substudy_code: c.substudy, interview_id: c.interviewId };
  const { after } = c;
  await trx('substudy_interviews')
    .where(key)
    .update({
      ...(after.conductedOn !== undefined && { conducted_on: after.conductedOn }),
      ...(after.interviewer !== undefined && { interviewer: after.interviewer }),
      ...(after.durationMinutes !== undefined && { duration_minutes: after.durationMinutes }),
      ...(after.location !== undefined && { location: after.location }),
      audio_recorded: c.audioConsentId !== null,
      audio_consent_id: c.audioConsentId,
    });
  const last = await trx('substudy_interview_corrections')
    .where(key)
    .max<{ max: number | null }>('correction as max')
    .first();
  await trx('substudy_interview_corrections').insert({
    ...key,
    correction: (last?.max ?? 0) + 1,
    before: JSON.stringify(c.before),
    after: JSON.stringify(c.after),
    reason: c.reason,
    corrected_by: c.correctedBy,
  });
}

export async function setRecordingDeletion(
  trx: Knex.Transaction,
  d: { trialId: string; substudy: string; interviewId: string; on: string; by: string; method: string | null },
): Promise<void> {
  await trx('substudy_interviews')
    .where({ trial_id: d.trialId, substudy_code: d.substudy, interview_id: d.interviewId })
    .update({ recording_deleted_on: d.on, recording_deleted_by: d.by, recording_deletion_method: d.method });
}

export type TranscriptStageName = 'transcribed' | 'checked' | 'deidentified';

export async function setTranscriptStage(
  trx: Knex.Transaction,
  s: { trialId: string; substudy: string; interviewId: string; stage: TranscriptStageName; by: string; on: string },
): Promise<void> {
  await trx('substudy_interviews')
    .where({ trial_id: s.trialId, substudy_code: s.substudy, interview_id: s.interviewId })
    .update({ [`${s.stage}_by`]: s.by, [`${s.stage}_on`]: s.on });
}

export async function findCoupon(
  db: Executor,
  trialId: string,
  substudy: string,
  interviewId: string,
): Promise<string | undefined> {
  const row = await db('substudy_coupons')
    .where({ trial_id: trialId, substudy_code: substudy, interview_id: interviewId })
    .first('entry_id');
  return row?.entry_id;
}

export async function insertCoupon(
  trx: Knex.Transaction,
  c: { trialId: string; substudy: string; interviewId: string; entryId: string },
): Promise<void> {
  await trx('substudy_coupons').insert({
    trial_id: c.trialId,
    substudy_code: c.substudy,
    interview_id: c.interviewId,
    entry_id: c.entryId,
  });
}

export interface CodingRoundRow {
  round: number;
  coders: string[];
  codings: Coding[];
  note: string | null;
  recordedAt: string;
}

/** Appends a round numbered after the last one (the sub-study row is locked by the caller). */
export async function insertCodingRound(
  trx: Knex.Transaction,
  r: {
    trialId: string;
    substudy: string;
    coders: string[];
    codings: Coding[];
    note: string | null;
    recordedBy: string;
  },
): Promise<number> {
  const last = await trx('substudy_coding_rounds')
    .where({ trial_id: r.trialId, substudy_code: r.substudy })
    .max<{ max: number | null }>('round as max')
    .first();
  const round = (last?.max ?? 0) + 1;
  await trx('substudy_coding_rounds').insert({
    trial_id: r.trialId,
    substudy_code: r.substudy,
    round,
    coders: JSON.stringify(r.coders),
    codings: JSON.stringify(r.codings),
    note: r.note,
    recorded_by: r.recordedBy,
  });
  return round;
}

export async function listCodingRounds(
  db: Executor,
  trialId: string,
  substudy: string,
  round?: number,
): Promise<CodingRoundRow[]> {
  const rows: {
    round: number;
    coders: string[];
    codings: Coding[];
    note: string | null;
    recorded_at: Date | string;
  }[] = await db('substudy_coding_rounds')
    .where({ trial_id: trialId, substudy_code: substudy })
    .modify((q) => (round === undefined ? q : q.where({ round })))
    .orderBy('round')
    .select('round', 'coders', 'codings', 'note', 'recorded_at');
  return rows.map((r) => ({
    round: r.round,
    coders: r.coders,
    codings: r.codings,
    note: r.note,
    recordedAt: iso(r.recorded_at),
  }));
}

export async function hasInterview(
  db: Executor,
  key: { trialId: string; substudy: string; invitationId: string },
): Promise<boolean> {
  const row = await db('substudy_interviews')
    .where({ trial_id: key.trialId, substudy_code: key.substudy, invitation_id: key.invitationId })
    .first('interview_id');
  return row !== undefined;
}
