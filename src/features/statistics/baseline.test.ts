import { buildBaselineTable } from './baseline';

describe('buildBaselineTable', () => {
  it('gives a null SMD (not an error) where it is undefined: each arm all in one level, the levels differ', () => {
    const table = buildBaselineTable({
      trialId: '00000000-0000-4000-8000-000000000000',
      role: 'service_user',
      asOf: null,
      tests: 'welch',
      arms: [
        { arm: 'SMCM', n: 1 },
        { arm: 'TAU', n: 1 },
      ],
      variables: [{ name: 'sex', type: 'category', levels: ['female', 'male'] } as never],
      numeric: new Map(),
      categories: new Map([
        [
          'sex',
          [
            { arm: 'SMCM', level: 'female', count: 1 },
            { arm: 'TAU', level: 'male', count: 1 },
          ],
        ],
      ]),
    });
    expect(table.variables[0]!.smd).toBeNull();
  });
});
