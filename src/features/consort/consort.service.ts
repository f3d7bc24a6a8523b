import { ValidationError } from '../../core/errors';
import type { ArmLabeller, UseCaseContext } from '../../core/use-case-context';
import { loadTrial } from '../trials/trials.service';
import { harmsByArmCode } from '../safety/adverse-events.service';
import type { components } from '../../generated/openapi';
import { buildConsortReport } from './consort';
import { consortAggregation } from './consort.query';

export interface ConsortRequest {
  asOf?: string;
  siteCode?: string;
}

/** CONSORT counts of a trial; coordinators limited to sites count only their sites. */
type ConsortReport = components['schemas']['ConsortReport'];

/**
 * The report as this caller may see it: built from the aggregation with every arm through the caller's
 * labeller, so the JSON, the SVG and the DOT drawn from it hold no arm a blinded key may not see.
 */
export async function getConsortReport(
  ctx: UseCaseContext,
  input: { trialId: string } & ConsortRequest,
): Promise<{ report: ConsortReport; trialCode: string }> {
  const { db, principal } = ctx;
  const { trialId, ...request } = input;
  const trial = await loadTrial(ctx, trialId);
  const asOf = request.asOf ?? ctx.now().toISOString().slice(0, 10);
  let siteCodes: string[] | null = principal.siteCodes;
  if (request.siteCode !== undefined) {
    if (!trial.sites.some((s) => s.code === request.siteCode))
      throw new ValidationError([{ pointer: '/query/siteCode', detail: `trial has no site ${request.siteCode}` }]);
    siteCodes = siteCodes === null || siteCodes.includes(request.siteCode) ? [request.siteCode] : [];
  }
  const aggregation = await consortAggregation(db, { trialId, asOf, siteCodes, arms: trial.arms.map((a) => a.code) });
  const labeller = await ctx.armLabeller(trialId);
  const harms = await harmsByArmCode(db, trialId, { siteCodes, asOf });
  const counted = buildConsortReport(aggregation, trial.eligibility, { trialId, asOf });
  const none = { participantsWithEvent: 0, participantsWithSeriousEvent: 0, events: 0, seriousEvents: 0 };
  // CONSORT item 19: harms per arm, participants at risk being the arm's allocated (as randomized).
  const built: ConsortReport = {
    ...counted,
    arms: counted.arms.map((row) => ({ ...row, harms: { atRisk: row.allocated, ...(harms.get(row.arm) ?? none) } })),
  };
  const labelled: ConsortReport = labeller.blinded ? labelConsortArms(built, labeller) : built;
  // Which rule the "received allocated intervention" box used (docs/consort.md); the diagram says it too.
  const report: ConsortReport = { ...labelled, receivedRule: trial.delivery ? 'sessions_and_events' : 'events' };
  return {
    report: request.siteCode === undefined ? report : { ...report, siteCode: request.siteCode },
    trialCode: trial.code,
  };
}

function labelConsortArms(report: ConsortReport, labeller: ArmLabeller): ConsortReport {
  return {
    ...report,
    arms: report.arms
      .map((row) => ({ ...row, arm: labeller.label(row.arm) }))
      .sort((a, b) => a.arm.localeCompare(b.arm, 'en', { numeric: true })),
  };
}
