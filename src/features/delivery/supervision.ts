import type { components } from '../../generated/openapi';

type SupervisionSummary = components['schemas']['SupervisionSummary'];
type SupervisionKind = components['schemas']['SupervisionKind'];
export type SupervisionPlan = components['schemas']['SupervisionPlan'];
type DeliveryConfiguration = components['schemas']['DeliveryConfiguration'];

/**
 * The supervision plan an arm's case workers are judged against: the arm's own plan, else the trial-wide one; a
 * worker not assigned to an arm (null) and a trial without a delivery plan get the trial-wide one (or none).
 */
export function supervisionPlanOf(
  delivery: DeliveryConfiguration | null | undefined,
  arm: string | null,
): SupervisionPlan {
  const own = arm === null ? undefined : delivery?.arms.find((a) => a.arm === arm)?.supervisionPlan;
  return own ?? delivery?.supervisionPlan ?? [];
}

/** The calendar months from `from` to `to` (`YYYY-MM`), both included; empty when `to` is earlier. */
export function monthsBetween(from: string, to: string, limit = 120): string[] {
  const months: string[] = [];
  let [year, month] = from.split('-').map(Number) as [number, number];
  for (;;) {
    const current = `${year}-${String(month).padStart(2, '0')}`;
    if (current > to || months.length >= limit) return months;
    months.push(current);
    month += 1;
    if (month === 13) {
      month = 1;
      year += 1;
    }
  }
}

export interface SupervisedWorker {
  caseWorkerId: string;
  label: string;
  siteCode: string;
  /** The arm of the worker's current assignment; null when not assigned. */
  arm: string | null;
}

export interface SupervisionFact {
  date: string;
  kind: SupervisionKind;
  caseWorkerIds: readonly string[];
  durationMinutes: number;
}

/**
 * One row per worker and month: sessions attended by kind, minutes, and whether every kind of the plan of the
 * worker's arm (`planOf`) reached its monthly number. A group session counts once for each worker who attended it.
 */
export function supervisionRows(
  workers: readonly SupervisedWorker[],
  sessions: readonly SupervisionFact[],
  months: readonly string[],
  planOf: (arm: string | null) => SupervisionPlan,
): SupervisionSummary['rows'] {
  return workers.flatMap((worker) => {
    const plan = planOf(worker.arm);
    return months.map((month) => {
      const attended = sessions.filter(
        (s) => s.date.slice(0, 7) === month && s.caseWorkerIds.includes(worker.caseWorkerId),
      );
      const count = (kind: SupervisionKind) => attended.filter((s) => s.kind === kind).length;
      const counts = {
        individual: count('individual'),
        group: count('group'),
        field_mentoring: count('field_mentoring'),
      };
      return {
        ...worker,
        month,
        ...counts,
        minutes: attended.reduce((sum, s) => sum + s.durationMinutes, 0),
        met: plan.every((p) => counts[p.kind] >= p.perMonth),
      };
    });
  });
}
