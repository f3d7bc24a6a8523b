import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCsv } from '../src/core/csv';
import { ELIGIBLE_ANSWERS } from '../scripts/smcm-trial';
import { createActiveTrial, grantConsent, screen, serviceUserInput } from './support/factories';
import { CRITERIA, generateCohort } from './support/migration-cohort';
import { startTestApp, TestApp } from './support/test-app';

/*
 * Issue #20's migration test: a cohort of 1,000 screened people generated with a seed is written as CSV files,
 * imported into an active trial, and every CONSORT box, at three dates, is compared with counts made here from the
 * files alone (the counting rules of docs/consort.md applied to the rows); Table 1 likewise.
 */

jest.setTimeout(900_000);

let t: TestApp;
let dir: string;
beforeAll(async () => {
  t = await startTestApp();
  dir = mkdtempSync(join(tmpdir(), 'migration-cohort-'));
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await t.close();
});

type Row = Record<string, string>;
function rowsOf(text: string): Row[] {
  const [header = [], ...records] = parseCsv(text);
  return records.map((fields) => Object.fromEntries(header.map((column, i) => [column, fields[i] ?? ''])));
}

interface Counted {
  assessed: number;
  ineligible: number;
  unmet: Record<string, number>;
  declined: Record<string, number>;
  other: Record<string, number>;
  pending: number;
  randomized: number;
  arms: Record<
    string,
    {
      allocated: number;
      notReceived: Record<string, number>;
      lost: Record<string, number>;
      discontinued: Record<string, number>;
      excluded: Record<string, number>;
      ages: number[];
    }
  >;
}

const tally = (counts: Record<string, number>, reason: string) => {
  counts[reason] = (counts[reason] ?? 0) + 1;
};
const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** The CONSORT boxes as of a date, from the source files: only what is dated on or before it counts. */
function countFromFiles(files: Record<string, Row[]>, asOf: string): Counted {
  const screened = files.participants!.filter((p) => p.screenedOn! <= asOf);
  const byLabel = <T>(rows: Row[], pickRow: (row: Row) => T | undefined) => {
    const map = new Map<string, T[]>();
    for (const row of rows) {
      const value = pickRow(row);
      if (value !== undefined) map.set(row.label!, [...(map.get(row.label!) ?? []), value]);
    }
    return map;
  };
  const allocated = new Map(
    files.allocations!.filter((a) => a.randomizedAt!.slice(0, 10) <= asOf).map((a) => [a.label!, a.arm!]),
  );
  const events = byLabel(files.events!, (e) => (e.occurredOn! <= asOf ? e : undefined));
  const declinedConsents = byLabel(files.consents!, (c) =>
    c.decision === 'declined' && c.signedOn! <= asOf ? c.reason : undefined,
  );
  const withdrawals = byLabel(files.consents!, (c) =>
    c.withdrawnOn && c.withdrawnOn <= asOf ? { on: c.withdrawnOn, scope: c.withdrawalScope! } : undefined,
  );
  const counted: Counted = {
    assessed: screened.length,
    ineligible: 0,
    unmet: {},
    declined: {},
    other: {},
    pending: 0,
    randomized: 0,
    arms: {},
  };
  for (const arm of ['SMCM', 'TAU'])
    counted.arms[arm] = { allocated: 0, notReceived: {}, lost: {}, discontinued: {}, excluded: {}, ages: [] };
  for (const p of screened) {
    const label = p.label!;
    const unmet = CRITERIA.filter((c) => (p[`eligibility.${c}`] === 'true') !== ELIGIBLE_ANSWERS[c]);
    const own = events.get(label) ?? [];
    const ofType = (type: string) => own.filter((e) => e.type === type);
    const arm = allocated.get(label);
    if (unmet.length) {
      counted.ineligible++;
      for (const c of unmet) tally(counted.unmet, c);
    } else if (arm) {
      counted.randomized++;
      const box = counted.arms[arm]!;
      box.allocated++;
      if (p['baseline.age']) box.ages.push(Number(p['baseline.age']));
      for (const e of ofType('intervention_not_received')) tally(box.notReceived, e.reason!);
      for (const e of ofType('discontinued_intervention')) tally(box.discontinued, e.reason!);
      for (const e of ofType('lost_to_follow_up')) tally(box.lost, e.reason!);
      for (const w of withdrawals.get(label) ?? []) if (w.scope === 'follow_up') tally(box.lost, 'withdrew consent');
      const analysis = [...ofType('excluded_from_analysis'), ...ofType('included_in_analysis')].sort((a, b) =>
        b.occurredOn!.localeCompare(a.occurredOn!),
      )[0];
      if (analysis?.type === 'excluded_from_analysis') tally(box.excluded, analysis.reason!);
    } else if (declinedConsents.has(label)) tally(counted.declined, declinedConsents.get(label)![0]!);
    else if (withdrawals.has(label)) tally(counted.declined, 'withdrew consent');
    else if (ofType('not_randomized').length) tally(counted.other, ofType('not_randomized')[0]!.reason!);
    else counted.pending++;
  }
  return counted;
}

const asMap = (reasons: { reason: string; count: number }[]) =>
  Object.fromEntries(reasons.filter((r) => r.count > 0).map((r) => [r.reason, r.count]));

describe('migrating a running trial of 1,000 screened people', () => {
  it('imports the files and every CONSORT box, asOf and Table 1 match counts made from the files', async () => {
    const generated = generateCohort(20_261_201, 1_000);
    const kinds = ['participants', 'consents', 'allocations', 'events'] as const;
    for (const kind of kinds) writeFileSync(join(dir, `${kind}.csv`), generated[kind]);
    const text = Object.fromEntries(kinds.map((kind) => [kind, readFileSync(join(dir, `${kind}.csv`), 'utf8')]));
    const files = Object.fromEntries(kinds.map((kind) => [kind, rowsOf(text[kind]!)]));

    const trial = await createActiveTrial(t);
    const importCsv = (kind: string, csv: string, dryRun = false) =>
      t.call('post', `/v1/trials/${trial.id}/imports?kind=${kind}${dryRun ? '&dryRun=true' : ''}`, {
        raw: { contentType: 'text/csv', data: csv },
      });
    const seconds: string[] = [];
    for (const kind of kinds) {
      const started = Date.now();
      const res = await importCsv(kind, text[kind]!);
      expect({ kind, status: res.status, errors: res.body.errors }).toEqual({ kind, status: 200, errors: [] });
      expect(res.body.rows).toBe(files[kind]!.length);
      seconds.push(`${kind} ${files[kind]!.length} rows ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }

    for (const asOf of ['2017-06-30', '2018-03-31', '2019-12-31']) {
      const expected = countFromFiles(files, asOf);
      const consort = (await t.call('get', `/v1/trials/${trial.id}/consort?asOf=${asOf}`)).body;
      const enrollment = consort.enrollment;
      expect({ asOf, box: 'enrollment', counts: enrollment }).toEqual({
        asOf,
        box: 'enrollment',
        counts: {
          assessedForEligibility: expected.assessed,
          excluded: {
            total: expected.ineligible + total(expected.declined) + total(expected.other),
            notMeetingInclusionCriteria: { total: expected.ineligible, reasons: expect.any(Array) },
            declinedToParticipate: { total: total(expected.declined), reasons: expect.any(Array) },
            otherReasons: { total: total(expected.other), reasons: expect.any(Array) },
          },
          pendingRandomization: expected.pending,
          randomized: expected.randomized,
        },
      });
      expect(asMap(enrollment.excluded.notMeetingInclusionCriteria.reasons)).toEqual(expected.unmet);
      expect(asMap(enrollment.excluded.declinedToParticipate.reasons)).toEqual(expected.declined);
      expect(asMap(enrollment.excluded.otherReasons.reasons)).toEqual(expected.other);
      for (const arm of consort.arms) {
        const box = expected.arms[arm.arm]!;
        const notReceived = total(box.notReceived);
        expect({ asOf, arm: arm.arm, allocated: arm.allocated, received: arm.receivedAllocatedIntervention }).toEqual({
          asOf,
          arm: arm.arm,
          allocated: box.allocated,
          received: box.allocated - notReceived,
        });
        expect(asMap(arm.didNotReceiveAllocatedIntervention.reasons)).toEqual(box.notReceived);
        expect(asMap(arm.lostToFollowUp.reasons)).toEqual(box.lost);
        expect(asMap(arm.discontinuedIntervention.reasons)).toEqual(box.discontinued);
        expect(asMap(arm.excludedFromAnalysis.reasons)).toEqual(box.excluded);
        expect(arm.analysed).toBe(box.allocated - total(box.excluded));
      }

      const table = (await t.call('get', `/v1/trials/${trial.id}/baseline?role=service_user&tests=none&asOf=${asOf}`))
        .body;
      const age = table.variables.find((v: { name: string }) => v.name === 'age');
      for (const { arm, n } of table.arms) {
        const ages = expected.arms[arm]!.ages;
        expect({ asOf, arm, n, ageN: age.byArm[arm].n }).toEqual({
          asOf,
          arm,
          n: expected.arms[arm]!.allocated,
          ageN: ages.length,
        });
        if (ages.length) expect(age.byArm[arm].mean).toBeCloseTo(ages.reduce((a, b) => a + b, 0) / ages.length, 9);
      }
    }
    // The cohort has every kind of box filled at the last date, so none of the comparisons above was vacuous.
    const final = countFromFiles(files, '2019-12-31');
    expect(final.assessed).toBe(1_000);
    expect(Object.keys(final.unmet).length).toBe(CRITERIA.length);
    expect(Object.keys(final.declined).length).toBeGreaterThanOrEqual(3);
    expect(final.pending).toBeGreaterThan(0);
    for (const arm of Object.values(final.arms))
      for (const box of [arm.notReceived, arm.lost, arm.discontinued, arm.excluded])
        expect(total(box)).toBeGreaterThan(0);

    // Randomization continues at site A after the highest imported sequence number.
    const highestA = Math.max(
      ...files.allocations!.filter((a) => a['stratum.site'] === 'A').map((a) => Number(a.sequenceNumber)),
    );
    const p = await screen(t, trial.id, serviceUserInput({ siteCode: 'A' }));
    await grantConsent(t, trial.id, p.id);
    expect((await t.call('post', `/v1/trials/${trial.id}/participants/${p.id}/randomization`)).status).toBe(201);
    const csv = (await t.call('get', `/v1/trials/${trial.id}/allocations`, { headers: { Accept: 'text/csv' } })).text;
    const mine = rowsOf(csv).find((row) => row.participantId === p.id)!;
    expect(mine).toMatchObject({
      sequenceNumber: String(highestA + 1),
      blockNumber: '1',
      positionInBlock: '1',
      importId: '',
    });
    // Import time of the whole cohort (PGlite in tests); printed for the report, not asserted.
    console.log(`migration of 1,000 people: ${seconds.join('; ')}; randomized ${final.randomized}`);
  });
});
