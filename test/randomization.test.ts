import { permutedBlockSequence } from '../src/features/randomization/permuted-blocks';
import { stratumKey } from '../src/features/randomization/stratum-key';
import {
  addSites,
  createActiveTrial,
  createTrial,
  grantConsent,
  screen,
  serviceUserInput,
  Trial,
  TrialInput,
} from './support/factories';
import { verifyExport } from './support/randomization-cases';
import { startTestApp, TestApp } from './support/test-app';

const SEED = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

async function consentedServiceUser(trial: Trial, overrides: Parameters<typeof serviceUserInput>[0] = {}) {
  const p = await screen(t, trial.id, serviceUserInput(overrides));
  await grantConsent(t, trial.id, p.id);
  return p;
}

const randomize = (trialId: string, participantId: string, options: { key?: string; idempotencyKey?: string } = {}) =>
  t.call('post', `/v1/trials/${trialId}/participants/${participantId}/randomization`, {
    key: options.key,
    headers: options.idempotencyKey ? { 'Idempotency-Key': options.idempotencyKey } : {},
  });

/** Runs `count` tasks with at most `width` in flight. */
async function inParallel<T>(count: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

describe('randomizing one participant', () => {
  it('allocates an eligible consented service user, records it, and shows it', async () => {
    const trial = await createActiveTrial(t);
    expect(trial.allocationCommitment).toMatch(/^[0-9a-f]{64}$/);
    const p = await consentedServiceUser(trial);
    const res = await randomize(trial.id, p.id);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      allocationId: expect.any(String),
      participantId: p.id,
      arm: expect.stringMatching(/^(SMCM|TAU)$/),
      stratum: { site: 'A' },
      randomizedAt: expect.stringMatching(/Z$/),
      error: null,
    });
    const after = await t.call('get', `/v1/trials/${trial.id}/participants/${p.id}`);
    expect(after.body).toMatchObject({ status: 'randomized', allocation: res.body });
    const audit = await t.call('get', `/v1/trials/${trial.id}/audit?entityId=${p.id}`);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toContain('participant.randomized');
  });

  it('freezes baseline values once randomized: any change, even filling a gap, is an audited correction', async () => {
    const trial = await createActiveTrial(t);
    const p = await consentedServiceUser(trial, { baseline: { age: 50, sex: 'male' } });
    await randomize(trial.id, p.id);
    const gap = await t.call('put', `/v1/trials/${trial.id}/participants/${p.id}/baseline`, {
      body: { values: { age: 50, sex: 'male', onsetYears: 4 } },
    });
    expect([gap.status, gap.body.errors]).toEqual([
      422,
      [{ pointer: '/reason', detail: 'baseline values are frozen after randomization; a change needs a reason' }],
    ]);
    const corrected = await t.call('put', `/v1/trials/${trial.id}/participants/${p.id}/baseline`, {
      body: { values: { age: 50, sex: 'male', onsetYears: 4 }, reason: 'onset found in hospital records' },
    });
    expect(corrected.status).toBe(200);
    const audit = await t.call('get', `/v1/trials/${trial.id}/audit?entityId=${p.id}`);
    expect(audit.body.items.at(-1)).toMatchObject({
      action: 'participant.baseline_corrected',
      reason: 'onset found in hospital records',
      after: { baseline: { onsetYears: 4 } },
    });
  });

  it('refuses with a type per reason, writing nothing', async () => {
    const trial = await createActiveTrial(t);
    const ineligible = await screen(
      t,
      trial.id,
      serviceUserInput({
        eligibility: {
          age18: true,
          chinese: true,
          cantonese: true,
          written_consent: true,
          immediate_risk: true,
          overt_symptoms: false,
        },
      }),
    );
    const noConsent = await screen(t, trial.id, serviceUserInput());
    const audioOnly = await screen(t, trial.id, serviceUserInput());
    await grantConsent(t, trial.id, audioOnly.id, 'audio');
    const withdrawn = await consentedServiceUser(trial);
    const consent = (await t.call('get', `/v1/trials/${trial.id}/participants/${withdrawn.id}`)).body.consents[0];
    await t.call('post', `/v1/trials/${trial.id}/participants/${withdrawn.id}/consents/${consent.id}/withdrawal`, {
      body: { withdrawnOn: '2018-04-01', reason: 'x', scope: 'all' },
    });
    const caseWorker = await screen(t, trial.id, {
      siteCode: 'A',
      role: 'case_worker',
      label: `CW-R-${Date.now()}`,
      screenedOn: '2018-03-01',
      eligibility: {},
    });
    const done = await consentedServiceUser(trial);
    expect((await randomize(trial.id, done.id)).status).toBe(201);

    const before = await t.db
      .knex('allocations')
      .where({ trial_id: trial.id })
      .count<{ n: number }[]>('* as n')
      .first();
    const cases: [string, string][] = [
      [ineligible.id, 'not-eligible'],
      [caseWorker.id, 'not-eligible'],
      [noConsent.id, 'consent-missing'],
      [audioOnly.id, 'consent-missing'],
      [withdrawn.id, 'consent-withdrawn'],
      [done.id, 'already-randomized'],
    ];
    for (const [participantId, type] of cases) {
      const res = await randomize(trial.id, participantId);
      expect([res.status, res.body.type]).toEqual([409, `https://trialdesk.dev/problems/${type}`]);
    }
    expect(
      await t.db.knex('allocations').where({ trial_id: trial.id }).count<{ n: number }[]>('* as n').first(),
    ).toEqual(before);
  });

  it('requires re-consent to the current version of a required form', async () => {
    const trial = await createActiveTrial(t);
    const p = await consentedServiceUser(trial);
    await t.call('post', `/v1/trials/${trial.id}/consent-forms`, {
      body: { code: 'trial', version: '2.0', required: true },
    });
    const refused = await randomize(trial.id, p.id);
    expect(refused.body.type).toBe('https://trialdesk.dev/problems/consent-missing');
    await grantConsent(t, trial.id, p.id, 'trial', '2.0', '2018-05-01');
    expect((await randomize(trial.id, p.id)).status).toBe(201);
  });

  it('stops randomizing and screening once the trial is closed', async () => {
    const trial = await createActiveTrial(t);
    const p = await consentedServiceUser(trial);
    const closed = await t.call('post', `/v1/trials/${trial.id}/closure`, {
      body: { reason: 'recruitment target reached' },
    });
    expect(closed.body).toMatchObject({ status: 'closed', closedAt: expect.any(String) });
    expect((await randomize(trial.id, p.id)).body.type).toBe('https://trialdesk.dev/problems/trial-not-active');
    expect((await t.call('post', `/v1/trials/${trial.id}/participants`, { body: serviceUserInput() })).body.type).toBe(
      'https://trialdesk.dev/problems/trial-closed',
    );
    expect((await t.call('post', `/v1/trials/${trial.id}/closure`, { body: { reason: 'again' } })).status).toBe(409);
  });

  it('flags a randomization done in error without deleting it or reusing its slot', async () => {
    const trial = await createActiveTrial(t);
    const p = await consentedServiceUser(trial);
    const first = (await randomize(trial.id, p.id)).body;
    const flagged = await t.call('post', `/v1/trials/${trial.id}/participants/${p.id}/randomization/error`, {
      body: { reason: 'randomized the wrong person' },
    });
    expect(flagged.status).toBe(200);
    expect(flagged.body).toMatchObject({
      allocationId: first.allocationId,
      arm: first.arm,
      error: { reason: 'randomized the wrong person' },
    });
    expect(
      (
        await t.call('post', `/v1/trials/${trial.id}/participants/${p.id}/randomization/error`, {
          body: { reason: 'again' },
        })
      ).status,
    ).toBe(409);
    const next = await consentedServiceUser(trial);
    await randomize(trial.id, next.id);
    const list = await t.call('get', `/v1/trials/${trial.id}/allocations`);
    expect(
      list.body.items.map((a: { sequenceNumber: number; errorFlag: boolean }) => [a.sequenceNumber, a.errorFlag]),
    ).toEqual([
      [1, true],
      [2, false],
    ]);
    const { key } = await t.createKey('coordinator');
    expect(
      (
        await t.call('post', `/v1/trials/${trial.id}/participants/${p.id}/randomization/error`, {
          key,
          body: { reason: 'x' },
        })
      ).status,
    ).toBe(403);
  });
});

describe('idempotency', () => {
  it('replays the identical first response for the same key, once in the database', async () => {
    const trial = await createActiveTrial(t);
    const p = await consentedServiceUser(trial);
    const first = await randomize(trial.id, p.id, { idempotencyKey: 'retry-1' });
    const again = await randomize(trial.id, p.id, { idempotencyKey: 'retry-1' });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.text).toBe(first.text);
    expect(
      await t.db.knex('allocations').where({ trial_id: trial.id }).count<{ n: number }[]>('* as n').first(),
    ).toEqual({ n: 1 });
  });

  it('refuses the same key on another request with 422, and scopes keys to the API key', async () => {
    const trial = await createActiveTrial(t);
    const p = await consentedServiceUser(trial);
    const q = await consentedServiceUser(trial);
    await randomize(trial.id, p.id, { idempotencyKey: 'k' });
    const other = await randomize(trial.id, q.id, { idempotencyKey: 'k' });
    expect(other.status).toBe(422);
    expect(other.body.errors).toEqual([
      { pointer: '/header/idempotency-key', detail: 'was already used for a different request' },
    ]);
    const { key } = await t.createKey('coordinator');
    expect((await randomize(trial.id, q.id, { key, idempotencyKey: 'k' })).status).toBe(201);
  });

  it('gives one allocation for 100 concurrent retries of one request with one key', async () => {
    const trial = await createActiveTrial(t);
    const p = await consentedServiceUser(trial);
    const results = await Promise.all(
      Array.from({ length: 100 }, () => randomize(trial.id, p.id, { idempotencyKey: 'storm' })),
    );
    const created = results.filter((r) => r.status === 201);
    const inFlight = results.filter((r) => r.status === 409);
    expect(created.length + inFlight.length).toBe(100);
    expect(new Set(created.map((r) => r.text)).size).toBe(1);
    expect(inFlight.every((r) => r.body.type === 'https://trialdesk.dev/problems/idempotency-key-in-use')).toBe(true);
    expect(
      await t.db.knex('allocations').where({ trial_id: trial.id }).count<{ n: number }[]>('* as n').first(),
    ).toEqual({ n: 1 });
  });
});

describe('concurrency', () => {
  it('allocates the same participant once under 50 concurrent requests', async () => {
    const trial = await createActiveTrial(t);
    const p = await consentedServiceUser(trial);
    const results = await Promise.all(Array.from({ length: 50 }, () => randomize(trial.id, p.id)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(
      results
        .filter((r) => r.status === 409)
        .every((r) => r.body.type === 'https://trialdesk.dev/problems/already-randomized'),
    ).toBe(true);
    expect(statuses.filter((s) => s !== 201 && s !== 409)).toEqual([]);
  });

  it("fires randomizations concurrently across 6 strata: no duplicate slot, no double allocation, no gap, the generator's list in order", async () => {
    const total = t.db.kind === 'postgresql' ? 500 : 120;
    const trial = await createActiveTrial(t, {
      randomization: { method: 'permuted_block', blockSizes: [2, 4, 6], stratifyBy: ['site', 'sex'], seed: SEED },
    });
    const sites = ['A', 'B', 'C'];
    const sexes = ['female', 'male'];
    const people = await inParallel(total, 16, (i) =>
      consentedServiceUser(trial, {
        siteCode: sites[i % 3]!,
        baseline: { age: 30 + (i % 40), sex: sexes[Math.floor(i / 3) % 2]!, diagnosis: 'depression', onsetYears: 5 },
      }),
    );
    const started = Date.now();
    const results = await Promise.all(people.map((p) => randomize(trial.id, p.id)));
    const seconds = (Date.now() - started) / 1000;
    expect(results.filter((r) => r.status !== 201).map((r) => r.text)).toEqual([]);
    process.stdout.write(
      `  [${t.db.kind}] ${total} concurrent randomizations over 6 strata in ${seconds.toFixed(2)} s (${(total / seconds).toFixed(0)}/s)\n`,
    );

    const rows: { participant_id: string; stratum_key: string; sequence_number: number; arm_code: string }[] =
      await t.db.knex('allocations').where({ trial_id: trial.id }).orderBy(['stratum_key', 'sequence_number']);
    expect(rows).toHaveLength(total);
    expect(new Set(rows.map((r) => r.participant_id)).size).toBe(total);
    const byStratum = new Map<string, typeof rows>();
    for (const row of rows) byStratum.set(row.stratum_key, [...(byStratum.get(row.stratum_key) ?? []), row]);
    expect(byStratum.size).toBe(6);
    for (const [key, stratumRows] of byStratum) {
      expect(stratumRows.map((r) => r.sequence_number)).toEqual(stratumRows.map((_, i) => i + 1));
      const expected = permutedBlockSequence(
        Buffer.from(SEED, 'hex'),
        { arms: trial.arms, blockSizes: [2, 4, 6] },
        key,
        stratumRows.length,
      );
      expect(stratumRows.map((r) => r.arm_code)).toEqual(expected.map((slot) => slot.arm));
    }
    const audits = await t.db
      .knex('audit_events')
      .where({ trial_id: trial.id, action: 'participant.randomized' })
      .count<{ n: number }[]>('* as n')
      .first();
    expect(audits!.n).toBe(total);
    expect(stratumKey(['site', 'sex'], { site: 'A', sex: 'female' })).toBe('site=A|sex=female');
  }, 240_000); // correctness, not speed: 500 requests (120 on PGlite), 17–25 s alone, over 60 s beside another suite
});

describe('concealment, reveal and verification', () => {
  it('never shows the seed while the trial runs, reveals it after closure, and a real export verifies bit for bit', async () => {
    const trial = await createActiveTrial(t, {
      randomization: { method: 'permuted_block', blockSizes: [2, 4], stratifyBy: ['site'], seed: SEED },
    });
    for (let i = 0; i < 14; i++) {
      const p = await consentedServiceUser(trial, { siteCode: ['A', 'B'][i % 2]! });
      await randomize(trial.id, p.id);
    }
    const views = [
      await t.call('get', `/v1/trials/${trial.id}`),
      await t.call('get', `/v1/trials/${trial.id}/audit?limit=500`),
      await t.call('get', `/v1/trials/${trial.id}/allocations?limit=500`),
    ];
    for (const view of views) expect(view.text).not.toContain(SEED);
    expect(views[0]!.body.revealedSeed).toBeNull();
    expect(
      (await t.call('post', `/v1/trials/${trial.id}/seed-reveal`, { body: { reason: 'too early' } })).body.type,
    ).toBe('https://trialdesk.dev/problems/trial-not-closed');

    await t.call('post', `/v1/trials/${trial.id}/closure`, { body: { reason: 'recruitment complete' } });
    const reveal = await t.call('post', `/v1/trials/${trial.id}/seed-reveal`, { body: { reason: 'final analysis' } });
    expect(reveal.status).toBe(200);
    expect(reveal.body.seed).toBe(SEED);
    expect(reveal.body.allocationCommitment).toBe(trial.allocationCommitment);
    const closed = (await t.call('get', `/v1/trials/${trial.id}`)).body;
    expect(closed.revealedSeed).toBe(SEED);

    const csv = await t.call('get', `/v1/trials/${trial.id}/allocations`, { headers: { Accept: 'text/csv' } });
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.text.split('\r\n')[0]).toBe(
      'sequenceNumber,stratum,blockNumber,blockSize,positionInBlock,arm,participantId,randomizedAt,errorFlag,importId',
    );
    const ok = verifyExport(closed, SEED, csv.text, closed.allocationCommitment);
    expect(ok).toMatchObject({ status: 0 });
    expect(ok.output).toMatch(/14/);

    const tampered = csv.text.replace(/,(SMCM|TAU),/, (_m, arm) => `,${arm === 'SMCM' ? 'TAU' : 'SMCM'},`);
    expect(verifyExport(closed, SEED, tampered).status).toBe(1);
    expect(verifyExport(closed, SEED, csv.text, 'f'.repeat(64)).status).toBe(1);
  });

  it('verifies simple randomization and minimization exports too', async () => {
    const designs: TrialInput['randomization'][] = [
      { method: 'simple', stratifyBy: ['site'], seed: SEED },
      { method: 'minimization', factors: ['site', 'sex'], p: 0.8, seed: SEED },
    ];
    for (const randomization of designs) {
      const trial = await createActiveTrial(t, { randomization });
      for (let i = 0; i < 12; i++) {
        const p = await consentedServiceUser(trial, {
          siteCode: ['A', 'B', 'C'][i % 3]!,
          baseline: { age: 40, sex: i % 2 ? 'male' : 'female', diagnosis: 'depression', onsetYears: 3 },
        });
        expect((await randomize(trial.id, p.id)).status).toBe(201);
      }
      const csv = await t.call('get', `/v1/trials/${trial.id}/allocations`, { headers: { Accept: 'text/csv' } });
      const result = verifyExport(trial, SEED, csv.text, trial.allocationCommitment!);
      expect({ method: randomization.method, ...result }).toMatchObject({ method: randomization.method, status: 0 });
    }
  });
});

describe('allocation lists', () => {
  it('uses uploaded rows in order within their stratum and refuses when a stratum runs out', async () => {
    const trial = await createTrial(t, { randomization: { method: 'list', stratifyBy: ['site'] } });
    await addSites(t, trial.id, ['A', 'B']);
    const noTable = await t.call('post', `/v1/trials/${trial.id}/activation`);
    expect(noTable.body.type).toBe('https://trialdesk.dev/problems/allocation-table-missing');
    const bad = await t.call('put', `/v1/trials/${trial.id}/allocation-table`, {
      body: {
        rows: [
          { stratum: { site: 'Q' }, arm: 'SMCM' },
          { stratum: {}, arm: 'XYZ' },
        ],
      },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual([
      '/rows/0/stratum/site',
      '/rows/1/arm',
      '/rows/1/stratum',
    ]);

    const csv = 'arm,site\r\nTAU,A\r\nSMCM,B\r\nSMCM,A\r\n';
    const uploaded = await t.call('put', `/v1/trials/${trial.id}/allocation-table`, {
      raw: { contentType: 'text/csv', data: csv },
    });
    expect(uploaded.body).toEqual({
      rows: 3,
      strata: [
        { stratum: { site: 'A' }, rows: 2 },
        { stratum: { site: 'B' }, rows: 1 },
      ],
    });
    expect((await t.call('post', `/v1/trials/${trial.id}/activation`)).status).toBe(200);
    expect(
      (
        await t.call('put', `/v1/trials/${trial.id}/allocation-table`, {
          body: { rows: [{ stratum: { site: 'A' }, arm: 'TAU' }] },
        })
      ).status,
    ).toBe(409);

    const active = (await t.call('get', `/v1/trials/${trial.id}`)).body as Trial;
    const arms = [];
    for (const site of ['A', 'A', 'B'])
      arms.push((await randomize(trial.id, (await consentedServiceUser(active, { siteCode: site })).id)).body.arm);
    expect(arms).toEqual(['TAU', 'SMCM', 'SMCM']);
    const exhausted = await randomize(trial.id, (await consentedServiceUser(active, { siteCode: 'B' })).id);
    expect([exhausted.status, exhausted.body.type, exhausted.body.stratum]).toEqual([
      409,
      'https://trialdesk.dev/problems/list-exhausted',
      { site: 'B' },
    ]);
  });

  it('refuses tables for trials that do not use the list method', async () => {
    const trial = await createTrial(t);
    expect(
      (
        await t.call('put', `/v1/trials/${trial.id}/allocation-table`, {
          body: { rows: [{ stratum: {}, arm: 'TAU' }] },
        })
      ).body.type,
    ).toBe('https://trialdesk.dev/problems/not-a-list-trial');
  });
});

describe('blinded keys', () => {
  it('never see a real arm: trial, participant, audit; and may not read the allocation list', async () => {
    const trial = await createActiveTrial(t);
    const p = await consentedServiceUser(trial);
    const allocation = (await randomize(trial.id, p.id)).body;
    const blindStat = await t.createKey('statistician', { trialIds: [trial.id] });
    await t.db.knex('api_keys').where({ id: blindStat.id }).update({ blinded: true });
    const created = await t.call('post', '/v1/api-keys', {
      body: { name: 'outcome assessor', role: 'monitor', trialIds: [trial.id], blinded: true },
    });
    expect(created.body.blinded).toBe(true);
    const monitor = created.body.key;

    const bodies = [
      await t.call('get', `/v1/trials/${trial.id}`, { key: blindStat.key }),
      await t.call('get', `/v1/trials`, { key: blindStat.key }),
      await t.call('get', `/v1/trials/${trial.id}/participants/${p.id}`, { key: blindStat.key }),
      await t.call('get', `/v1/trials/${trial.id}/audit?limit=500`, { key: monitor }),
    ];
    for (const res of bodies) {
      expect(res.status).toBe(200);
      // Arm codes and names never appear as values; free text an admin wrote (the trial title) is shown as written.
      for (const arm of trial.arms) {
        expect(res.text).not.toContain(`"${arm.code}"`);
        expect(res.text).not.toContain(`"${arm.name}"`);
      }
    }
    const label = bodies[2]!.body.allocation.arm;
    expect(label).toMatch(/^Group [12]$/);
    expect(bodies[0]!.body.arms.map((a: { code: string }) => a.code)).toEqual(['Group 1', 'Group 2']);
    // The mapping is the same on every call and matches the unblinded truth consistently.
    const again = await t.call('get', `/v1/trials/${trial.id}/participants/${p.id}`, { key: blindStat.key });
    expect(again.body.allocation.arm).toBe(label);
    expect(allocation.arm).toMatch(/^(SMCM|TAU)$/);

    expect((await t.call('get', `/v1/trials/${trial.id}/allocations`, { key: blindStat.key })).status).toBe(403);
    expect((await t.call('post', '/v1/api-keys', { body: { name: 'x', role: 'admin', blinded: true } })).status).toBe(
      422,
    );
  });
});
