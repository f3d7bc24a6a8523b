/** Why a randomized participant is outside the per-protocol population, in the order they are reported. */
export const PER_PROTOCOL_REASONS = ['excluded_from_analysis', 'major_deviation', 'below_minimum_sessions'] as const;
export type PerProtocolReason = (typeof PER_PROTOCOL_REASONS)[number];

/** What one randomized participant's per-protocol status is decided on. */
export interface PerProtocolFacts {
  /** The latest analysis event (by date, then recording time; retracted events ignored) is `excluded_from_analysis`. */
  excludedFromAnalysis: boolean;
  /** The latest analysis event (by date, then recording time; retracted ones ignored) is `excluded_from_analysis`. */
  majorDeviations: number;
  /**
   * The delivered dose, when the trial has a delivery plan for the participant's arm (null otherwise): whether the
   * sessions reached the arm's `minimumSessions`, and whether the dose period has ended (the intervention period
   * is over or the participant withdrew from the intervention) so that the count is final.
   */
  dose: { reachedMinimum: boolean; periodEnded: boolean } | null;
}

/**
 * The reasons a participant is excluded from the per-protocol population (empty: in it). Below the minimum dose
 * counts only once the dose period has ended, as CONSORT's "did not receive the allocated intervention" does: a
 * participant still inside the intervention period can reach it yet.
 */
export function perProtocolExclusions(facts: PerProtocolFacts): PerProtocolReason[] {
  const reasons: PerProtocolReason[] = [];
  if (facts.excludedFromAnalysis) reasons.push('excluded_from_analysis');
  if (facts.majorDeviations > 0) reasons.push('major_deviation');
  if (facts.dose !== null && facts.dose.periodEnded && !facts.dose.reachedMinimum) {
    reasons.push('below_minimum_sessions');
  }
  return reasons;
}
