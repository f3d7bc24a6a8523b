import type { Executor } from '../../db/database';

/**
 * Read model: the randomized participants (in the caller's sites) whose latest analysis event — by date, then
 * recording time, retracted events ignored — is `excluded_from_analysis`; a later `included_in_analysis` reverses
 * it. The same rule as CONSORT's "excluded from analysis" box (docs/consort.md).
 */
export async function excludedFromAnalysis(
  db: Executor,
  trialId: string,
  siteCodes: string[] | null,
): Promise<Set<string>> {
  const rows = (await db
    .select('latest.participant_id')
    .from(
      db
        .select('e.participant_id', 'e.type')
        .distinctOn('e.participant_id')
        .from('participant_events as e')
        .join('participants as p', function () {
          this.on('p.trial_id', 'e.trial_id').andOn('p.participant_id', 'e.participant_id');
        })
        .where('e.trial_id', trialId)
        .whereIn('e.type', ['excluded_from_analysis', 'included_in_analysis'])
        .whereNotExists(
          db
            .select(db.raw('1'))
            .from('event_retractions as r')
            .whereRaw('r.trial_id = e.trial_id AND r.event_id = e.event_id'),
        )
        .modify((q) => {
          if (siteCodes) q.whereIn('p.site_code', siteCodes);
        })
        .orderBy([
          { column: 'e.participant_id' },
          { column: 'e.occurred_on', order: 'desc' },
          { column: 'e.recorded_at', order: 'desc' },
        ])
        .as('latest'),
    )
    .where('latest.type', 'excluded_from_analysis')) as { participant_id: string }[];
  return new Set(rows.map((row) => row.participant_id));
}
