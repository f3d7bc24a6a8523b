import type { UseCaseContext } from '../../core/use-case-context';
import type { components } from '../../generated/openapi';
import { getConsortReport } from '../consort/consort.service';
import { getCompleteness } from '../follow-up/follow-up.service';
import { loadTrial } from '../trials/trials.service';
import { getSafetyDue } from './adverse-events.service';
import { querySummary } from './data-queries.service';
import * as dmc from './dmc.query';
import { byTermAndSeverity, countHarms, harmsByArm } from './harms';

type OpenReport = components['schemas']['DmcOpenReport'];
type ClosedReport = components['schemas']['DmcClosedReport'];

/** The open report: everything pooled across arms, so any monitor or statistician may read it, blinded or not. */
export async function getOpenReport(ctx: UseCaseContext, input: { trialId: string }): Promise<OpenReport> {
  const trial = await loadTrial(ctx, input.trialId);
  const recruitment = await dmc.recruitmentByMonth(ctx.db, trial.id);
  const sites = [...new Set(recruitment.map((r) => r.siteCode))];
  const completeness = await getCompleteness(ctx, { trialId: trial.id });
  const pooled = new Map<string, OpenReport['followUp'][number]>();
  for (const v of completeness.visits) {
    const key = `${v.visit}\u0000${v.siteCode}`;
    const row = pooled.get(key) ?? {
      visit: v.visit,
      siteCode: v.siteCode,
      randomized: 0,
      expected: 0,
      completed: 0,
      missed: 0,
      overdue: 0,
    };
    row.randomized += v.randomized;
    row.expected += v.expected;
    row.completed += v.completedInWindow + v.completedOutOfWindow;
    row.missed += v.missed;
    row.overdue += v.overdue;
    pooled.set(key, row);
  }
  const events = (await dmc.harmsRows(ctx.db, trial.id)).map((r) => ({ ...r, group: null }));
  const due = await getSafetyDue(ctx, { trialId: trial.id });
  return {
    trialId: trial.id,
    trialCode: trial.code,
    asOf: ctx.now().toISOString(),
    recruitment: sites.map((siteCode) => {
      const months = recruitment.filter((r) => r.siteCode === siteCode);
      return {
        siteCode,
        screened: months.reduce((s, m) => s + m.screened, 0),
        randomized: months.reduce((s, m) => s + m.randomized, 0),
        byMonth: months.map(({ month, screened, randomized }) => ({ month, screened, randomized })),
      };
    }),
    followUp: [...pooled.values()],
    queries: await querySummary(ctx, trial.id),
    safetyReports: { due: due.due, late: due.late },
    adverseEvents: {
      ...countHarms(events),
      terms: byTermAndSeverity(events),
      bySite: sites.map((siteCode) => ({ siteCode, ...countHarms(events.filter((e) => e.siteCode === siteCode)) })),
    },
  };
}

/**
 * The closed report: CONSORT and harms by arm. The contract refuses it to blinded keys; it is still built through
 * the caller's labeller, like every view that names an arm.
 */
export async function getClosedReport(ctx: UseCaseContext, input: { trialId: string }): Promise<ClosedReport> {
  const trial = await loadTrial(ctx, input.trialId);
  const labeller = await ctx.armLabeller(trial.id);
  const atRisk = await dmc.randomizedByArm(ctx.db, trial.id);
  const arms = labeller.arms(trial.arms).map((a) => ({ arm: a.code, atRisk: 0 }));
  for (const a of trial.arms) {
    const row = arms.find((r) => r.arm === labeller.label(a.code))!;
    row.atRisk = atRisk.get(a.code) ?? 0;
  }
  const events = (await dmc.harmsRows(ctx.db, trial.id)).map((r) => ({
    ...r,
    group: r.armCode === null ? null : labeller.label(r.armCode),
  }));
  const { report } = await getConsortReport(ctx, { trialId: trial.id });
  const harms = harmsByArm(arms, events);
  return {
    trialId: trial.id,
    trialCode: trial.code,
    asOf: ctx.now().toISOString(),
    consort: report,
    harms: {
      ...harms,
      notRandomized: countHarms(events.filter((e) => e.group === null)),
      confidenceLevel: 0.95,
      method: 'exact unconditional (Santner–Snell), first arm minus second',
    },
  };
}
