import type { Executor } from '../../db/database';

/** The kinds of recorded item a data query can address, and the table (with its id column) each lives in. */
export const QUERY_TARGETS = {
  participant: { table: 'participants', id: 'participant_id' },
  consent: { table: 'consents', id: 'consent_id' },
  event: { table: 'participant_events', id: 'event_id' },
  assessment: { table: 'assessments', id: 'assessment_id' },
  adverse_event: { table: 'adverse_events', id: 'adverse_event_id' },
} as const;

export type QueryTargetKind = keyof typeof QUERY_TARGETS;

/**
 * The participant and site a recorded item belongs to (read model across the features that own the records);
 * undefined when the trial has no such record.
 */
export async function resolveQueryTarget(
  db: Executor,
  trialId: string,
  kind: QueryTargetKind,
  id: string,
): Promise<{ participantId: string; siteCode: string } | undefined> {
  const { table, id: idColumn } = QUERY_TARGETS[kind];
  const row = await db({ r: table })
    .join('participants as p', function () {
      this.on('p.trial_id', 'r.trial_id').andOn('p.participant_id', 'r.participant_id');
    })
    .where('r.trial_id', trialId)
    .andWhere(`r.${idColumn}`, id)
    .first<{ participant_id: string; site_code: string } | undefined>('p.participant_id', 'p.site_code');
  return row && { participantId: row.participant_id, siteCode: row.site_code };
}
