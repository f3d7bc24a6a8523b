import type { Executor } from '../../db/database';
import type { ParticipantRole } from './substudies.repo';

export interface SamplingCellRow {
  siteCode: string;
  arm: string;
  role: ParticipantRole;
  target: number;
  invited: number;
  accepted: number;
  declined: number;
  awaiting: number;
  interviewed: number;
}

/** Per quota cell (site × arm code × role): the target and the invitations, answers and interviews counted in it. */
export async function samplingCells(
  db: Executor,
  request: { trialId: string; substudy: string; siteCodes: string[] | null },
): Promise<SamplingCellRow[]> {
  const { rows } = await db.raw(
    `SELECT q.site_code, q.arm, q.role, q.target,
            count(i.invitation_id) AS invited,
            count(i.invitation_id) FILTER (WHERE i.answer = 'accepted') AS accepted,
            count(i.invitation_id) FILTER (WHERE i.answer = 'declined') AS declined,
            count(i.invitation_id) FILTER (WHERE i.answer IS NULL) AS awaiting,
            count(v.interview_id) AS interviewed
       FROM substudy_quotas q
       LEFT JOIN substudy_invitations i
              ON i.trial_id = q.trial_id AND i.substudy_code = q.substudy_code
             AND i.site_code = q.site_code AND i.arm = q.arm AND i.role = q.role
       LEFT JOIN substudy_interviews v
              ON v.trial_id = i.trial_id AND v.substudy_code = i.substudy_code AND v.invitation_id = i.invitation_id
      WHERE q.trial_id = ? AND q.substudy_code = ? AND (?::text[] IS NULL OR q.site_code = ANY (?::text[]))
      GROUP BY q.site_code, q.arm, q.role, q.target`,
    [request.trialId, request.substudy, request.siteCodes, request.siteCodes],
  );
  return rows.map((r: Record<string, unknown>) => ({
    siteCode: r.site_code as string,
    arm: r.arm as string,
    role: r.role as ParticipantRole,
    target: Number(r.target),
    invited: Number(r.invited),
    accepted: Number(r.accepted),
    declined: Number(r.declined),
    awaiting: Number(r.awaiting),
    interviewed: Number(r.interviewed),
  }));
}

export interface InterviewRow {
  id: string;
  participantId: string;
  siteCode: string;
  role: ParticipantRole;
  conductedOn: string;
  interviewer: string;
  durationMinutes: number;
  location: string;
  recording: { consentId: string; deletionRequiredSince: string | null } | null;
  transcript: Record<'transcribed' | 'checked' | 'deidentified', { by: string; on: string } | null>;
  couponId: string | null;
  recordedAt: string;
}

const stage = (by: unknown, on: unknown) => (by === null ? null : { by: by as string, on: on as string });

/**
 * Interviews with the facts reported about them: the withdrawal of the audio consent the recording relied on (the
 * recording must then be deleted, from that date) and the coupon issued for the interview.
 */
export async function listInterviews(
  db: Executor,
  request: { trialId: string; substudy: string; siteCodes: string[] | null; interviewId?: string },
): Promise<InterviewRow[]> {
  const { rows } = await db.raw(
    `SELECT v.interview_id, v.participant_id, p.site_code, p.role, v.conducted_on, v.interviewer,
            v.duration_minutes, v.location, v.audio_consent_id, w.withdrawn_on,
            v.transcribed_by, v.transcribed_on, v.checked_by, v.checked_on, v.deidentified_by, v.deidentified_on,
            c.entry_id, v.recorded_at
       FROM substudy_interviews v
       JOIN participants p ON p.trial_id = v.trial_id AND p.participant_id = v.participant_id
       LEFT JOIN consent_withdrawals w ON w.trial_id = v.trial_id AND w.consent_id = v.audio_consent_id
       LEFT JOIN substudy_coupons c
              ON c.trial_id = v.trial_id AND c.substudy_code = v.substudy_code AND c.interview_id = v.interview_id
      WHERE v.trial_id = ? AND v.substudy_code = ?
        AND (?::uuid IS NULL OR v.interview_id = ?::uuid)
        AND (?::text[] IS NULL OR p.site_code = ANY (?::text[]))
      ORDER BY v.recorded_at, v.interview_id`,
    [
      request.trialId,
      request.substudy,
      request.interviewId ?? null,
      request.interviewId ?? null,
      request.siteCodes,
      request.siteCodes,
    ],
  );
  return rows.map((r: Record<string, unknown>) => ({
    id: r.interview_id as string,
    participantId: r.participant_id as string,
    siteCode: r.site_code as string,
    role: r.role as ParticipantRole,
    conductedOn: r.conducted_on as string,
    interviewer: r.interviewer as string,
    durationMinutes: Number(r.duration_minutes),
    location: r.location as string,
    recording:
      r.audio_consent_id === null
        ? null
        : { consentId: r.audio_consent_id as string, deletionRequiredSince: (r.withdrawn_on as string | null) ?? null },
    transcript: {
      transcribed: stage(r.transcribed_by, r.transcribed_on),
      checked: stage(r.checked_by, r.checked_on),
      deidentified: stage(r.deidentified_by, r.deidentified_on),
    },
    couponId: (r.entry_id as string | null) ?? null,
    recordedAt: new Date(r.recorded_at as string | Date).toISOString(),
  }));
}
