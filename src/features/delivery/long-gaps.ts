import { addDays, daysBetween } from '../follow-up/calendar';
import { DoseFacts, dosePeriodEnd } from './dose';

/** A gap longer than this many planned intervals is a protocol deviation (`long_gap`, minor). */
export const LONG_GAP_FACTOR = 2;

/** A stretch of the intervention period without a session, longer than LONG_GAP_FACTOR planned intervals. */
export interface LongGap {
  participantId: string;
  siteCode: string;
  /** The randomization day or the session that opened the gap. */
  from: string;
  fromRandomization: boolean;
  /** The session that closed the gap; null while none did (the gap runs to the end of the period). */
  to: string | null;
  /** Days from `from` to `to`, or to the end of the period when the gap is open. */
  days: number;
  /** The first day past the limit: `from` + LONG_GAP_FACTOR × planned interval + 1. */
  breachedOn: string;
}

/**
 * The long gaps of one service user's intervention period. The anchors are the randomization day and every session
 * (not retracted) from it to the end of the period as the dose counts it (last day of the period, the day before an
 * intervention withdrawal, or today). After each anchor the next session is due within LONG_GAP_FACTOR × the
 * planned interval: a gap of exactly that many days is on plan, one day more is a long gap. A gap still open at the
 * end of the period counts once its limit has passed inside the period; nothing after a withdrawal or after the
 * period counts.
 */
export function longGaps(
  facts: DoseFacts,
  plannedIntervalDays: number,
  interventionPeriodDays: number,
  today: string,
): LongGap[] {
  const { end } = dosePeriodEnd(facts.randomizedOn, interventionPeriodDays, facts.withdrawnOn, today);
  if (end < facts.randomizedOn) return [];
  const limit = LONG_GAP_FACTOR * plannedIntervalDays;
  const dates = facts.sessions
    .map((s) => s.date)
    .filter((date) => date >= facts.randomizedOn && date <= end)
    .sort();
  const anchors = [facts.randomizedOn, ...dates];
  const gaps: LongGap[] = [];
  anchors.forEach((from, i) => {
    const to = anchors[i + 1] ?? null;
    const days = daysBetween(from, to ?? end);
    if (days <= limit) return;
    gaps.push({
      participantId: facts.participantId,
      siteCode: facts.siteCode,
      from,
      fromRandomization: i === 0,
      to,
      days,
      breachedOn: addDays(from, limit + 1),
    });
  });
  return gaps;
}
