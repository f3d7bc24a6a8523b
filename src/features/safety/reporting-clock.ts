/**
 * Reporting clocks of serious adverse events (pure). A clock starts at the instant the site became aware of
 * the event and runs in elapsed time: deadlines are computed in UTC (hours and days of 24 hours, weekends and
 * holidays included, as ICH E2A and the ethics committees count them) and only shown in the trial's time zone.
 */

export type SeriousCriterion = 'hospitalization' | 'life_threatening' | 'death' | 'disability' | 'other_important';
export type Relatedness = 'not_related' | 'unlikely' | 'possible' | 'probable' | 'definite';
export type Outcome = 'recovered' | 'recovering' | 'not_recovered' | 'recovered_with_sequelae' | 'fatal' | 'unknown';

/** The trial's clocks; every duration is elapsed time from awareness. */
export interface ClockSettings {
  /** IANA time zone in which deadlines are shown (e.g. Asia/Hong_Kong). */
  timeZone: string;
  /** Initial report of any serious event to the sponsor (e.g. 24 hours). */
  initialReportHours: number;
  /** Report to the ethics committee of a fatal or life-threatening, unexpected, related event (e.g. 7 days). */
  fatalOrLifeThreateningDays: number;
  /** Report to the ethics committee of every other serious event (e.g. 15 days). */
  otherSeriousDays: number;
}

export const DEFAULT_CLOCK_SETTINGS: ClockSettings = {
  timeZone: 'UTC',
  initialReportHours: 24,
  fatalOrLifeThreateningDays: 7,
  otherSeriousDays: 15,
};

export interface ClockedEvent {
  serious: { criteria: readonly SeriousCriterion[] } | null;
  relatedness: Relatedness;
  expected: boolean;
  outcome: Outcome | null;
  /** When the site became aware (UTC instant); null when not given. */
  awareAt: Date | null;
  reportedToSponsorAt: Date | null;
  reportedToEthicsAt: Date | null;
}

export type ClockName = 'sponsor_initial' | 'ethics';
export type ClockStatus = 'due' | 'late' | 'reported_on_time' | 'reported_late';
export type EthicsCategory = 'fatal_or_life_threatening_unexpected_related' | 'other_serious';

export interface Clock {
  clock: ClockName;
  category: EthicsCategory | null;
  dueAt: Date;
  reportedAt: Date | null;
  status: ClockStatus;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** "Related" in the regulatory sense: a reasonable possibility of a causal relationship (ICH E2A). */
export function isRelated(relatedness: Relatedness): boolean {
  return relatedness === 'possible' || relatedness === 'probable' || relatedness === 'definite';
}

export function ethicsCategory(event: Pick<ClockedEvent, 'serious' | 'relatedness' | 'expected' | 'outcome'>) {
  if (!event.serious) return null;
  const fatalOrLifeThreatening =
    event.outcome === 'fatal' ||
    event.serious.criteria.includes('death') ||
    event.serious.criteria.includes('life_threatening');
  return fatalOrLifeThreatening && !event.expected && isRelated(event.relatedness)
    ? 'fatal_or_life_threatening_unexpected_related'
    : 'other_serious';
}

function statusOf(dueAt: Date, reportedAt: Date | null, now: Date): ClockStatus {
  if (reportedAt) return reportedAt.getTime() <= dueAt.getTime() ? 'reported_on_time' : 'reported_late';
  return now.getTime() <= dueAt.getTime() ? 'due' : 'late';
}

/** The clocks a serious event runs (none for a non-serious event, or before the awareness time is known). */
export function reportingClocks(event: ClockedEvent, settings: ClockSettings, now: Date): Clock[] {
  const category = ethicsCategory(event);
  if (!category || !event.awareAt) return [];
  const start = event.awareAt.getTime();
  const sponsorDue = new Date(start + settings.initialReportHours * HOUR_MS);
  const ethicsDays =
    category === 'fatal_or_life_threatening_unexpected_related'
      ? settings.fatalOrLifeThreateningDays
      : settings.otherSeriousDays;
  const ethicsDue = new Date(start + ethicsDays * DAY_MS);
  return [
    {
      clock: 'sponsor_initial',
      category: null,
      dueAt: sponsorDue,
      reportedAt: event.reportedToSponsorAt,
      status: statusOf(sponsorDue, event.reportedToSponsorAt, now),
    },
    {
      clock: 'ethics',
      category,
      dueAt: ethicsDue,
      reportedAt: event.reportedToEthicsAt,
      status: statusOf(ethicsDue, event.reportedToEthicsAt, now),
    },
  ];
}

/** Whole hours left (negative when late), rounded towards the deadline's side so 30 minutes late is -1. */
export function hoursRemaining(dueAt: Date, now: Date): number {
  const hours = (dueAt.getTime() - now.getTime()) / HOUR_MS;
  return hours >= 0 ? Math.floor(hours) : -Math.ceil(-hours);
}

/** True for a time zone the runtime knows (IANA names). */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone }).format(0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The instant as local time in the zone with its UTC offset, e.g. `2026-11-28T07:30:00+08:00`: what a site sees,
 * while the instant itself stays the UTC one.
 */
export function formatInTimeZone(instant: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(instant);
  const get = (type: string) => parts.find((p) => p.type === type)!.value;
  const local = `${get('year')}-${get('month')}-${get('day')}T${get('hour')}:${get('minute')}:${get('second')}`;
  const asUtc = Date.parse(`${local}Z`);
  const offsetMinutes = Math.round((asUtc - Math.floor(instant.getTime() / 1000) * 1000) / 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${local}${offset}`;
}

/** The calendar date of an instant in a time zone (YYYY-MM-DD). */
export function dateInTimeZone(instant: Date, timeZone: string): string {
  return formatInTimeZone(instant, timeZone).slice(0, 10);
}
