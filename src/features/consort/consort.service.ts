import type { Knex } from 'knex';
import type { Principal } from '../../http/auth';
import { ValidationError } from '../../http/errors';
import { getTrial } from '../trials/trials.service';
import type { components } from '../../generated/openapi';
import { buildConsortReport } from './consort';
import { consortAggregation } from './consort.query';

export interface ConsortRequest {
  asOf?: string;
  siteCode?: string;
}

const todayUtc = () => new Date().toISOString().slice(0, 10);

/** CONSORT counts of a trial; coordinators limited to sites count only their sites. */
type ConsortReport = components['schemas']['ConsortReport'];

export async function getConsortReport(
  db: Knex,
  principal: Principal,
  trialId: string,
  request: ConsortRequest,
): Promise<{ report: ConsortReport; trialCode: string }> {
  const trial = await getTrial(db, principal, trialId);
  const asOf = request.asOf ?? todayUtc();
  let siteCodes: string[] | null = principal.siteCodes;
  if (request.siteCode !== undefined) {
    if (!trial.sites.some((s) => s.code === request.siteCode))
      throw new ValidationError([{ pointer: '/query/siteCode', detail: `trial has no site ${request.siteCode}` }]);
    siteCodes = siteCodes === null || siteCodes.includes(request.siteCode) ? [request.siteCode] : [];
  }
  const aggregation = await consortAggregation(db, { trialId, asOf, siteCodes, arms: trial.arms.map((a) => a.code) });
  const report: ConsortReport = buildConsortReport(aggregation, trial.eligibility, { trialId, asOf });
  return {
    report: request.siteCode === undefined ? report : { ...report, siteCode: request.siteCode },
    trialCode: trial.code,
  };
}
