import type { Executor } from '../../db/database';
import type { LevelCount, NumericAggregate } from './baseline';

/*
 * Read model of Table 1: the cohort (service users with their allocation, or case workers with their
 * latest assignment, as of a date) and its aggregates per arm, computed by PostgreSQL. Means and SDs
 * use numeric arithmetic (exact sums, no cancellation); quartiles use percentile_cont, which is R's
 * type 7 interpolation.
 */

function cohortSql(role: 'service_user' | 'case_worker'): string {
  if (role === 'service_user') {
    return `SELECT p.baseline, a.arm_code AS arm
              FROM participants p
              JOIN allocations a ON a.trial_id = p.trial_id AND a.participant_id = p.participant_id
             WHERE p.trial_id = :trialId AND p.role = 'service_user'
               AND (CAST(:asOf AS date) IS NULL OR (a.randomized_at AT TIME ZONE 'UTC')::date <= CAST(:asOf AS date))`;
  }
  return `SELECT DISTINCT ON (p.participant_id) p.baseline, c.arm_code AS arm
            FROM participants p
            JOIN case_worker_assignments c ON c.trial_id = p.trial_id AND c.participant_id = p.participant_id
           WHERE p.trial_id = :trialId AND p.role = 'case_worker'
             AND (CAST(:asOf AS date) IS NULL OR (c.assigned_at AT TIME ZONE 'UTC')::date <= CAST(:asOf AS date))
           ORDER BY p.participant_id, c.assigned_at DESC, c.assignment_id DESC`;
}

const toNumber = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

export interface CohortQuery {
  trialId: string;
  role: 'service_user' | 'case_worker';
  asOf: string | null;
}

export async function armSizes(db: Executor, q: CohortQuery): Promise<Map<string, number>> {
  const result = await db.raw(`SELECT arm, count(*) AS n FROM (${cohortSql(q.role)}) cohort GROUP BY arm`, { ...q });
  return new Map(result.rows.map((r: { arm: string; n: number }) => [r.arm, Number(r.n)]));
}

export async function numericAggregates(db: Executor, q: CohortQuery, variable: string): Promise<NumericAggregate[]> {
  const result = await db.raw(
    `SELECT arm, count(v) AS n, count(*) - count(v) AS missing, avg(v) AS mean, stddev_samp(v) AS sd, min(v) AS min, max(v) AS max,
            percentile_cont(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (ORDER BY v::float8) AS quartiles
       FROM (SELECT arm, (baseline ->> :variable)::numeric AS v FROM (${cohortSql(q.role)}) cohort) values_by_arm
      GROUP BY arm`,
    { ...q, variable },
  );
  return result.rows.map((r: Record<string, unknown>) => {
    const quartiles = (r.quartiles as (number | null)[] | null) ?? [null, null, null];
    return {
      arm: r.arm as string,
      n: Number(r.n),
      missing: Number(r.missing),
      mean: toNumber(r.mean),
      sd: toNumber(r.sd),
      min: toNumber(r.min),
      max: toNumber(r.max),
      q1: toNumber(quartiles[0]),
      median: toNumber(quartiles[1]),
      q3: toNumber(quartiles[2]),
    };
  });
}

export async function levelCounts(db: Executor, q: CohortQuery, variable: string): Promise<LevelCount[]> {
  const result = await db.raw(
    `SELECT arm, baseline ->> :variable AS level, count(*) AS count FROM (${cohortSql(q.role)}) cohort GROUP BY 1, 2`,
    { ...q, variable },
  );
  return result.rows.map((r: { arm: string; level: string | null; count: number }) => ({
    arm: r.arm,
    level: r.level,
    count: Number(r.count),
  }));
}
