import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app';
import { createTrialdeskClient, TrialdeskClient } from '../../src/client';
import { DEFAULT_DATABASE_LIMITS } from '../../src/config';
import { createDb, migrateToLatest } from '../../src/db/database';
import { ensureBootstrapAdminKey } from '../../src/features/api-keys/api-keys.service';
import { addDays } from '../../src/features/follow-up/calendar';
import type { components } from '../../src/generated/openapi';
import { ELIGIBLE_ANSWERS, smcmDelivery, smcmFidelityScale, smcmTrialConfiguration } from '../smcm-trial';
import { randomizationSeed, SITES } from './trial';

/*
 * Delivery demo (issue #15): a small SMCM trial run on its own in-process service whose clock the demo moves, so
 * that sessions, supervision and reviews can be dated over a year. Fortnightly sessions with gaps, monthly group
 * and weekly individual supervision, one contaminated control contact, three fidelity reviews at centre A (the
 * second reproduces the paper's 36 of 45). Prints the dose and fidelity tables. Run: npx tsx scripts/demo/delivery.ts
 */

type DeliveryReport = components['schemas']['DeliveryReport'];
type FidelityReport = components['schemas']['FidelityReport'];

const RANDOMIZED_ON = '2018-03-05';
const PER_SITE = 6;
const SEED_SCORES = {
  caseload: 4,
  team_structure: 4,
  supervisor_ratio: 4,
  group_supervision: 5,
  field_mentoring: 4,
  tool_review: 3,
  strengths_assessment: 4,
  personal_recovery_plan: 4,
  community_contact: 4,
};

/** A deterministic number in [0, 1) for a key: the same demo every run. */
const draw = (key: string) => {
  let h = 2166136261;
  for (const c of key) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return h / 2 ** 32;
};

export interface DeliveryDemo {
  dose: DeliveryReport;
  fidelity: FidelityReport;
  deviations: number;
}

/**
 * Runs the delivery demo against a client, moving the service's clock with `setToday`. The database stamps the
 * moment of randomization with its own clock, so `backdate` moves the trial's randomizations to the demo's day
 * (as the API tests do); everything else goes through the API.
 */
export async function runDeliveryDemo(
  client: TrialdeskClient,
  setToday: (date: string) => void,
  backdate: (trialId: string, date: string) => Promise<void>,
): Promise<DeliveryDemo> {
  setToday('2018-03-01');
  const created = await client.post('/v1/trials', {
    body: {
      code: 'SMCM-DELIVERY-DEMO',
      ...smcmTrialConfiguration('SMCM delivery demo'),
      randomization: {
        method: 'permuted_block',
        blockSizes: [2],
        stratifyBy: ['site'],
        seed: randomizationSeed('2018'),
      },
      delivery: smcmDelivery(),
      fidelityScale: smcmFidelityScale(),
    },
  });
  const trialId = created.id;
  const path = { trialId };
  for (const site of SITES) await client.post('/v1/trials/{trialId}/sites', { params: { path }, body: { ...site } });
  await client.post('/v1/trials/{trialId}/activation', { params: { path } });

  const workers: Record<string, Record<string, string>> = {};
  for (const site of SITES) {
    workers[site.code] = {};
    for (const arm of ['SMCM', 'TAU']) {
      const worker = await client.post('/v1/trials/{trialId}/participants', {
        params: { path },
        body: {
          siteCode: site.code,
          role: 'case_worker',
          label: `CW-${site.code}-${arm}`,
          screenedOn: '2018-03-01',
          eligibility: {},
          baseline: { experienceYears: 5 },
        },
      });
      await client.post('/v1/trials/{trialId}/participants/{participantId}/assignment', {
        params: { path: { trialId, participantId: worker.id } },
        body: { arm, reason: 'centre roster' },
      });
      workers[site.code]![arm] = worker.id;
    }
  }

  setToday(RANDOMIZED_ON);
  const people: { id: string; label: string; site: string; arm: string }[] = [];
  for (const site of SITES) {
    for (let i = 1; i <= PER_SITE; i += 1) {
      const label = `SU-${site.code}${i}`;
      const p = await client.post('/v1/trials/{trialId}/participants', {
        params: { path },
        body: {
          siteCode: site.code,
          role: 'service_user',
          label,
          screenedOn: '2018-03-01',
          eligibility: { ...ELIGIBLE_ANSWERS },
          baseline: { age: 40 + i, sex: i % 2 ? 'female' : 'male', diagnosis: 'depression', onsetYears: 8 },
        },
      });
      const participant = { trialId, participantId: p.id };
      await client.post('/v1/trials/{trialId}/participants/{participantId}/consents', {
        params: { path: participant },
        body: {
          form: 'trial',
          version: '1.0',
          decision: 'granted',
          signedOn: '2018-03-02',
          obtainedBy: 'IW',
          method: 'written',
        },
      });
      const allocation = await client.post('/v1/trials/{trialId}/participants/{participantId}/randomization', {
        params: { path: participant },
      });
      people.push({ id: p.id, label, site: site.code, arm: allocation.arm });
    }
  }

  await backdate(trialId, RANDOMIZED_ON);
  setToday('2019-03-31');
  for (const person of people) {
    // Fortnightly over the 182-day period; each fortnight is missed with probability 0.3 (0.6 for one in six).
    const missRate = draw(`${person.label}:adherence`) < 1 / 6 ? 0.6 : 0.3;
    for (let day = 0; day < 182; day += 14) {
      if (draw(`${person.label}:${day}`) < missRate) continue;
      await client.post('/v1/trials/{trialId}/sessions', {
        params: { path },
        body: {
          participantId: person.id,
          caseWorkerId: workers[person.site]![person.arm]!,
          date: addDays(RANDOMIZED_ON, day + Math.floor(draw(`${person.label}:${day}:shift`) * 3)),
          durationMinutes: 25 + Math.floor(draw(`${person.label}:${day}:minutes`) * 16),
          mode: person.arm === 'TAU' && draw(`${person.label}:${day}:mode`) < 0.5 ? 'phone' : 'in_person',
          kind: person.arm === 'SMCM' ? 'smcm_session' : 'tau_contact',
          toolsUsed: person.arm === 'SMCM' ? ['strengths_assessment', 'personal_recovery_plan'] : [],
        },
      });
    }
  }
  const control = people.find((p) => p.arm === 'TAU')!;
  await client.post('/v1/trials/{trialId}/sessions', {
    params: { path },
    body: {
      participantId: control.id,
      caseWorkerId: workers[control.site]!.TAU!,
      date: addDays(RANDOMIZED_ON, 50),
      durationMinutes: 30,
      mode: 'in_person',
      kind: 'tau_contact',
      toolsUsed: ['strengths_assessment'],
      notes: 'worker borrowed the strengths assessment form',
    },
  });

  for (const site of SITES) {
    for (let month = 3; month <= 8; month += 1) {
      const first = `2018-${String(month).padStart(2, '0')}-0`;
      await client.post('/v1/trials/{trialId}/supervision', {
        params: { path },
        body: {
          date: `${first}2`,
          kind: 'group',
          siteCode: site.code,
          caseWorkerIds: Object.values(workers[site.code]!),
          supervisor: `Supervisor ${site.code}`,
          durationMinutes: 90,
        },
      });
      for (const week of [3, 4, 5, 6])
        await client.post('/v1/trials/{trialId}/supervision', {
          params: { path },
          body: {
            date: `${first}${week}`,
            kind: 'individual',
            siteCode: site.code,
            caseWorkerIds: [workers[site.code]!.SMCM!],
            supervisor: `Supervisor ${site.code}`,
            durationMinutes: 45,
          },
        });
    }
  }

  const reviews: [string, Record<string, number>][] = [
    ['2018-03-20', { ...SEED_SCORES, group_supervision: 3, tool_review: 2, community_contact: 3 }],
    ['2018-09-20', SEED_SCORES],
    ['2019-03-20', { ...SEED_SCORES, tool_review: 4, caseload: 5 }],
  ];
  for (const [reviewedOn, scores] of reviews)
    await client.post('/v1/trials/{trialId}/fidelity-reviews', {
      params: { path },
      body: {
        siteCode: 'A',
        reviewedOn,
        reviewers: ['external reviewer', 'SMCM supervisor'],
        sources: ['staff_interview', 'service_user_interview', 'observation', 'chart_review'],
        scores,
      },
    });

  const dose = await client.get('/v1/trials/{trialId}/delivery', { params: { path } });
  const fidelity = await client.get('/v1/trials/{trialId}/fidelity', { params: { path } });
  const deviations = await client.get('/v1/trials/{trialId}/deviations', { params: { path } });
  return { dose, fidelity, deviations: deviations.items.length };
}

const fmt = (value: number | null) => (value === null ? '—' : String(Number(value.toFixed(2))));

/** The dose table (per arm × site) and the fidelity table (per review). */
export function formatDeliveryDemo(demo: DeliveryDemo): string {
  const lines = [
    `Dose on ${demo.dose.today} (GET …/delivery): sessions and adherence per arm and centre, median [Q1, Q3]`,
    '  arm   site  n  sessions          minutes              adherence            reached minimum',
  ];
  for (const row of demo.dose.byArmAndSite) {
    const d = (x: typeof row.sessions) => `${fmt(x.median)} [${fmt(x.q1)}, ${fmt(x.q3)}]`.padEnd(20);
    lines.push(
      `  ${row.arm.padEnd(5)} ${row.siteCode.padEnd(5)} ${String(row.participants).padEnd(2)} ${d(row.sessions)} ${d(row.minutes)} ${d(row.adherence)} ${row.reachedMinimum}/${row.participants} (≥ ${row.minimumSessions})`,
    );
  }
  lines.push(`  derived and recorded protocol deviations: ${demo.deviations}`, '');
  lines.push(
    'Fidelity reviews (GET …/fidelity)',
    '  site  reviewed    total  areas (mean item score)          high  change',
  );
  for (const site of demo.fidelity.sites) {
    for (const r of site.reviews)
      lines.push(
        `  ${site.siteCode.padEnd(5)} ${r.reviewedOn}  ${`${r.total}/${r.maximum}`.padEnd(6)} ${r.areas
          .map((a) => `${a.area} ${fmt(a.mean)}`)
          .join(', ')
          .padEnd(
            32,
          )} ${r.highFidelity ? 'yes ' : 'no  '} ${r.changeFromPrevious === null ? '—' : r.changeFromPrevious}`,
      );
    lines.push(`  trend at ${site.siteCode}: ${site.trend ?? '—'}`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  let now = new Date('2018-03-01T12:00:00Z');
  const db = await createDb({ kind: 'embedded', dataDir: null, poolMax: 1, ...DEFAULT_DATABASE_LIMITS });
  await migrateToLatest(db.knex);
  const bootstrap = await ensureBootstrapAdminKey(db.knex, null);
  if (bootstrap.kind !== 'generated') throw new Error('the delivery demo expects an empty database');
  const app = createApp({ db, now: () => now });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  try {
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = createTrialdeskClient({ baseUrl, apiKey: bootstrap.key });
    const demo = await runDeliveryDemo(
      client,
      (date) => {
        now = new Date(`${date}T12:00:00Z`);
      },
      async (trialId, date) => {
        await db
          .knex('allocations')
          .where({ trial_id: trialId })
          .update({ randomized_at: `${date}T02:00:00Z` });
      },
    );
    process.stdout.write(`${formatDeliveryDemo(demo)}\n`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await db.close();
  }
}

if (require.main === module) void main();
