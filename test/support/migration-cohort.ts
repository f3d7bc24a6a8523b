import { mulberry32 } from '../../scripts/seeded-random';
import { DIAGNOSES, ELIGIBLE_ANSWERS } from '../../scripts/smcm-trial';

/*
 * A running SMCM trial's history as the CSV files a migration imports (docs/interoperability.md), generated from a
 * seed: screened people with historical dates, ineligible for one or two criteria, declining consent with several
 * reasons, withdrawing before randomization, not randomized for other reasons, pending, randomized (with burnt slots
 * between sequence numbers), then lost, discontinued, not receiving the intervention, withdrawing from follow-up,
 * excluded from analysis (some included again). The test counts CONSORT from these files, not from this generator.
 */

const DAY = 86_400_000;
const dateAfter = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);

export interface CohortFiles {
  participants: string;
  consents: string;
  allocations: string;
  events: string;
}

export const CRITERIA = Object.keys(ELIGIBLE_ANSWERS) as (keyof typeof ELIGIBLE_ANSWERS)[];

export function generateCohort(seed: number, size: number): CohortFiles {
  const random = mulberry32(seed);
  const int = (from: number, to: number) => from + Math.floor(random() * (to - from + 1));
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  const participants = [
    ['label', 'siteCode', 'role', 'screenedOn', ...CRITERIA.map((c) => `eligibility.${c}`), 'baseline.age'],
  ];
  participants[0]!.push('baseline.sex', 'baseline.diagnosis', 'baseline.onsetYears');
  const consents = [['label', 'form', 'version', 'decision', 'signedOn', 'obtainedBy', 'method', 'reason']];
  consents[0]!.push('withdrawnOn', 'withdrawalReason', 'withdrawalScope');
  const randomized: { label: string; site: string; on: string; arm: string }[] = [];
  const events = [['label', 'type', 'occurredOn', 'reason']];

  for (let i = 1; i <= size; i++) {
    const label = `H-${String(i).padStart(4, '0')}`;
    const site = pick(['A', 'B', 'C']);
    const screenedOn = dateAfter('2017-01-02', int(0, 540));
    const answers: Record<string, boolean> = { ...ELIGIBLE_ANSWERS };
    if (random() < 0.22) {
      const failing = new Set([pick(CRITERIA)]);
      if (random() < 0.3) failing.add(pick(CRITERIA));
      for (const criterion of failing) answers[criterion] = !ELIGIBLE_ANSWERS[criterion];
    }
    const eligible = CRITERIA.every((c) => answers[c] === ELIGIBLE_ANSWERS[c]);
    const age = answers.age18 ? String(int(18, 75)) : '';
    participants.push([
      label,
      site,
      'service_user',
      screenedOn,
      ...CRITERIA.map((c) => String(answers[c])),
      age,
      pick(['female', 'male']),
      pick(DIAGNOSES),
      String(int(0, 30)),
    ]);
    if (!eligible) continue;
    const signedOn = dateAfter(screenedOn, int(0, 14));
    const consent = (decision: string, reason = '', withdrawal: string[] = ['', '', '']) =>
      consents.push([
        label,
        'trial',
        '1.0',
        decision,
        signedOn,
        pick(['IW', 'KL', 'MC']),
        'written',
        reason,
        ...withdrawal,
      ]);
    const path = random();
    if (path < 0.1) consent('declined', pick(['Not interested', 'No time', 'Family objected']));
    else if (path < 0.15) {
      consent('granted');
      events.push([
        label,
        'not_randomized',
        dateAfter(signedOn, int(1, 20)),
        pick(['Moved away', 'Admitted to hospital']),
      ]);
    } else if (path < 0.18) consent('granted', '', [dateAfter(signedOn, int(1, 10)), 'changed mind', 'all']);
    else if (path < 0.2) consent('granted');
    else {
      const randomizedOn = dateAfter(signedOn, int(0, 14));
      const after = (from: number, to: number) => dateAfter(randomizedOn, int(from, to));
      const fate = random();
      if (fate < 0.03) consent('granted', '', [after(20, 300), 'no more interviews', 'follow_up']);
      else consent('granted');
      if (fate >= 0.03 && fate < 0.11)
        events.push([
          label,
          'lost_to_follow_up',
          after(30, 400),
          pick(['Could not be contacted', 'Imprisoned', 'Moved away']),
        ]);
      else if (fate >= 0.11 && fate < 0.15)
        events.push([
          label,
          'discontinued_intervention',
          after(10, 200),
          pick(['Side effects', 'No longer wanted it']),
        ]);
      else if (fate >= 0.15 && fate < 0.17)
        events.push([label, 'intervention_not_received', after(1, 30), 'Never attended']);
      if (random() < 0.05) {
        const excludedOn = after(30, 300);
        events.push([label, 'excluded_from_analysis', excludedOn, pick(['Randomized in error', 'Protocol violation'])]);
        if (random() < 0.25)
          events.push([label, 'included_in_analysis', dateAfter(excludedOn, int(1, 60)), 'Error corrected']);
      }
      randomized.push({ label, site, on: randomizedOn, arm: random() < 0.5 ? 'SMCM' : 'TAU' });
    }
  }

  // Sequence numbers per site in date order, with a slot burnt now and then by the previous system.
  const allocations = [['label', 'arm', 'sequenceNumber', 'randomizedAt', 'stratum.site']];
  const next: Record<string, number> = {};
  for (const r of [...randomized].sort((a, b) => a.on.localeCompare(b.on) || a.label.localeCompare(b.label))) {
    next[r.site] = (next[r.site] ?? 0) + (random() < 0.02 ? 2 : 1);
    allocations.push([r.label, r.arm, String(next[r.site]), `${r.on}T0${int(1, 8)}:${int(10, 59)}:00Z`, r.site]);
  }
  const csv = (rows: string[][]) => rows.map((row) => row.join(',')).join('\n') + '\n';
  return {
    participants: csv(participants),
    consents: csv(consents),
    allocations: csv(allocations),
    events: csv(events),
  };
}
