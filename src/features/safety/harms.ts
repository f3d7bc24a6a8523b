/** Adverse-event tables (pure): pooled, or by arm with participants at risk and exact risk differences. */
import { exactRiskDifference } from '../../lib/statistics/risk-difference';

export type Severity = 'mild' | 'moderate' | 'severe';

export interface HarmsEvent {
  participantId: string;
  group: string | null;
  term: string;
  severity: Severity;
  serious: boolean;
}

export interface HarmsCounts {
  participantsWithEvent: number;
  participantsWithSeriousEvent: number;
  events: number;
  seriousEvents: number;
}

export interface TermCounts {
  term: string;
  severity: Severity | null;
  participants: number;
  events: number;
}

const SEVERITIES: readonly Severity[] = ['mild', 'moderate', 'severe'];

export function countHarms(events: readonly HarmsEvent[]): HarmsCounts {
  return {
    participantsWithEvent: new Set(events.map((e) => e.participantId)).size,
    participantsWithSeriousEvent: new Set(events.filter((e) => e.serious).map((e) => e.participantId)).size,
    events: events.length,
    seriousEvents: events.filter((e) => e.serious).length,
  };
}

/** Participants and events by term (severity null) and by term and severity, terms in alphabetical order. */
export function byTermAndSeverity(events: readonly HarmsEvent[]): TermCounts[] {
  const terms = [...new Set(events.map((e) => e.term))].sort((a, b) => a.localeCompare(b));
  const rows: TermCounts[] = [];
  for (const term of terms) {
    const ofTerm = events.filter((e) => e.term === term);
    rows.push({
      term,
      severity: null,
      participants: new Set(ofTerm.map((e) => e.participantId)).size,
      events: ofTerm.length,
    });
    for (const severity of SEVERITIES) {
      const of = ofTerm.filter((e) => e.severity === severity);
      if (of.length)
        rows.push({ term, severity, participants: new Set(of.map((e) => e.participantId)).size, events: of.length });
    }
  }
  return rows;
}

export interface ArmHarms extends HarmsCounts {
  arm: string;
  atRisk: number;
  terms: TermCounts[];
}

export interface RiskDifferenceRow {
  outcome: string;
  first: { arm: string; participants: number; atRisk: number };
  second: { arm: string; participants: number; atRisk: number };
  estimate: number;
  lower: number;
  upper: number;
}

/**
 * Harms by arm (CONSORT item 19): every arm with its participants at risk (randomized), and for two arms the risk
 * difference first − second with its exact unconditional 95% interval, for any event, any serious event and
 * each term. Events of participants never randomized are left out (they are in no arm).
 */
export function harmsByArm(
  arms: readonly { arm: string; atRisk: number }[],
  events: readonly HarmsEvent[],
): { arms: ArmHarms[]; riskDifferences: RiskDifferenceRow[] } {
  const rows = arms.map(({ arm, atRisk }) => {
    const of = events.filter((e) => e.group === arm);
    return { arm, atRisk, ...countHarms(of), terms: byTermAndSeverity(of) };
  });
  const riskDifferences: RiskDifferenceRow[] = [];
  if (rows.length === 2 && rows.every((r) => r.atRisk > 0)) {
    const [a, b] = rows as [ArmHarms, ArmHarms];
    const participants = (arm: string, keep: (e: HarmsEvent) => boolean) =>
      new Set(events.filter((e) => e.group === arm && keep(e)).map((e) => e.participantId)).size;
    const outcomes: [string, (e: HarmsEvent) => boolean][] = [
      ['any adverse event', () => true],
      ['any serious adverse event', (e) => e.serious],
      ...[...new Set(events.filter((e) => e.group !== null).map((e) => e.term))]
        .sort((x, y) => x.localeCompare(y))
        .map((term): [string, (e: HarmsEvent) => boolean] => [term, (e) => e.term === term]),
    ];
    for (const [outcome, keep] of outcomes) {
      const x1 = participants(a.arm, keep);
      const x2 = participants(b.arm, keep);
      const rd = exactRiskDifference(x1, a.atRisk, x2, b.atRisk);
      riskDifferences.push({
        outcome,
        first: { arm: a.arm, participants: x1, atRisk: a.atRisk },
        second: { arm: b.arm, participants: x2, atRisk: b.atRisk },
        estimate: rd.estimate,
        lower: rd.lower,
        upper: rd.upper,
      });
    }
  }
  return { arms: rows, riskDifferences };
}
