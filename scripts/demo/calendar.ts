import { addDays, utcToday } from './cohort';

/**
 * The clock of the demo's own in-process service (`createApp({ now })`): the demo sets "today" to the
 * randomization day, runs screening, consent and randomization there, then moves today forward to the real
 * date and records the 6-month visits that have come due since. Time of day runs on as usual, so the
 * service's timestamps keep their order. The audit trail's own timestamps come from the database and show
 * when each row was really written.
 */
export interface DemoCalendar {
  /** The service's "now". */
  now(): Date;
  /** The date the service currently calls today. */
  today(): string;
  /** Makes `date` today for the service (whole days back from the real date; never ahead of it). */
  setToday(date: string): void;
}

export function createDemoCalendar(realNow: () => Date = () => new Date()): DemoCalendar {
  let daysBack = 0;
  const now = () => new Date(realNow().getTime() - daysBack * 86_400_000);
  return {
    now,
    today: () => utcToday(now()),
    setToday(date: string) {
      const back = Math.round((Date.parse(utcToday(realNow())) - Date.parse(date)) / 86_400_000);
      if (!Number.isInteger(back) || back < 0) throw new Error(`the demo calendar cannot move to ${date}`);
      daysBack = back;
    },
  };
}

/** The day a calendar demo randomizes on: `days` before the real today. */
export const randomizationDay = (days: number, realNow: Date = new Date()) => addDays(utcToday(realNow), -days);
