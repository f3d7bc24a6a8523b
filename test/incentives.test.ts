import { caseWorkerInput, createActiveTrial, grantConsent, screen, serviceUserInput, Trial } from './support/factories';
import { startTestApp, TestApp } from './support/test-app';

let t: TestApp;
let trial: Trial;
beforeAll(async () => {
  t = await startTestApp();
  trial = await createActiveTrial(t, {
    incentives: [
      {
        code: 'interview_coupon',
        description: 'Supermarket coupon for the interview',
        amount: 50,
        currency: 'HKD',
        roles: ['service_user'],
        maxPerParticipant: 1,
        occasion: 'interview',
      },
      {
        code: 'travel_dime',
        description: 'Travel allowance',
        amount: 0.1,
        currency: 'HKD',
        roles: ['service_user'],
        maxPerParticipant: 3,
      },
      {
        code: 'kwd_fils',
        description: 'Three-decimal currency',
        amount: 0.125,
        currency: 'KWD',
        roles: ['service_user'],
        maxPerParticipant: 3,
      },
    ],
  });
});
afterAll(() => t.close());

const path = (participantId: string, suffix = '') =>
  `/v1/trials/${trial.id}/participants/${participantId}/incentives${suffix}`;
let serial = 0;
const coupon = (overrides: object = {}) => ({
  incentive: 'interview_coupon',
  issuedOn: '2019-07-23',
  reference: `coupon serial ${String(++serial).padStart(6, '0')}`,
  ...overrides,
});
const ledgerSize = async () => (await t.db.knex('incentive_ledger').count<{ n: number }[]>('* as n').first())!.n;

async function consented(site = 'A') {
  const p = await screen(t, trial.id, serviceUserInput({ siteCode: site }));
  await grantConsent(t, trial.id, p.id);
  return p;
}

describe('issuing incentives', () => {
  it('issues a coupon with the amount and currency of its type, shown on the participant', async () => {
    const p = await consented();
    const res = await t.call('post', path(p.id), { body: coupon({ note: 'after the interview' }) });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      participantId: p.id,
      siteCode: 'A',
      incentive: 'interview_coupon',
      kind: 'issue',
      amount: 50,
      currency: 'HKD',
      issuedOn: '2019-07-23',
      note: 'after the interview',
      voided: false,
      voids: null,
    });
    const view = await t.call('get', `/v1/trials/${trial.id}/participants/${p.id}`);
    expect(view.body.incentives).toEqual([res.body]);
    expect((await t.db.knex('incentive_ledger').where({ entry_id: res.body.id }).first()).amount_minor).toBe(5000);
  });

  it('replays the same Idempotency-Key with one ledger row, and 100 concurrent retries make one entry', async () => {
    const p = await consented();
    const body = coupon();
    const first = await t.call('post', path(p.id), { body, headers: { 'Idempotency-Key': 'coupon-1' } });
    const replay = await t.call('post', path(p.id), { body, headers: { 'Idempotency-Key': 'coupon-1' } });
    expect(replay.text).toBe(first.text);
    expect(
      await t.db.knex('incentive_ledger').where({ participant_id: p.id }).count<{ n: number }[]>('* as n').first(),
    ).toEqual({ n: 1 });

    const q = await consented();
    const storm = coupon();
    const results = await Promise.all(
      Array.from({ length: 100 }, () =>
        t.call('post', path(q.id), { body: storm, headers: { 'Idempotency-Key': 'storm' } }),
      ),
    );
    expect(
      results.every(
        (r) =>
          r.status === 201 ||
          (r.status === 409 && r.body.type === 'https://trialdesk.dev/problems/idempotency-key-in-use'),
      ),
    ).toBe(true);
    expect(new Set(results.filter((r) => r.status === 201).map((r) => r.text)).size).toBe(1);
    expect(
      await t.db.knex('incentive_ledger').where({ participant_id: q.id }).count<{ n: number }[]>('* as n').first(),
    ).toEqual({ n: 1 });
  });

  it('refuses, writing nothing: case workers, unknown types, future dates, over the limit, never consented, before screening, a reused reference', async () => {
    const cw = await screen(t, trial.id, caseWorkerInput());
    await grantConsent(t, trial.id, cw.id);
    const p = await consented();
    const first = await t.call('post', path(p.id), { body: coupon() });
    const unconsented = await screen(t, trial.id, serviceUserInput());
    const before = await ledgerSize();

    const caseWorker = await t.call('post', path(cw.id), { body: coupon() });
    expect([caseWorker.status, caseWorker.body.errors[0].pointer]).toEqual([422, '/incentive']);
    expect(caseWorker.body.errors[0].detail).toMatch(/service users, not case workers/);
    expect((await t.call('post', path(p.id), { body: coupon({ incentive: 'cinema' }) })).status).toBe(422);
    expect((await t.call('post', path(p.id), { body: coupon({ issuedOn: '2999-01-01' }) })).body.errors).toEqual([
      { pointer: '/issuedOn', detail: 'is in the future' },
    ]);
    const cases: [string, object, string][] = [
      [p.id, coupon(), 'incentive-limit-reached'],
      [unconsented.id, coupon(), 'participant-not-consented'],
      [p.id, coupon({ incentive: 'travel_dime', issuedOn: '2018-02-01' }), 'date-before-screening'],
      [p.id, coupon({ incentive: 'travel_dime', reference: first.body.reference }), 'duplicate-reference'],
    ];
    for (const [participantId, body, type] of cases) {
      const res = await t.call('post', path(participantId), { body });
      expect([res.status, res.body.type]).toEqual([409, `https://trialdesk.dev/problems/${type}`]);
    }
    expect(await ledgerSize()).toBe(before);
  });
});

describe('voiding', () => {
  it('adds a reversing entry, keeps the original marked void, frees the limit, and refuses a second void', async () => {
    const p = await consented();
    const issued = (await t.call('post', path(p.id), { body: coupon() })).body;
    const reversal = await t.call('post', path(p.id, `/${issued.id}/void`), {
      body: { reason: 'coupon lost in the post' },
    });
    expect(reversal.status).toBe(201);
    expect(reversal.body).toMatchObject({
      kind: 'void',
      amount: -50,
      currency: 'HKD',
      voids: issued.id,
      reason: 'coupon lost in the post',
      reference: null,
    });
    const entries = (await t.call('get', `/v1/trials/${trial.id}/participants/${p.id}`)).body.incentives;
    expect(entries.map((e: { kind: string; voided: boolean }) => [e.kind, e.voided])).toEqual([
      ['issue', true],
      ['void', false],
    ]);
    expect((await t.call('post', path(p.id, `/${issued.id}/void`), { body: { reason: 'again' } })).body.type).toBe(
      'https://trialdesk.dev/problems/incentive-already-voided',
    );
    expect((await t.call('post', path(p.id, `/${reversal.body.id}/void`), { body: { reason: 'x' } })).body.type).toBe(
      'https://trialdesk.dev/problems/not-an-issue',
    );
    expect((await t.call('post', path(p.id), { body: coupon() })).status).toBe(201);
  });

  it('keeps the ledger append-only in the database', async () => {
    await expect(t.db.knex('incentive_ledger').update({ amount_minor: 1 })).rejects.toThrow(/append-only/);
    await expect(t.db.knex('incentive_ledger').delete()).rejects.toThrow(/append-only/);
  });
});

describe('ledger and summary', () => {
  it('sums in minor units without float drift in HKD and a three-decimal currency', async () => {
    const local = await createActiveTrial(t, {
      incentives: [
        { code: 'dime', description: 'x', amount: 0.1, currency: 'HKD', roles: ['service_user'], maxPerParticipant: 5 },
        {
          code: 'fils',
          description: 'x',
          amount: 0.125,
          currency: 'KWD',
          roles: ['service_user'],
          maxPerParticipant: 5,
        },
      ],
    });
    const p = await screen(t, local.id, serviceUserInput());
    await grantConsent(t, local.id, p.id);
    for (const incentive of ['dime', 'dime', 'dime', 'fils', 'fils', 'fils']) {
      expect(
        (
          await t.call('post', `/v1/trials/${local.id}/participants/${p.id}/incentives`, {
            body: coupon({ incentive }),
          })
        ).status,
      ).toBe(201);
    }
    const summary = (await t.call('get', `/v1/trials/${local.id}/incentives/summary`)).body;
    expect(summary.byType).toEqual([
      {
        incentive: 'dime',
        currency: 'HKD',
        issuedCount: 3,
        issuedAmount: 0.3,
        voidedCount: 0,
        voidedAmount: 0,
        netCount: 3,
        netAmount: 0.3,
      },
      {
        incentive: 'fils',
        currency: 'KWD',
        issuedCount: 3,
        issuedAmount: 0.375,
        voidedCount: 0,
        voidedAmount: 0,
        netCount: 3,
        netAmount: 0.375,
      },
    ]);
    expect(0.1 + 0.1 + 0.1).not.toBe(0.3); // what a float sum would have shown
  });

  it('totals by type, site and arm, voids counted apart, with CSV, and filters the ledger', async () => {
    const local = await createActiveTrial(t);
    const a = await screen(t, local.id, serviceUserInput({ siteCode: 'A' }));
    const b = await screen(t, local.id, serviceUserInput({ siteCode: 'B' }));
    for (const p of [a, b]) {
      await grantConsent(t, local.id, p.id);
      await t.call('post', `/v1/trials/${local.id}/participants/${p.id}/randomization`);
    }
    const issueA = (
      await t.call('post', `/v1/trials/${local.id}/participants/${a.id}/incentives`, {
        body: coupon({ issuedOn: '2019-07-01' }),
      })
    ).body;
    await t.call('post', `/v1/trials/${local.id}/participants/${b.id}/incentives`, {
      body: coupon({ issuedOn: '2019-08-01' }),
    });
    await t.call('post', `/v1/trials/${local.id}/participants/${a.id}/incentives/${issueA.id}/void`, {
      body: { reason: 'double entry' },
    });

    const summary = (await t.call('get', `/v1/trials/${local.id}/incentives/summary`)).body;
    expect(summary.byType).toEqual([
      {
        incentive: 'interview_coupon',
        currency: 'HKD',
        issuedCount: 2,
        issuedAmount: 100,
        voidedCount: 1,
        voidedAmount: 50,
        netCount: 1,
        netAmount: 50,
      },
    ]);
    expect(summary.bySite.map((s: { siteCode: string; netCount: number }) => [s.siteCode, s.netCount])).toEqual([
      ['A', 0],
      ['B', 1],
    ]);
    const arms = (await t.call('get', `/v1/trials/${local.id}/participants/${a.id}`)).body.allocation.arm;
    expect(summary.byArm.reduce((n: number, s: { issuedCount: number }) => n + s.issuedCount, 0)).toBe(2);
    expect(summary.byArm.map((s: { arm: string }) => s.arm)).toContain(arms);

    const csv = await t.call('get', `/v1/trials/${local.id}/incentives/summary`, { headers: { Accept: 'text/csv' } });
    expect(csv.text.split('\r\n')[0]).toBe(
      'grouping,key,incentive,currency,issuedCount,issuedAmount,voidedCount,voidedAmount,netCount,netAmount',
    );
    expect(csv.text).toContain('type,,interview_coupon,HKD,2,100,1,50,1,50');

    const july = await t.call('get', `/v1/trials/${local.id}/incentives?from=2019-07-01&to=2019-07-31`);
    expect(july.body.items.map((e: { kind: string }) => e.kind)).toEqual(['issue', 'void']);
    expect((await t.call('get', `/v1/trials/${local.id}/incentives?participantId=${b.id}`)).body.items).toHaveLength(1);
    const ledgerCsv = await t.call('get', `/v1/trials/${local.id}/incentives`, { headers: { Accept: 'text/csv' } });
    expect(ledgerCsv.text.trim().split('\r\n')).toHaveLength(4);

    const coordinatorB = await t.createKey('coordinator', { trialIds: [local.id], siteCodes: ['B'] });
    const scoped = await t.call('get', `/v1/trials/${local.id}/incentives`, { key: coordinatorB.key });
    expect(scoped.body.items.every((e: { siteCode: string }) => e.siteCode === 'B')).toBe(true);
    expect(
      (await t.call('get', `/v1/trials/${local.id}/incentives/summary`, { key: coordinatorB.key })).body.byType[0]
        .issuedCount,
    ).toBe(1);
    expect(
      (
        await t.call('post', `/v1/trials/${local.id}/participants/${a.id}/incentives`, {
          key: coordinatorB.key,
          body: coupon(),
        })
      ).status,
    ).toBe(404);

    const blinded = await t.call('post', '/v1/api-keys', {
      body: { name: 'blinded', role: 'monitor', trialIds: [local.id], blinded: true },
    });
    for (const accept of ['application/json', 'text/csv']) {
      const res = await t.call('get', `/v1/trials/${local.id}/incentives/summary`, {
        key: blinded.body.key,
        headers: { Accept: accept },
      });
      expect(res.text).not.toMatch(/SMCM|TAU/);
    }
  });

  it('lets admins add incentive types later, with the same rules', async () => {
    const added = await t.call('post', `/v1/trials/${trial.id}/incentive-types`, {
      body: {
        code: 'follow_up_coupon',
        description: 'Coupon at 6 months',
        amount: 50,
        currency: 'HKD',
        roles: ['service_user'],
        maxPerParticipant: 1,
        occasion: 'follow_up_6m',
      },
    });
    expect(added.status).toBe(201);
    expect(
      (await t.call('get', `/v1/trials/${trial.id}`)).body.incentives.map((i: { code: string }) => i.code),
    ).toContain('follow_up_coupon');
    expect(
      (
        await t.call('post', `/v1/trials/${trial.id}/incentive-types`, {
          body: {
            code: 'follow_up_coupon',
            description: 'x',
            amount: 1,
            currency: 'HKD',
            roles: ['service_user'],
            maxPerParticipant: 1,
          },
        })
      ).status,
    ).toBe(409);
    const bad = await t.call('post', `/v1/trials/${trial.id}/incentive-types`, {
      body: {
        code: 'bad',
        description: 'x',
        amount: 1.005,
        currency: 'HKD',
        roles: ['service_user'],
        maxPerParticipant: 1,
      },
    });
    expect([bad.status, bad.body.errors[0].pointer]).toEqual([422, '/amount']);
    const { key } = await t.createKey('coordinator');
    expect(
      (
        await t.call('post', `/v1/trials/${trial.id}/incentive-types`, {
          key,
          body: {
            code: 'x',
            description: 'x',
            amount: 1,
            currency: 'HKD',
            roles: ['service_user'],
            maxPerParticipant: 1,
          },
        })
      ).status,
    ).toBe(403);
  });
});
