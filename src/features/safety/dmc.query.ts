import type { Executor } from '../../db/database';

export interface RecruitmentRow {
  siteCode: string;
  month: string;
  screened: number;
  randomized: number;
}

/** Screened (by screening month) and randomized (by month of randomization, UTC) participants per site. */
export async function recruitmentByMonth(db: Executor, trialId: string): Promise<RecruitmentRow[]> {
  const result = await db.raw(
    `
    WITH screened AS (
      SELECT site_code, to_char(screened_on, 'YYYY-MM') AS month, count(*)::int AS n
        FROM participants WHERE trial_id = ? GROUP BY 1, 2
    ), randomized AS (
      SELECT p.site_code, to_char(a.randomized_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month, count(*)::int AS n
        FROM allocations a
        JOIN participants p ON p.trial_id = a.trial_id AND p.participant_id = a.participant_id
       WHERE a.trial_id = ? GROUP BY 1, 2
    )
    SELECT coalesce(s.site_code, r.site_code) AS site_code, coalesce(s.month, r.month) AS month,
           coalesce(s.n, 0) AS screened, coalesce(r.n, 0) AS randomized
      FROM screened s FULL JOIN randomized r ON r.site_code = s.site_code AND r.month = s.month
     ORDER BY 1, 2`,
    [trialId, trialId],
  );
  return result.rows.map((r: { site_code: string; month: string; screened: number; randomized: number }) => ({
    siteCode: r.site_code,
    month: r.month,
    screened: r.screened,
    randomized: r.randomized,
  }));
}

export interface HarmsRow {
  participantId: string;
  siteCode: string;
  /** The arm the participant was randomized to; null when never randomized. */
  armCode: string | null;
  term: string;
  severity: 'mild' | 'moderate' | 'severe';
  serious: boolean;
}

/**
 * One row per adverse event with the participant's site and arm. Events are few (hundreds per trial), so the
 * per-arm, per-term and per-severity counts, which need distinct participants at several levels, are made from
 * these rows rather than from one GROUPING SETS query per table.
 */
export async function harmsRows(
  db: Executor,
  trialId: string,
  filter: { siteCodes?: readonly string[] | null; onsetBy?: string } = {},
): Promise<HarmsRow[]> {
  const q = db('adverse_events as ae')
    .join('participants as p', function () {
      this.on('p.trial_id', 'ae.trial_id').andOn('p.participant_id', 'ae.participant_id');
    })
    .leftJoin('allocations as a', function () {
      this.on('a.trial_id', 'ae.trial_id').andOn('a.participant_id', 'ae.participant_id');
    })
    .where('ae.trial_id', trialId)
    .select(
      'ae.participant_id',
      'p.site_code',
      'a.arm_code',
      'ae.term',
      'ae.severity',
      db.raw('ae.serious IS NOT NULL AS is_serious'),
    )
    .orderBy(['ae.term', 'ae.severity']);
  if (filter.siteCodes) q.whereIn('p.site_code', filter.siteCodes);
  if (filter.onsetBy !== undefined) q.andWhere('ae.onset_on', '<=', filter.onsetBy);
  const rows = await q;
  return rows.map((r) => ({
    participantId: r.participant_id,
    siteCode: r.site_code,
    armCode: r.arm_code,
    term: r.term,
    severity: r.severity,
    serious: r.is_serious,
  }));
}

/** Participants at risk: randomized participants per arm (as randomized, intention to treat). */
export async function randomizedByArm(db: Executor, trialId: string): Promise<Map<string, number>> {
  const rows = await db('allocations')
    .where('trial_id', trialId)
    .groupBy('arm_code')
    .select('arm_code', db.raw('count(*)::int AS n'));
  return new Map(rows.map((r: { arm_code: string; n: number }) => [r.arm_code, r.n]));
}
