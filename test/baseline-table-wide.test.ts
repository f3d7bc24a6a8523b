import { columnGroups } from '../src/features/statistics/baseline.query';
import { createActiveTrial, grantConsent, screen, serviceUserInput, Trial } from './support/factories';
import { startTestApp, TestApp } from './support/test-app';

/*
 * Table 1 for a trial whose variables need more result columns than PostgreSQL allows in one statement (1664):
 * 17 categories of 100 levels and two numbers are computed in two passes, and every count and mean lands on its
 * variable and arm.
 */
const LEVELS = Array.from({ length: 100 }, (_, j) => `l${j}`);
const CATEGORIES = Array.from({ length: 17 }, (_, i) => `q${i}`);
const PARTICIPANTS = 8;

let t: TestApp;
let trial: Trial;
const people: { baseline: Record<string, number | string>; arm: string }[] = [];

function baselineOf(k: number): Record<string, number | string> {
  const baseline: Record<string, number | string> = { age: 20 + 3 * k, score: k / 4 };
  CATEGORIES.forEach((name, i) => {
    // Participant 0 leaves q3 unanswered: a missing value, counted apart from the levels.
    if (!(k === 0 && i === 3)) baseline[name] = LEVELS[(k * 7 + i) % LEVELS.length]!;
  });
  return baseline;
}

beforeAll(async () => {
  t = await startTestApp();
  trial = await createActiveTrial(t, {
    baselineVariables: [
      { name: 'age', type: 'number' },
      ...CATEGORIES.map((name) => ({ name, type: 'category' as const, levels: LEVELS })),
      { name: 'score', type: 'number' },
    ],
  });
  for (let k = 0; k < PARTICIPANTS; k++) {
    const p = await screen(t, trial.id, serviceUserInput({ baseline: baselineOf(k) }));
    await grantConsent(t, trial.id, p.id);
    const allocation = await t.call('post', `/v1/trials/${trial.id}/participants/${p.id}/randomization`);
    expect(allocation.status).toBe(201);
    people.push({ baseline: baselineOf(k), arm: allocation.body.arm });
  }
});
afterAll(() => t.close());

describe('Table 1 with more columns than one statement may return', () => {
  it('splits the variables into column groups that fit', () => {
    const groups = columnGroups({
      numeric: ['age', 'score'],
      categories: CATEGORIES.map((name) => ({ name, levels: LEVELS })),
    });
    expect(groups.map((g) => [g.numeric.length, g.categories.length])).toEqual([
      [2, 15],
      [0, 2],
    ]);
    expect(columnGroups({ numeric: ['age'], categories: [] })).toEqual([{ numeric: ['age'], categories: [] }]);
  });

  it('counts every level and missing value and summarizes every number per arm', async () => {
    const res = await t.call('get', `/v1/trials/${trial.id}/baseline?tests=none`);
    expect(res.status).toBe(200);
    const variables = res.body.variables as {
      name: string;
      byArm: Record<string, { n: number; missing: number; mean?: number; levels?: { level: string; count: number }[] }>;
    }[];
    for (const arm of ['SMCM', 'TAU']) {
      const inArm = people.filter((p) => p.arm === arm);
      expect(res.body.arms.find((a: { arm: string }) => a.arm === arm).n).toBe(inArm.length);
      for (const name of ['age', 'score']) {
        const summary = variables.find((v) => v.name === name)!.byArm[arm]!;
        const values = inArm.map((p) => p.baseline[name] as number);
        expect(summary.n).toBe(values.length);
        expect(summary.mean).toBeCloseTo(values.reduce((s, v) => s + v, 0) / values.length, 12);
      }
      for (const name of CATEGORIES) {
        const summary = variables.find((v) => v.name === name)!.byArm[arm]!;
        const answered = inArm.filter((p) => p.baseline[name] !== undefined);
        expect(summary.missing).toBe(inArm.length - answered.length);
        expect(summary.n).toBe(answered.length);
        const counted = summary.levels!.filter((l) => l.count > 0).map((l) => [l.level, l.count]);
        const expected = LEVELS.map((level) => [level, answered.filter((p) => p.baseline[name] === level).length]);
        expect(counted).toEqual(expected.filter(([, count]) => (count as number) > 0));
      }
    }
  });
});
