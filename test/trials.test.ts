import { addSites, createActiveTrial, createTrial, smcmTrialInput } from './support/factories';
import { startTestApp, TestApp } from './support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const pointersOf = (body: { errors?: { pointer: string }[] }) => (body.errors ?? []).map((e) => e.pointer);

describe('creating and reading trials', () => {
  it('stores the seed trial and reads back exactly what was sent', async () => {
    const input = smcmTrialInput();
    const res = await t.call('post', '/v1/trials', { body: input });
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/v1/trials/${res.body.id}`);
    expect(res.headers.etag).toBe('"1"');
    const { code, ...config } = input;
    expect(res.body).toMatchObject({ code, status: 'setup', version: 1, activatedAt: null, sites: [], ...config });

    const read = await t.call('get', `/v1/trials/${res.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(res.body);
    expect(read.body.incentives).toEqual(input.incentives);
    expect(read.body.incentives[0]).toMatchObject({
      code: 'interview_coupon',
      amount: 50,
      currency: 'HKD',
      roles: ['service_user'],
      maxPerParticipant: 1,
    });
    expect(await t.db.knex('incentive_types').where({ trial_id: res.body.id }).first('amount_minor')).toEqual({
      amount_minor: 5000,
    });
  });

  it('keeps decimal amounts exact in two- and three-decimal currencies', async () => {
    const trial = await createTrial(t, {
      incentives: [
        { code: 'a', description: 'x', amount: 0.3, currency: 'HKD', roles: ['service_user'], maxPerParticipant: 1 },
        { code: 'b', description: 'x', amount: 1.005, currency: 'KWD', roles: ['service_user'], maxPerParticipant: 1 },
      ],
    });
    expect(trial.incentives.map((i) => i.amount)).toEqual([0.3, 1.005]);
    const bad = await t.call('post', '/v1/trials', {
      body: smcmTrialInput({
        incentives: [
          {
            code: 'c',
            description: 'x',
            amount: 0.1 + 0.2,
            currency: 'HKD',
            roles: ['service_user'],
            maxPerParticipant: 1,
          },
        ],
      }),
    });
    expect(bad.status).toBe(422);
    expect(pointersOf(bad.body)).toEqual(['/incentives/0/amount']);
  });

  it('refuses incoherent configurations with the failing pointers, writing nothing', async () => {
    const before = await t.db.knex('trials').count<{ n: number }[]>('* as n').first();
    const res = await t.call('post', '/v1/trials', {
      body: smcmTrialInput({
        arms: [
          { code: 'SMCM', name: 'a', ratio: 2 },
          { code: 'SMCM', name: 'b', ratio: 1 },
        ],
        randomization: { method: 'permuted_block', blockSizes: [3, 4], stratifyBy: ['site', 'age'] },
        baselineVariables: [
          { name: 'sex', type: 'category' },
          { name: 'age', type: 'number', min: 50, max: 18 },
        ],
      }),
    });
    expect(res.status).toBe(422);
    expect(pointersOf(res.body).sort()).toEqual(
      [
        '/arms/1/code',
        '/baselineVariables/0/levels',
        '/baselineVariables/1/max',
        '/randomization/blockSizes/1',
        '/randomization/stratifyBy/1',
      ].sort(),
    );
    expect(await t.db.knex('trials').count<{ n: number }[]>('* as n').first()).toEqual(before);
  });

  it('refuses an unknown randomization method and a ratio of zero at the schema', async () => {
    const res = await t.call('post', '/v1/trials', {
      body: {
        ...smcmTrialInput(),
        randomization: { method: 'coin_toss' },
        arms: [
          { code: 'A', name: 'A', ratio: 0 },
          { code: 'B', name: 'B', ratio: 1 },
        ],
      },
    });
    expect(res.status).toBe(422);
    expect(pointersOf(res.body)).toEqual(expect.arrayContaining(['/randomization/method', '/arms/0/ratio']));
  });

  it('answers 409 to a second trial with the same code', async () => {
    const input = smcmTrialInput();
    expect((await t.call('post', '/v1/trials', { body: input })).status).toBe(201);
    const again = await t.call('post', '/v1/trials', { body: input });
    expect(again.status).toBe(409);
    expect(again.body.type).toBe('https://trialdesk.dev/problems/duplicate-trial-code');
  });

  it('lets every role read, and lists trials in pages filtered by status', async () => {
    const trial = await createTrial(t);
    for (const role of ['coordinator', 'statistician', 'monitor'] as const) {
      const { key } = await t.createKey(role);
      expect((await t.call('get', `/v1/trials/${trial.id}`, { key })).status).toBe(200);
    }
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { id: string; status: string }[]; nextCursor: string | null } } = await t.call(
        'get',
        `/v1/trials?limit=2&status=setup${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.body.items.every((item) => item.status === 'setup')).toBe(true);
      ids.push(...page.body.items.map((item) => item.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(ids).toContain(trial.id);
    expect(new Set(ids).size).toBe(ids.length);
    const setupCount = await t.db.knex('trials').where({ status: 'setup' }).count<{ n: number }[]>('* as n').first();
    expect(ids.length).toBe(setupCount!.n);
  });
});

describe('changing a trial in set-up', () => {
  it('replaces the given fields, bumps the version and honours If-Match', async () => {
    const trial = await createTrial(t);
    const patched = await t.call('patch', `/v1/trials/${trial.id}`, {
      body: {
        title: 'Renamed',
        arms: [
          { code: 'SMCM', name: 'SMCM', ratio: 2 },
          { code: 'TAU', name: 'TAU', ratio: 1 },
        ],
        randomization: { method: 'permuted_block', blockSizes: [3, 6] },
      },
      headers: { 'If-Match': '"1"' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ title: 'Renamed', version: 2, eligibility: trial.eligibility });
    expect(patched.body.arms.map((a: { ratio: number }) => a.ratio)).toEqual([2, 1]);
    expect(patched.headers.etag).toBe('"2"');

    const stale = await t.call('patch', `/v1/trials/${trial.id}`, {
      body: { title: 'Lost update' },
      headers: { 'If-Match': '"1"' },
    });
    expect(stale.status).toBe(412);
    expect((await t.call('get', `/v1/trials/${trial.id}`)).body.title).toBe('Renamed');
  });

  it('checks the merged configuration: ratios changed alone must still divide the block sizes', async () => {
    const trial = await createTrial(t);
    const res = await t.call('patch', `/v1/trials/${trial.id}`, {
      body: {
        arms: [
          { code: 'A', name: 'A', ratio: 2 },
          { code: 'B', name: 'B', ratio: 1 },
        ],
      },
    });
    expect(res.status).toBe(422);
    expect(pointersOf(res.body)).toEqual(['/randomization/blockSizes/0', '/randomization/blockSizes/1']); // 2 and 4 are not multiples of 3
  });

  it('refuses an empty patch and unknown fields', async () => {
    const trial = await createTrial(t);
    expect((await t.call('patch', `/v1/trials/${trial.id}`, { body: {} })).status).toBe(422);
    const res = await t.call('patch', `/v1/trials/${trial.id}`, { body: { code: 'NEW' } });
    expect(res.status).toBe(422);
    expect(pointersOf(res.body)).toEqual(['/code']);
  });
});

describe('changing a list trial whose allocation table was uploaded', () => {
  it('keeps the table when arms and randomization stay, and discards it (audited) when they change', async () => {
    const trial = await createTrial(t, { randomization: { method: 'list' } });
    await addSites(t, trial.id, ['A']);
    const upload = await t.call('put', `/v1/trials/${trial.id}/allocation-table`, {
      body: { rows: ['SMCM', 'TAU', 'TAU'].map((arm) => ({ stratum: {}, arm })) },
    });
    expect(upload.status).toBe(200);
    const rows = async () =>
      (await t.db.knex('allocation_table_rows').where({ trial_id: trial.id }).count<{ n: number }[]>('* as n').first())!
        .n;
    expect(await rows()).toBe(3);

    const kept = await t.call('patch', `/v1/trials/${trial.id}`, { body: { title: 'Retitled', consentForms: [] } });
    expect(kept.status).toBe(200);
    expect(await rows()).toBe(3);

    const arms = [...trial.arms, { code: 'WAIT', name: 'Waiting list', ratio: 1 }];
    const changed = await t.call('patch', `/v1/trials/${trial.id}`, { body: { arms } });
    expect(changed.status).toBe(200);
    expect(await rows()).toBe(0);
    const audit = (await t.call('get', `/v1/trials/${trial.id}/audit?limit=50`)).body.items.filter(
      (e: { action: string }) => e.action === 'trial.updated',
    );
    expect(audit.at(-1).after.allocationTableDiscarded).toEqual({ rows: 3, because: 'arms or randomization changed' });
    expect(audit[0].after.allocationTableDiscarded).toBeUndefined();
  });
});

describe('sites and activation', () => {
  it('adds and lists sites; a duplicate code is a conflict', async () => {
    const trial = await createTrial(t);
    await addSites(t, trial.id, ['B', 'A']);
    const list = await t.call('get', `/v1/trials/${trial.id}/sites`);
    expect(list.body.items.map((s: { code: string }) => s.code)).toEqual(['A', 'B']);
    const dup = await t.call('post', `/v1/trials/${trial.id}/sites`, { body: { code: 'A', name: 'again' } });
    expect(dup.status).toBe(409);
    expect(dup.body.type).toBe('https://trialdesk.dev/problems/duplicate-site');
    expect(
      (
        await t.call('post', '/v1/trials/00000000-0000-4000-8000-000000000000/sites', {
          body: { code: 'A', name: 'x' },
        })
      ).status,
    ).toBe(404);
  });

  it('needs a site to activate, activates once, and locks the design afterwards', async () => {
    const trial = await createTrial(t);
    const noSites = await t.call('post', `/v1/trials/${trial.id}/activation`);
    expect(noSites.status).toBe(409);
    expect(noSites.body.type).toBe('https://trialdesk.dev/problems/trial-has-no-sites');

    await addSites(t, trial.id, ['A']);
    const active = await t.call('post', `/v1/trials/${trial.id}/activation`);
    expect(active.status).toBe(200);
    expect(active.body).toMatchObject({ status: 'active', activatedAt: expect.any(String) });

    const twice = await t.call('post', `/v1/trials/${trial.id}/activation`);
    expect(twice.status).toBe(409);
    const patch = await t.call('patch', `/v1/trials/${trial.id}`, {
      body: {
        arms: [
          { code: 'X', name: 'X', ratio: 1 },
          { code: 'Y', name: 'Y', ratio: 1 },
        ],
      },
    });
    expect(patch.status).toBe(409);
    expect(patch.body).toMatchObject({
      type: 'https://trialdesk.dev/problems/trial-not-in-setup',
      trialStatus: 'active',
    });
    const site = await t.call('post', `/v1/trials/${trial.id}/sites`, { body: { code: 'D', name: 'new centre' } });
    expect(site.status).toBe(409);
    expect(site.body.type).toBe('https://trialdesk.dev/problems/strata-locked');
    expect((await t.call('get', `/v1/trials/${trial.id}`)).body.arms.map((a: { code: string }) => a.code)).toEqual([
      'SMCM',
      'TAU',
    ]);
  });

  it('still takes new sites after activation when sites are not strata', async () => {
    const trial = await createActiveTrial(t, { randomization: { method: 'permuted_block', blockSizes: [4] } });
    expect(
      (await t.call('post', `/v1/trials/${trial.id}/sites`, { body: { code: 'D', name: 'new centre' } })).status,
    ).toBe(201);
  });

  it('serialises concurrent activations: exactly one wins', async () => {
    const trial = await createTrial(t);
    await addSites(t, trial.id, ['A']);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => t.call('post', `/v1/trials/${trial.id}/activation`)),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
    const audits = await t.db
      .knex('audit_events')
      .where({ trial_id: trial.id, action: 'trial.activated' })
      .count<{ n: number }[]>('* as n')
      .first();
    expect(audits!.n).toBe(1);
  });
});
