/**
 * Read-model scenarios: a report endpoint measured against one hand-written query over the same
 * loaded tables. To add one, append to READ_SCENARIOS; the runner loads each size once and runs
 * every scenario on it. A scenario whose endpoint is not in the contract yet is reported as
 * "not available", never estimated.
 */
import { performance } from 'node:perf_hooks';
import type { Knex } from 'knex';
import { loadSpec, OperationSpec } from '../../src/http/openapi';
import { DIAGNOSES } from './fixtures';
import { median, retryOnStaleConnection } from './measure';

export interface ReadScenario {
  name: string;
  /** Finds the endpoint in the contract: a trial-level GET. */
  matches(operation: OperationSpec): boolean;
  /**
   * The ceiling: one GROUP BY that computes what the report needs, bound to the trial id as `?`.
   * The endpoint does more (labels, percentages, JSON), but cannot do it with less reading.
   */
  ceilingSql: string;
}

const isTrialLevelGet = (operation: OperationSpec) =>
  operation.method === 'get' &&
  operation.path.startsWith('/v1/trials/{trialId}/') &&
  !operation.path.includes('{participantId}');

export const READ_SCENARIOS: ReadScenario[] = [
  {
    name: 'CONSORT flow',
    matches: (operation) => isTrialLevelGet(operation) && /consort/i.test(operation.path),
    // Every CONSORT box is a sum of these cells: assessed, excluded (by site and eligibility),
    // consent declined, randomized by arm, withdrawn after allocation.
    ceilingSql: `
      SELECT p.site_code, p.eligible, c.decision, (w.consent_id IS NOT NULL) AS withdrawn, a.arm_code, count(*) AS n
        FROM participants p
        LEFT JOIN consents c ON c.trial_id = p.trial_id AND c.participant_id = p.participant_id AND c.form_code = 'trial'
        LEFT JOIN consent_withdrawals w ON w.trial_id = c.trial_id AND w.consent_id = c.consent_id
        LEFT JOIN allocations a ON a.trial_id = p.trial_id AND a.participant_id = p.participant_id
       WHERE p.trial_id = ?
       GROUP BY 1, 2, 3, 4, 5`,
  },
  {
    name: 'baseline table',
    matches: (operation) => isTrialLevelGet(operation) && /baseline|table-?1/i.test(operation.path),
    // Table 1 by arm: n, mean and SD of each number, counts of each category level.
    ceilingSql: `
      SELECT a.arm_code, count(*) AS n,
             avg((p.baseline->>'age')::float8) AS age_mean, stddev_samp((p.baseline->>'age')::float8) AS age_sd,
             avg((p.baseline->>'onsetYears')::float8) AS onset_mean, stddev_samp((p.baseline->>'onsetYears')::float8) AS onset_sd,
             count(*) FILTER (WHERE p.baseline->>'sex' = 'female') AS female,
             count(*) FILTER (WHERE p.baseline->>'sex' = 'male') AS male,
             ${DIAGNOSES.map((level) => `count(*) FILTER (WHERE p.baseline->>'diagnosis' = '${level}') AS diagnosis_${level}`).join(',\n             ')}
        FROM allocations a
        JOIN participants p ON p.trial_id = a.trial_id AND p.participant_id = a.participant_id
       WHERE a.trial_id = ?
       GROUP BY a.arm_code`,
  },
];

/** The contract's operation for a scenario, or undefined while the endpoint does not exist. */
export function findEndpoint(scenario: ReadScenario): OperationSpec | undefined {
  return loadSpec().operations.find((operation) => scenario.matches(operation));
}

/** Median wall time of `repeats` runs of the ceiling query, after one unmeasured run (warm cache, plan). */
export async function timeCeilingQuery(
  knex: Knex,
  scenario: ReadScenario,
  trialId: string,
  repeats: number,
): Promise<number> {
  await knex.raw(scenario.ceilingSql, [trialId]);
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await knex.raw(scenario.ceilingSql, [trialId]);
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** Median wall time of `repeats` GETs of the endpoint over HTTP (JSON), after one unmeasured call. */
export async function timeEndpoint(
  baseUrl: string,
  apiKey: string,
  operation: OperationSpec,
  trialId: string,
  repeats: number,
): Promise<number> {
  const url = baseUrl + operation.path.replace('{trialId}', trialId);
  const get = async () => {
    const response = await fetch(url, { headers: { Authorization: `Bearer ${apiKey}`, Accept: 'application/json' } });
    const body = await response.text();
    if (response.status !== 200)
      throw new Error(`${operation.operationId} answered ${response.status}: ${body.slice(0, 300)}`);
  };
  await retryOnStaleConnection(get);
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await get();
    times.push(performance.now() - t0);
  }
  return median(times);
}
