import type { Executor } from '../../db/database';
import type { SamplingCell } from './sampling-table';
import type { InterviewFields, ParticipantRole } from './substudies.repo';

/** Per quota cell (site × arm code × role): the target and the invitations, answers and interviews counted in it. */
export async function samplingCells(
  db: Executor,
  request: { trialId: string; substudy: string; siteCodes: string[] | null },
): Promise<SamplingCell[]> {
  const { rows } = await db.raw(
    `SELECT q.site_code, q.arm, q.role, q.target,
            count(i.invitation_id) AS invited,
            count(i.invitation_id) FILTER (WHERE i.answer = 'accepted' AND i.withdrawn_on IS NULL) AS accepted,
            count(i.invitation_id) FILTER (WHERE i.answer = 'declined') AS declined,
            count(i.invitation_id) FILTER (WHERE i.answer IS NULL AND i.withdrawn_on IS NULL) AS awaiting,
            count(i.invitation_id) FILTER (WHERE i.withdrawn_on IS NOT NULL) AS withdrawn,
            count(v.interview_id) AS interviewed,
            count(v.interview_id) FILTER (WHERE w.consent_id IS NOT NULL) AS recordings_flagged,
            count(v.recording_deleted_on) AS recordings_deleted
       FROM substudy_quotas q
       LEFT JOIN substudy_invitations i
              ON i.trial_id = q.trial_id AND i.substudy_code = q.substudy_code
             AND i.site_code = q.site_code AND i.arm = q.arm AND i.role = q.role
       LEFT JOIN substudy_interviews v
              ON v.trial_id = i.trial_id AND v.substudy_code = i.substudy_code AND v.invitation_id = i.invitation_id
       LEFT JOIN consent_withdrawals w ON w.trial_id = v.trial_id AND w.consent_id = v.audio_consent_id
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
    withdrawn: Number(r.withdrawn),
    interviewed: Number(r.interviewed),
    recordingsFlagged: Number(r.recordings_flagged),
    recordingsDeleted: Number(r.recordings_deleted),
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
  recording: {
    consentId: string;
    deletionRequiredSince: string | null;
    deletion: { on: string; by: string; method: string | null } | null;
  } | null;
  transcript: Record<'transcribed' | 'checked' | 'deidentified', { by: string; on: string } | null>;
  couponId: string | null;
  corrections: {
    number: number;
    before: Partial<InterviewFields>;
    after: Partial<InterviewFields>;
    reason: string;
    correctedAt: string;
  }[];
  recordedAt: string;
}

const stage = (by: unknown, on: unknown) => (by === null ? null : { by: by as string, on: on as string });

/**
 * Interviews with the facts reported about them: the withdrawal of the audio consent the recording relied on (the
 * recording must then be deleted, from that date) and its recorded deletion, the coupon issued for the interview, and
 * the corrections of the record.
 */
export async function listInterviews(
  db: Executor,
  request: { trialId: string; substudy: string; siteCodes: string[] | null; interviewId?: string },
): Promise<InterviewRow[]> {
  const { rows } = await db.raw(
    `SELECT v.interview_id, v.participant_id, p.site_code, p.role, v.conducted_on, v.interviewer,
            v.duration_minutes, v.location, v.audio_consent_id, w.withdrawn_on,
            v.transcribed_by, v.transcribed_on, v.checked_by, v.checked_on, v.deidentified_by, v.deidentified_on,
            v.recording_deleted_on, v.recording_deleted_by, v.recording_deletion_method,
            c.entry_id, v.recorded_at,
            (SELECT coalesce(json_agg(json_build_object('number', k.correction, 'before', k.before, 'after', k.after,
                                                        'reason', k.reason, 'correctedAt', k.corrected_at)
                                      ORDER BY k.correction), '[]'::json)
               FROM substudy_interview_corrections k
              WHERE k.trial_id = v.trial_id AND k.substudy_code = v.substudy_code
                AND k.interview_id = v.interview_id) AS corrections
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
        : {
            consentId: r.audio_consent_id as string,
            deletionRequiredSince: (r.withdrawn_on as string | null) ?? null,
            deletion:
              r.recording_deleted_on === null
                ? null
                : {
                    on: r.recording_deleted_on as string,
                    by: r.recording_deleted_by as string,
                    method: (r.recording_deletion_method as string | null) ?? null,
                  },
          },
    transcript: {
      transcribed: stage(r.transcribed_by, r.transcribed_on),
      checked: stage(r.checked_by, r.checked_on),
      deidentified: stage(r.deidentified_by, r.deidentified_on),
    },
    couponId: (r.entry_id as string | null) ?? null,
    corrections: (r.corrections as InterviewRow['corrections']).map((c) => ({
      ...c,
      correctedAt: new Date(c.correctedAt).toISOString(),
    })),
    recordedAt: new Date(r.recorded_at as string | Date).toISOString(),
  }));
}
