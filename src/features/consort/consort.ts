import type { components } from '../../generated/openapi';

/**
 * CONSORT flow arithmetic. The database layer runs one aggregation (counting only what is dated on or
 * before `asOf`) and hands its flat counts to `buildConsortReport`, which shapes them into the API's
 * report; `checkConsortInvariants` says whether a report adds up. Counting rules: docs/consort.md.
 */

/** Shown for an event recorded without a reason (null, empty or only whitespace). */
export const REASON_NOT_GIVEN = 'not given';

/** One row of a free-text reason breakdown as the aggregation returns it; `null` when no reason was recorded. */
export interface ReasonCountInput {
  reason: string | null;
  count: number;
}

/** Participants in one box of the flow and the reasons they gave (one reason per participant). */
export interface ReasonedCountInput {
  total: number;
  reasons: readonly ReasonCountInput[];
}

export interface ConsortArmAggregation {
  /** The arm as the caller may show it: its code, or `Group 1`, `Group 2`, ... for blinded keys. */
  label: string;
  allocated: number;
  didNotReceiveAllocatedIntervention: ReasonedCountInput;
  lostToFollowUp: ReasonedCountInput;
  discontinuedIntervention: ReasonedCountInput;
  excludedFromAnalysis: ReasonedCountInput;
}

/** The flat counts of the CONSORT aggregation, service users only. */
export interface ConsortAggregation {
  /** Every screened service user. */
  assessedForEligibility: number;
  /** Participants excluded for any reason, each counted once. */
  excludedTotal: number;
  /** Ineligible participants, each counted once however many criteria they failed. */
  ineligibleTotal: number;
  /** Ineligible participants failing each criterion; criteria nobody failed may be left out. */
  unmetCriteria: readonly { code: string; count: number }[];
  declinedToParticipate: ReasonedCountInput;
  /** Participants with a `not_randomized` event. */
  notRandomized: ReasonedCountInput;
  /** Eligible, not excluded, not yet randomized. */
  pendingRandomization: number;
  randomized: number;
  /** In the order the diagram shows them. */
  arms: readonly ConsortArmAggregation[];
}

export type ConsortCriterion = Pick<components['schemas']['EligibilityCriterion'], 'code' | 'text' | 'roles'>;

export interface ConsortReasonCount {
  reason: string;
  count: number;
}

export interface ConsortReasonedCount {
  total: number;
  reasons: ConsortReasonCount[];
}

export interface ConsortCriterionCount {
  /** The criterion's code. */
  reason: string;
  text: string;
  count: number;
}

export interface ConsortCriteriaCount {
  total: number;
  reasons: ConsortCriterionCount[];
}

export interface ConsortArm {
  arm: string;
  allocated: number;
  receivedAllocatedIntervention: number;
  didNotReceiveAllocatedIntervention: ConsortReasonedCount;
  lostToFollowUp: ConsortReasonedCount;
  discontinuedIntervention: ConsortReasonedCount;
  analysed: number;
  excludedFromAnalysis: ConsortReasonedCount;
}

export interface ConsortReport {
  trialId: string;
  /** `YYYY-MM-DD`: only what is dated on or before this day is counted. */
  asOf: string;
  /** How "did not receive the allocated intervention" was counted (set by the service; docs/consort.md). */
  receivedRule?: 'events' | 'sessions_and_events';
  enrollment: {
    assessedForEligibility: number;
    excluded: {
      total: number;
      notMeetingInclusionCriteria: ConsortCriteriaCount;
      declinedToParticipate: ConsortReasonedCount;
      otherReasons: ConsortReasonedCount;
    };
    pendingRandomization: number;
    randomized: number;
  };
  arms: ConsortArm[];
}

/** The free-text reason breakdowns of an arm, in the order the report and the diagram list them. */
export const ARM_REASONED_COUNTS = [
  'didNotReceiveAllocatedIntervention',
  'lostToFollowUp',
  'discontinuedIntervention',
  'excludedFromAnalysis',
] as const;

/**
 * The aggregation handed over something it cannot be: a count that is not a non-negative integer
 * (PostgreSQL's bigint COUNT arrives as a string unless converted), or a criterion the trial does not
 * have. It signals a bug in the caller, not bad client input.
 */
export class ConsortInputError extends Error {
  /** JSON pointer into the aggregation, e.g. `/arms/1/allocated`. */
  readonly pointer: string;

  constructor(pointer: string, reason: string) {
    super(`${pointer}: ${reason}`);
    this.name = 'ConsortInputError';
    this.pointer = pointer;
  }
}

function requireCount(value: unknown, pointer: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ConsortInputError(pointer, `must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Code-unit order, so the result does not depend on the server's locale or the database collation. */
function compareReasons(a: ConsortReasonCount, b: ConsortReasonCount): number {
  if (a.count !== b.count) return b.count - a.count;
  if (a.reason === b.reason) return 0;
  return a.reason < b.reason ? -1 : 1;
}

/**
 * Merges rows whose reasons read the same once surrounding whitespace is trimmed (free text arrives
 * as typed); rows without a reason count under `not given`.
 */
export function groupReasons(rows: readonly ReasonCountInput[], pointer: string): ConsortReasonCount[] {
  const counts = new Map<string, number>();
  rows.forEach((row, index) => {
    const count = requireCount(row.count, `${pointer}/${index}/count`);
    const reason = row.reason?.trim() || REASON_NOT_GIVEN;
    counts.set(reason, (counts.get(reason) ?? 0) + count);
  });
  return [...counts]
    .filter(([, count]) => count > 0)
    .map(([reason, count]) => ({ reason, count }))
    .sort(compareReasons);
}

function buildReasonedCount(input: ReasonedCountInput, pointer: string): ConsortReasonedCount {
  return {
    total: requireCount(input.total, `${pointer}/total`),
    reasons: groupReasons(input.reasons, `${pointer}/reasons`),
  };
}

function appliesToServiceUsers(criterion: ConsortCriterion): boolean {
  return criterion.roles === undefined || criterion.roles.includes('service_user');
}

/** Every criterion that applies to service users, in the trial's order, zero counts included. */
function buildCriteriaCount(input: ConsortAggregation, criteria: readonly ConsortCriterion[]): ConsortCriteriaCount {
  const screenedCriteria = criteria.filter(appliesToServiceUsers);
  const countByCode = new Map<string, number>();
  input.unmetCriteria.forEach((row, index) => {
    const pointer = `/unmetCriteria/${index}`;
    if (!screenedCriteria.some((criterion) => criterion.code === row.code)) {
      throw new ConsortInputError(
        `${pointer}/code`,
        `${JSON.stringify(row.code)} is not a criterion service users are screened against`,
      );
    }
    if (countByCode.has(row.code)) {
      throw new ConsortInputError(`${pointer}/code`, `${JSON.stringify(row.code)} is listed twice`);
    }
    countByCode.set(row.code, requireCount(row.count, `${pointer}/count`));
  });
  return {
    total: requireCount(input.ineligibleTotal, '/ineligibleTotal'),
    reasons: screenedCriteria.map((criterion) => ({
      reason: criterion.code,
      text: criterion.text,
      count: countByCode.get(criterion.code) ?? 0,
    })),
  };
}

function buildArm(arm: ConsortArmAggregation, index: number): ConsortArm {
  const pointer = `/arms/${index}`;
  const allocated = requireCount(arm.allocated, `${pointer}/allocated`);
  const [didNotReceive, lost, discontinued, excluded] = ARM_REASONED_COUNTS.map((key) =>
    buildReasonedCount(arm[key], `${pointer}/${key}`),
  ) as [ConsortReasonedCount, ConsortReasonedCount, ConsortReasonedCount, ConsortReasonedCount];
  return {
    arm: arm.label,
    allocated,
    receivedAllocatedIntervention: allocated - didNotReceive.total,
    didNotReceiveAllocatedIntervention: didNotReceive,
    lostToFollowUp: lost,
    discontinuedIntervention: discontinued,
    // Intention to treat: everyone allocated is analysed unless explicitly excluded from analysis.
    analysed: allocated - excluded.total,
    excludedFromAnalysis: excluded,
  };
}

/**
 * Shapes the aggregation into the report. Counts are passed through, not reconciled, so that
 * `checkConsortInvariants` can catch an aggregation that does not add up.
 */
export function buildConsortReport(
  input: ConsortAggregation,
  criteria: readonly ConsortCriterion[],
  meta: { trialId: string; asOf: string },
): ConsortReport {
  return {
    trialId: meta.trialId,
    asOf: meta.asOf,
    enrollment: {
      assessedForEligibility: requireCount(input.assessedForEligibility, '/assessedForEligibility'),
      excluded: {
        total: requireCount(input.excludedTotal, '/excludedTotal'),
        notMeetingInclusionCriteria: buildCriteriaCount(input, criteria),
        declinedToParticipate: buildReasonedCount(input.declinedToParticipate, '/declinedToParticipate'),
        otherReasons: buildReasonedCount(input.notRandomized, '/notRandomized'),
      },
      pendingRandomization: requireCount(input.pendingRandomization, '/pendingRandomization'),
      randomized: requireCount(input.randomized, '/randomized'),
    },
    arms: input.arms.map(buildArm),
  };
}

/** Every number in the report with its JSON pointer, in document order. */
export function numericLeaves(report: ConsortReport): { pointer: string; value: number }[] {
  const leaves: { pointer: string; value: number }[] = [];
  const visit = (value: unknown, pointer: string): void => {
    if (typeof value === 'number') leaves.push({ pointer, value });
    else if (Array.isArray(value)) value.forEach((item, index) => visit(item, `${pointer}/${index}`));
    else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) visit(item, `${pointer}/${escapePointerToken(key)}`);
    }
  };
  visit(report, '');
  return leaves;
}

function escapePointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function checkFreeTextReasons(group: ConsortReasonedCount, pointer: string, violations: string[]): void {
  const reasonTotal = sum(group.reasons.map((reason) => reason.count));
  if (reasonTotal !== group.total) {
    violations.push(`${pointer}/total: ${group.total} ≠ sum of reason counts ${reasonTotal}`);
  }
  group.reasons.forEach((reason, index) => {
    if (reason.count === 0) violations.push(`${pointer}/reasons/${index}/count: a listed reason has count 0`);
    if (reason.reason.trim() === '') violations.push(`${pointer}/reasons/${index}/reason: is blank`);
    const previous = group.reasons[index - 1];
    if (previous === undefined) return;
    if (previous.reason === reason.reason) {
      violations.push(`${pointer}/reasons/${index}/reason: ${JSON.stringify(reason.reason)} is listed twice`);
    } else if (compareReasons(previous, reason) > 0) {
      violations.push(`${pointer}/reasons/${index}: not sorted by count descending, then reason ascending`);
    }
  });
}

function checkCriteriaReasons(group: ConsortCriteriaCount, pointer: string, violations: string[]): void {
  group.reasons.forEach((reason, index) => {
    if (reason.count > group.total) {
      violations.push(`${pointer}/reasons/${index}/count: ${reason.count} > total ${group.total}`);
    }
  });
  // Every ineligible participant failed at least one criterion; one failing several is counted once.
  const reasonTotal = sum(group.reasons.map((reason) => reason.count));
  if (reasonTotal < group.total) {
    violations.push(`${pointer}/total: ${group.total} > sum of criterion counts ${reasonTotal}`);
  }
}

/**
 * Every invariant the report breaks, one message each, starting with the JSON pointer at fault; empty when it adds up.
 */
export function checkConsortInvariants(report: ConsortReport): string[] {
  const violations: string[] = [];
  for (const { pointer, value } of numericLeaves(report)) {
    if (!Number.isSafeInteger(value) || value < 0)
      violations.push(`${pointer}: ${value} is not a non-negative integer`);
  }

  const { enrollment } = report;
  const { excluded } = enrollment;
  const enrolledTotal = excluded.total + enrollment.pendingRandomization + enrollment.randomized;
  if (enrollment.assessedForEligibility !== enrolledTotal) {
    violations.push(
      `/enrollment/assessedForEligibility: ${enrollment.assessedForEligibility} ≠ excluded ${excluded.total}` +
        ` + pending randomization ${enrollment.pendingRandomization} + randomized ${enrollment.randomized} = ${enrolledTotal}`,
    );
  }
  const excludedSum =
    excluded.notMeetingInclusionCriteria.total + excluded.declinedToParticipate.total + excluded.otherReasons.total;
  if (excluded.total !== excludedSum) {
    violations.push(
      `/enrollment/excluded/total: ${excluded.total} ≠ not meeting inclusion criteria ${excluded.notMeetingInclusionCriteria.total}` +
        ` + declined ${excluded.declinedToParticipate.total} + other reasons ${excluded.otherReasons.total} = ${excludedSum}`,
    );
  }
  checkCriteriaReasons(
    excluded.notMeetingInclusionCriteria,
    '/enrollment/excluded/notMeetingInclusionCriteria',
    violations,
  );
  checkFreeTextReasons(excluded.declinedToParticipate, '/enrollment/excluded/declinedToParticipate', violations);
  checkFreeTextReasons(excluded.otherReasons, '/enrollment/excluded/otherReasons', violations);

  const allocatedTotal = sum(report.arms.map((arm) => arm.allocated));
  if (allocatedTotal !== enrollment.randomized) {
    violations.push(`/enrollment/randomized: ${enrollment.randomized} ≠ sum of allocated ${allocatedTotal}`);
  }

  report.arms.forEach((arm, index) => {
    const pointer = `/arms/${index}`;
    const receivedSum = arm.receivedAllocatedIntervention + arm.didNotReceiveAllocatedIntervention.total;
    if (receivedSum !== arm.allocated) {
      violations.push(
        `${pointer}/allocated: ${arm.allocated} ≠ received ${arm.receivedAllocatedIntervention}` +
          ` + did not receive ${arm.didNotReceiveAllocatedIntervention.total} = ${receivedSum}`,
      );
    }
    const analysedSum = arm.analysed + arm.excludedFromAnalysis.total;
    if (analysedSum !== arm.allocated) {
      violations.push(
        `${pointer}/allocated: ${arm.allocated} ≠ analysed ${arm.analysed}` +
          ` + excluded from analysis ${arm.excludedFromAnalysis.total} = ${analysedSum}`,
      );
    }
    for (const key of ['lostToFollowUp', 'discontinuedIntervention'] as const) {
      if (arm[key].total > arm.allocated) {
        violations.push(`${pointer}/${key}/total: ${arm[key].total} > allocated ${arm.allocated}`);
      }
    }
    for (const key of ARM_REASONED_COUNTS) checkFreeTextReasons(arm[key], `${pointer}/${key}`, violations);
  });
  return violations;
}
