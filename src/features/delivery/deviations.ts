import type { components } from '../../generated/openapi';
import { LONG_GAP_FACTOR, LongGap } from './long-gaps';
import type { SessionFlag } from './session-rules';

type Deviation = components['schemas']['Deviation'];

/** Contamination is major (the comparison between arms is at stake); a session after the period is minor. */
const DERIVED: Record<SessionFlag, { severity: Deviation['severity']; description: string }> = {
  worker_other_arm: { severity: 'major', description: 'Session by a case worker assigned to the other arm' },
  tools_not_in_arm: { severity: 'major', description: "Tools the service user's arm does not use" },
  kind_not_in_arm: { severity: 'major', description: 'A session kind of the other arm' },
  after_intervention_period: { severity: 'minor', description: 'Session after the intervention period' },
};

export interface FlaggedSession {
  sessionId: string;
  participantId: string;
  siteCode: string;
  date: string;
  flags: readonly SessionFlag[];
  recordedAt: string;
}

/** The deviations a flagged session stands for: one per flag, category = the flag. */
export function derivedDeviations(session: FlaggedSession): Deviation[] {
  return session.flags.map((flag) => ({
    id: `${session.sessionId}:${flag}`,
    source: 'derived',
    participantId: session.participantId,
    siteCode: session.siteCode,
    category: flag,
    severity: DERIVED[flag].severity,
    occurredOn: session.date,
    description: DERIVED[flag].description,
    correctiveAction: null,
    sessionId: session.sessionId,
    recordedAt: session.recordedAt,
  }));
}

/**
 * The deviation a long gap stands for (category `long_gap`, minor): dated on the first day past the limit, which is
 * also its `recordedAt` (start of that UTC day), so the list is the same whenever it is computed.
 */
export function longGapDeviation(gap: LongGap, plannedIntervalDays: number): Deviation {
  const opened = gap.fromRandomization ? `randomization on ${gap.from}` : `the session on ${gap.from}`;
  const closed = gap.to === null ? 'no session since' : `next session on ${gap.to}`;
  return {
    id: `${gap.participantId}:long_gap:${gap.from}`,
    source: 'derived',
    participantId: gap.participantId,
    siteCode: gap.siteCode,
    category: 'long_gap',
    severity: 'minor',
    occurredOn: gap.breachedOn,
    description:
      `${gap.days} days without a session after ${opened} (${closed}); ` +
      `the plan allows ${LONG_GAP_FACTOR} × ${plannedIntervalDays} days`,
    correctiveAction: null,
    sessionId: null,
    recordedAt: `${gap.breachedOn}T00:00:00.000Z`,
  };
}

/** Participants with at least one major deviation, and how many each has. */
export function majorDeviationCounts(deviations: readonly Deviation[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const d of deviations)
    if (d.severity === 'major' && d.participantId !== null)
      counts.set(d.participantId, (counts.get(d.participantId) ?? 0) + 1);
  return counts;
}

export interface DeviationFilter {
  source?: Deviation['source'];
  severity?: Deviation['severity'];
  category?: string;
  siteCode?: string;
  participantId?: string;
}

/** Recorded and derived deviations in one list, filtered, by date then recording time. */
export function deviationList(recorded: readonly Deviation[], derived: readonly Deviation[], filter: DeviationFilter) {
  return [...recorded, ...derived]
    .filter(
      (d) =>
        (filter.source === undefined || d.source === filter.source) &&
        (filter.severity === undefined || d.severity === filter.severity) &&
        (filter.category === undefined || d.category === filter.category) &&
        (filter.siteCode === undefined || d.siteCode === filter.siteCode) &&
        (filter.participantId === undefined || d.participantId === filter.participantId),
    )
    .sort((a, b) => a.occurredOn.localeCompare(b.occurredOn) || a.recordedAt.localeCompare(b.recordedAt));
}
