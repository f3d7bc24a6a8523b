import { relativeError } from './support/r-reference';
import fixture from './fixtures/r/baseline-table.json';
import { addSites, createTrial, grantConsent, screen, Trial } from './support/factories';
import { startTestApp, TestApp } from './support/test-app';

/*
 * Builds the cohort of test/fixtures/r/baseline-table.json through the API (arms fixed by an uploaded
 * allocation list, case workers assigned) and compares Table 1 with what R computed, field by field.
 */
const TOLERANCE = 1e-10;
/** Largest relative error seen per kind of field, printed after the suite for the record. */
const largestError = new Map<string, number>();

let t: TestApp;
let trial: Trial;

beforeAll(async () => {
  t = await startTestApp();
  trial = await createTrial(t, {
    randomization: { method: 'list' },
    baselineVariables: [
      { name: 'age', type: 'number', unit: 'years', min: 18, max: 120 },
      { name: 'sex', type: 'category', levels: ['female', 'male'] },
      {
        name: 'diagnosis',
        type: 'category',
        levels: ['schizophrenia', 'depression', 'bipolar', 'adjustment', 'anxiety', 'other'],
      },
      { name: 'onsetYears', type: 'number', unit: 'years', min: 0 },
      { name: 'experienceYears', type: 'number', unit: 'years', min: 0, roles: ['case_worker'] },
      {
        name: 'profession',
        type: 'category',
        levels: ['nurse', 'social_worker', 'welfare_worker'],
        roles: ['case_worker'],
      },
    ],
  });
  await addSites(t, trial.id);
  await t.call('put', `/v1/trials/${trial.id}/allocation-table`, {
    body: { rows: fixture.serviceUsers.map((u) => ({ stratum: {}, arm: u.arm })) },
  });
  expect((await t.call('post', `/v1/trials/${trial.id}/activation`)).status).toBe(200);
  const eligibility = {
    age18: true,
    chinese: true,
    cantonese: true,
    written_consent: true,
    immediate_risk: false,
    overt_symptoms: false,
  };
  for (const user of fixture.serviceUsers) {
    const p = await screen(t, trial.id, {
      siteCode: user.site,
      role: 'service_user',
      label: user.label,
      screenedOn: '2018-03-01',
      eligibility,
      baseline: user.baseline as Record<string, number | string>,
    });
    await grantConsent(t, trial.id, p.id);
    const allocation = await t.call('post', `/v1/trials/${trial.id}/participants/${p.id}/randomization`);
    expect(allocation.body.arm).toBe(user.arm);
  }
  for (const worker of fixture.caseWorkers) {
    const w = await screen(t, trial.id, {
      siteCode: worker.site,
      role: 'case_worker',
      label: worker.label,
      screenedOn: '2018-02-01',
      eligibility: {},
      baseline: worker.baseline,
    });
    await t.call('post', `/v1/trials/${trial.id}/participants/${w.id}/assignment`, {
      body: { arm: worker.arm, reason: 'team allocation' },
    });
  }
});
afterAll(async () => {
  await t.close();
  const report = [...largestError.entries()].map(([kind, error]) => `${kind} ${error.toExponential(1)}`).join(', ');
  process.stdout.write(`  [${t.db.kind}] Table 1 vs R, largest relative error by field: ${report}\n`);
});

type Expected = (typeof fixture.expected)['service_user'];

function compare(
  table: { arms: unknown; variables: Record<string, unknown>[] },
  expected: Expected,
  tests: 'welch' | 'student',
): string[] {
  const errors: string[] = [];
  const close = (label: string, actual: unknown, wanted: unknown) => {
    if (wanted === null || actual === null) {
      if (wanted !== actual) errors.push(`${label}: got ${actual}, R ${wanted}`);
      return;
    }
    const error = relativeError(actual as number, wanted as number);
    const kind = label.split(' ').pop()!;
    largestError.set(kind, Math.max(largestError.get(kind) ?? 0, error));
    if (!(error <= TOLERANCE)) errors.push(`${label}: got ${actual}, R ${wanted} (relative error ${error})`);
  };
  expect(table.arms).toEqual(expected.arms);
  for (const want of expected.variables as Record<string, unknown>[]) {
    const got = table.variables.find((v) => v.name === want.name)!;
    const name = want.name as string;
    for (const [arm, summary] of Object.entries(want.byArm as Record<string, Record<string, unknown>>)) {
      const actual = (got.byArm as Record<string, Record<string, unknown>>)[arm]!;
      for (const [field, value] of Object.entries(summary)) {
        if (field === 'levels') {
          (value as { level: string; count: number; percent: number | null }[]).forEach((level, i) => {
            const a = (actual.levels as { level: string; count: number; percent: number | null }[])[i]!;
            expect([name, arm, a.level, a.count]).toEqual([name, arm, level.level, level.count]);
            close(`${name} ${arm} ${level.level} percent`, a.percent, level.percent);
          });
        } else {
          close(`${name} ${arm} ${field}`, actual[field], value);
        }
      }
    }
    close(`${name} smd`, got.smd, want.smd);
    const wantTest = (want.type === 'number' ? want[tests] : want.test) as {
      method?: string;
      statistic: number | null;
      df: number | null;
      p: number;
    };
    const test = got.test as { method: string; statistic: number | null; df: number | null; p: number };
    expect([name, test.method]).toEqual([name, wantTest.method ?? tests]);
    close(`${name} statistic`, test.statistic, wantTest.statistic);
    close(`${name} df`, test.df, wantTest.df);
    close(`${name} p`, test.p, wantTest.p);
  }
  return errors;
}

describe('Table 1 against R', () => {
  it('matches R for service users with Welch tests', async () => {
    const res = await t.call('get', `/v1/trials/${trial.id}/baseline`);
    expect(res.status).toBe(200);
    expect(res.body.note).toMatch(/CONSORT/);
    expect(compare(res.body, fixture.expected.service_user, 'welch')).toEqual([]);
    const diagnosis = res.body.variables.find((v: { name: string }) => v.name === 'diagnosis');
    expect(diagnosis.byArm.SMCM.levels.map((l: { level: string }) => l.level)).toEqual([
      'schizophrenia',
      'depression',
      'bipolar',
      'adjustment',
      'anxiety',
      'other',
    ]);
  });

  it('matches R with Student tests, and for case workers by assigned arm', async () => {
    expect(
      compare(
        (await t.call('get', `/v1/trials/${trial.id}/baseline?tests=student`)).body,
        fixture.expected.service_user,
        'student',
      ),
    ).toEqual([]);
    expect(
      compare(
        (await t.call('get', `/v1/trials/${trial.id}/baseline?role=case_worker`)).body,
        fixture.expected.case_worker,
        'welch',
      ),
    ).toEqual([]);
  });

  it('leaves tests out with tests=none and counts nobody before the first randomization date', async () => {
    const none = await t.call('get', `/v1/trials/${trial.id}/baseline?tests=none`);
    expect(none.body.variables.every((v: { test: unknown; smd: unknown }) => v.test === null && v.smd !== null)).toBe(
      true,
    );
    const early = await t.call('get', `/v1/trials/${trial.id}/baseline?asOf=2000-01-01`);
    expect(early.body.arms).toEqual([
      { arm: 'SMCM', n: 0 },
      { arm: 'TAU', n: 0 },
    ]);
    expect(early.body.variables[0].byArm.SMCM).toEqual({
      n: 0,
      missing: 0,
      mean: null,
      sd: null,
      median: null,
      q1: null,
      q3: null,
      min: null,
      max: null,
    });
  });

  it('renders the same table as CSV and printable HTML', async () => {
    const csv = await t.call('get', `/v1/trials/${trial.id}/baseline`, { headers: { Accept: 'text/csv' } });
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toBe('variable,statistic,SMCM,TAU,smd,test,test_statistic,df,p');
    const json = (await t.call('get', `/v1/trials/${trial.id}/baseline`)).body;
    const ageMean = lines.find((l) => l.startsWith('age,mean,'))!.split(',');
    expect(Number(ageMean[2])).toBe(json.variables[0].byArm.SMCM.mean);
    const html = await t.call('get', `/v1/trials/${trial.id}/baseline`, { headers: { Accept: 'text/html' } });
    expect(html.text).toContain('<table>');
    expect(html.text).toContain('(n = 20)');
  });

  it('masks arms for blinded keys in JSON, CSV and HTML', async () => {
    const created = await t.call('post', '/v1/api-keys', {
      body: { name: 'blinded statistician', role: 'statistician', trialIds: [trial.id], blinded: true },
    });
    const key = created.body.key;
    for (const accept of ['application/json', 'text/csv', 'text/html']) {
      const res = await t.call('get', `/v1/trials/${trial.id}/baseline`, { key, headers: { Accept: accept } });
      expect(res.status).toBe(200);
      expect(res.text).not.toMatch(/SMCM|TAU|Treatment as usual/);
      expect(res.text).toContain('Group 1');
    }
    const coordinator = await t.createKey('coordinator');
    expect((await t.call('get', `/v1/trials/${trial.id}/baseline`, { key: coordinator.key })).status).toBe(403);
  });
});
