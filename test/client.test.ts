import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AuthProblem,
  ConflictProblem,
  createTrialdeskClient,
  isProblem,
  NotFoundProblem,
  TrialdeskClient,
  TrialdeskProblem,
  ValidationProblem,
} from '../src/client';
import { serviceUserInput, smcmTrialInput } from './support/factories';
import { startTestApp, TestApp } from './support/test-app';

let t: TestApp;
let server: Server;
let baseUrl: string;
let td: TrialdeskClient;

beforeAll(async () => {
  t = await startTestApp();
  server = t.app.listen(0);
  await new Promise((resolve) => server.once('listening', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  td = createTrialdeskClient({ baseUrl, apiKey: t.adminKey });
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await t.close();
});

/** Awaits a promise that must reject, and returns what it rejected with. */
async function rejection(pending: Promise<unknown>): Promise<unknown> {
  try {
    await pending;
  } catch (error) {
    return error;
  }
  throw new Error('expected the request to fail');
}

async function activeTrial() {
  const trial = await td.post('/v1/trials', { body: smcmTrialInput() });
  for (const code of ['A', 'B', 'C']) {
    await td.post('/v1/trials/{trialId}/sites', {
      params: { path: { trialId: trial.id } },
      body: { code, name: `ICCMW centre ${code}` },
    });
  }
  return td.post('/v1/trials/{trialId}/activation', { params: { path: { trialId: trial.id } } });
}

async function consentedServiceUser(trialId: string) {
  const participant = await td.post('/v1/trials/{trialId}/participants', {
    params: { path: { trialId } },
    body: serviceUserInput(),
  });
  await td.post('/v1/trials/{trialId}/participants/{participantId}/consents', {
    params: { path: { trialId, participantId: participant.id } },
    body: {
      form: 'trial',
      version: '1.0',
      decision: 'granted',
      signedOn: '2018-03-02',
      obtainedBy: 'IW',
      method: 'written',
    },
  });
  return participant;
}

describe('the typed client over HTTP', () => {
  it('runs the walkthrough: create, add sites, activate, screen, consent, randomize', async () => {
    const health = await td.get('/healthz');
    expect(health.status).toBe('ok');

    const created = await td.post('/v1/trials', { body: smcmTrialInput() });
    expect(created.status).toBe('setup');
    expect(created.arms.map((arm) => arm.code)).toEqual(['SMCM', 'TAU']);
    const trialId = created.id;

    for (const code of ['A', 'B', 'C']) {
      const site = await td.post('/v1/trials/{trialId}/sites', {
        params: { path: { trialId } },
        body: { code, name: `ICCMW centre ${code}` },
      });
      expect(site.code).toBe(code);
    }
    const active = await td.post('/v1/trials/{trialId}/activation', { params: { path: { trialId } } });
    expect(active.status).toBe('active');
    expect(active.sites.map((site) => site.code)).toEqual(['A', 'B', 'C']);

    const screened = await td.post('/v1/trials/{trialId}/participants', {
      params: { path: { trialId } },
      body: serviceUserInput({ siteCode: 'B' }),
    });
    expect(screened.status).toBe('eligible');
    expect(screened.allocation).toBeNull();

    const consent = await td.post('/v1/trials/{trialId}/participants/{participantId}/consents', {
      params: { path: { trialId, participantId: screened.id } },
      body: {
        form: 'trial',
        version: '1.0',
        decision: 'granted',
        signedOn: '2018-03-02',
        obtainedBy: 'IW',
        method: 'written',
      },
    });
    expect(consent.decision).toBe('granted');

    const allocation = await td.randomize(trialId, screened.id);
    expect(['SMCM', 'TAU']).toContain(allocation.arm);
    expect(allocation.participantId).toBe(screened.id);
    expect(allocation.stratum).toEqual({ site: 'B' });
    expect(allocation.error).toBeNull();

    const participant = await td.get('/v1/trials/{trialId}/participants/{participantId}', {
      params: { path: { trialId, participantId: screened.id } },
    });
    expect(participant.status).toBe('randomized');
    expect(participant.allocation?.allocationId).toBe(allocation.allocationId);
  });

  it('passes an Idempotency-Key through, so a resent randomization returns the first allocation', async () => {
    const trial = await activeTrial();
    const participant = await consentedServiceUser(trial.id);
    const first = await td.randomize(trial.id, participant.id, { idempotencyKey: 'client-test-1' });
    const again = await td.randomize(trial.id, participant.id, { idempotencyKey: 'client-test-1' });
    expect(again).toEqual(first);

    const viaParams = await td.post('/v1/trials/{trialId}/participants/{participantId}/randomization', {
      params: {
        path: { trialId: trial.id, participantId: participant.id },
        header: { 'Idempotency-Key': 'client-test-1' },
      },
    });
    expect(viaParams).toEqual(first);

    const withoutKey = await rejection(td.randomize(trial.id, participant.id));
    expect(withoutKey).toBeInstanceOf(ConflictProblem);
    expect((withoutKey as ConflictProblem).slug).toBe('already-randomized');
  });

  it('retries with a generated key and randomizes once', async () => {
    const trial = await activeTrial();
    const participant = await consentedServiceUser(trial.id);
    const allocation = await td.randomize(trial.id, participant.id, { retries: 2 });
    const allocations = await td.get('/v1/trials/{trialId}/allocations', { params: { path: { trialId: trial.id } } });
    expect(allocations.items.map((record) => record.participantId)).toEqual([allocation.participantId]);
  });

  it('throws a ValidationProblem with one pointer per failing field on 422', async () => {
    const trial = await activeTrial();
    const problem = await rejection(
      td.post('/v1/trials/{trialId}/participants', {
        params: { path: { trialId: trial.id } },
        body: {
          siteCode: 'B',
          role: 'service_user',
          label: 'SU-0044',
          screenedOn: '2018-03-01',
          eligibility: { age18: true },
        },
      }),
    );
    expect(problem).toBeInstanceOf(ValidationProblem);
    const validation = problem as ValidationProblem;
    expect(validation.status).toBe(422);
    expect(validation.type).toBe('https://trialdesk.dev/problems/validation-failed');
    expect(validation.slug).toBe('validation-failed');
    expect(validation.instance).toMatch(/^urn:trialdesk:request:/);
    expect(validation.requestId).toBeTruthy();
    expect(validation.errors.map((error) => error.pointer)).toEqual(
      expect.arrayContaining([
        '/eligibility/chinese',
        '/eligibility/cantonese',
        '/eligibility/written_consent',
        '/eligibility/immediate_risk',
        '/eligibility/overt_symptoms',
      ]),
    );
    expect(validation.detailFor('/eligibility/chinese')).toEqual(expect.any(String));
    expect(validation.message).toContain('422');
  });

  it('throws a ConflictProblem whose slug and extension members name the reason on 409', async () => {
    const trial = await activeTrial();
    const problem = await rejection(
      td.patch('/v1/trials/{trialId}', { params: { path: { trialId: trial.id } }, body: { title: 'too late' } }),
    );
    expect(problem).toBeInstanceOf(ConflictProblem);
    expect(problem).toBeInstanceOf(TrialdeskProblem);
    const conflict = problem as ConflictProblem;
    expect(conflict.status).toBe(409);
    expect(conflict.slug).toBe('trial-not-in-setup');
    expect(conflict.errors).toBeUndefined();
    expect(conflict.extensions).toEqual({ trialStatus: 'active' });
    expect(isProblem(problem, 409, 'trial-not-in-setup')).toBe(true);

    const eligibleOnly = await td.post('/v1/trials/{trialId}/participants', {
      params: { path: { trialId: trial.id } },
      body: serviceUserInput(),
    });
    const refused = await rejection(td.randomize(trial.id, eligibleOnly.id));
    expect(refused).toBeInstanceOf(ConflictProblem);
    expect((refused as ConflictProblem).slug).toBe('consent-missing');
  });

  it('throws an AuthProblem on 401 with a bad key, with the WWW-Authenticate header', async () => {
    const stranger = createTrialdeskClient({ baseUrl, apiKey: 'td_not-a-real-key-000000000000000000000000' });
    const problem = await rejection(stranger.get('/v1/trials'));
    expect(problem).toBeInstanceOf(AuthProblem);
    const auth = problem as AuthProblem;
    expect(auth.status).toBe(401);
    expect(auth.slug).toBe('unauthorized');
    expect(auth.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('throws an AuthProblem on 403 and a NotFoundProblem on 404', async () => {
    const monitor = await t.createKey('monitor');
    const asMonitor = createTrialdeskClient({ baseUrl, apiKey: monitor.key });
    const forbidden = await rejection(asMonitor.post('/v1/trials', { body: smcmTrialInput() }));
    expect(forbidden).toBeInstanceOf(AuthProblem);
    expect((forbidden as AuthProblem).status).toBe(403);

    const missing = await rejection(
      td.get('/v1/trials/{trialId}', { params: { path: { trialId: '00000000-0000-4000-8000-000000000000' } } }),
    );
    expect(missing).toBeInstanceOf(NotFoundProblem);
    expect((missing as NotFoundProblem).status).toBe(404);
  });

  it('keeps the raw openapi-fetch client for headers and non-throwing use', async () => {
    const { data, error, response } = await td.api.POST('/v1/trials', { body: smcmTrialInput() });
    expect(error).toBeUndefined();
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe(`/v1/trials/${data?.id}`);
  });
});
