import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { ELIGIBLE_ANSWERS, smcmTrialConfiguration } from '../../../scripts/smcm-trial';
import { JObj, JVal, PoolName, Ref } from './fuzz-json';
import type { RunningServer, WireRequest } from './fuzz-http';
import { Hint, plausibleDate } from './fuzz-schema';

/*
 * The world the fuzzer attacks, built through the API before the first case: trials in every
 * status, sites, participants in every state (eligible, ineligible, consented, randomized, declined,
 * withdrawn, a case worker), events, incentives, keys of every role. Generated requests name its rows
 * through `Ref`s (pool + index), resolved when the case runs, so they hit real ids as often as random
 * ones. Successful fuzz requests add what they created to the pools; `replenish` puts back what the
 * fuzzer used up (an activated set-up trial, a randomized participant), between cases.
 */

export type AuthChoice =
  | 'admin'
  | 'scopedAdmin'
  | 'coordinator'
  | 'siteCoordinator'
  | 'statistician'
  | 'blindedStatistician'
  | 'monitor'
  | 'revoked'
  | 'harvested'
  | 'none'
  | `garbage:${number}`;

export const AUTH_CHOICES: { arbitrary: fc.Arbitrary<AuthChoice>; weight: number }[] = [
  { arbitrary: fc.constant('admin'), weight: 30 },
  {
    arbitrary: fc.constantFrom<AuthChoice>(
      'scopedAdmin',
      'coordinator',
      'siteCoordinator',
      'statistician',
      'blindedStatistician',
      'monitor',
      'harvested',
    ),
    weight: 7,
  },
  { arbitrary: fc.constantFrom<AuthChoice>('revoked', 'none'), weight: 1 },
  { arbitrary: fc.nat().map((n): AuthChoice => `garbage:${n}`), weight: 2 },
];

type ApiAnswer = { status: number; body: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Labels with twins under Unicode normalization (the pools hold their NFD, NFKC, ... forms). */
const SMCM_LABEL_TWINS = ['Zoë-Å', 'ｓｕ-0001', 'Ĳ-01'];

/** Variants of a label that NFC folds together, or that only look alike. */
function labelVariants(label: string): string[] {
  return [
    label,
    label.normalize('NFC'),
    label.normalize('NFD'),
    label.normalize('NFKD'),
    label.normalize('NFKC'),
    `\u202e${label}`,
    `${label}\u200b`,
    label.toLowerCase(),
    ` ${label}`,
  ];
}

export class World {
  readonly keys = new Map<Exclude<AuthChoice, `garbage:${number}` | 'none'>, string>();
  readonly pools: Record<PoolName, string[]> = {
    trialId: [],
    activeTrialId: [],
    participantId: [],
    consentId: [],
    eventId: [],
    incentiveId: [],
    keyId: [],
    siteCode: ['A', 'B', 'C'],
    label: [],
    armCode: ['SMCM', 'TAU'],
    formCode: ['trial', 'audio'],
    formVersion: ['1.0', '1.1', '2.0'],
    incentiveCode: ['interview_coupon'],
    reference: [],
    substudyCode: [],
    invitationId: [],
    interviewId: [],
  };
  /** Statuses of the trials, as the fuzzer last saw them. */
  readonly trialStatus = new Map<string, string>();
  /** Active trials with the SMCM configuration, where replenish can screen and consent people. */
  private readonly smcmTrials: string[] = [];
  /**
   * Rows by the row they belong to: a trial's participants, sites and labels; a participant's consents, events,
   * incentives.
   */
  private readonly children = new Map<string, Partial<Record<PoolName, string[]>>>();
  private labelCounter = 0;
  private codeCounter = 0;
  replenishments = 0;
  /** A success changed what the world offers (a trial activated or closed): replenish before the next case. */
  needsReplenishing = false;

  constructor(
    private readonly server: RunningServer,
    readonly adminKey: string,
    /** Derives the randomization seeds of the seeded trials. */
    private readonly fuzzSeed: number,
  ) {
    this.keys.set('admin', adminKey);
  }

  private register(pool: PoolName, value: string, parent?: string): void {
    if (!this.pools[pool].includes(value)) this.pools[pool].push(value);
    if (parent === undefined) return;
    const key = parent.toLowerCase();
    const own = this.children.get(key) ?? {};
    const list = (own[pool] ??= []);
    if (!list.includes(value)) list.push(value);
    this.children.set(key, own);
  }

  /** Resolves refs against the request's own trial and participant as they become known (left to right in the path). */
  resolver(): { resolve: (ref: Ref) => string; note(name: 'trialId' | 'participantId', value: string): void } {
    const scope: Partial<Record<'trialId' | 'participantId', string>> = {};
    const parentPool: Partial<Record<PoolName, 'trialId' | 'participantId'>> = {
      participantId: 'trialId',
      siteCode: 'trialId',
      label: 'trialId',
      consentId: 'participantId',
      eventId: 'participantId',
      incentiveId: 'participantId',
      substudyCode: 'trialId',
      invitationId: 'trialId',
      interviewId: 'trialId',
    };
    return {
      resolve: (ref) => {
        const parent = parentPool[ref.pool];
        const related =
          !ref.anywhere && parent && scope[parent]
            ? this.children.get(scope[parent]!.toLowerCase())?.[ref.pool]
            : undefined;
        const pool = related?.length ? related : this.pools[ref.pool];
        if (pool.length === 0) return '00000000-0000-4000-8000-000000000000';
        return pool[ref.index % pool.length]!;
      },
      note: (name, value) => {
        scope[name] = value;
      },
    };
  }

  authorization(choice: AuthChoice): string | undefined {
    if (choice === 'none') return undefined;
    if (choice.startsWith('garbage:')) {
      const n = Number(choice.slice('garbage:'.length));
      const admin = this.adminKey;
      const garbage = [
        'Bearer',
        'Bearer ',
        'Basic YWRtaW46YWRtaW4=',
        `bearer ${admin}`,
        `Bearer ${admin} extra`,
        `Bearer  ${admin}`,
        `Bearer ${admin.slice(0, -1)}${admin.endsWith('A') ? 'B' : 'A'}`,
        `Bearer ${admin.toUpperCase()}`,
        `Bearer ${'A'.repeat(600)}`,
        `Bearer ${'A'.repeat(16)}`,
        `Bearer td_${'0'.repeat(40)}`,
        `Bearer ${admin},Bearer ${admin}`,
        `Token ${admin}`,
        admin,
        `Bearer \u00e9${admin}`,
        `Bearer ${admin}\t`,
        `Bearer %00`,
        `Bearer ${'x'.repeat(8000)}`,
      ];
      return garbage[n % garbage.length];
    }
    const key = this.keys.get(choice as never) ?? this.adminKey;
    return `Bearer ${key}`;
  }

  private async api(method: string, path: string, body?: unknown, key = this.adminKey): Promise<ApiAnswer> {
    const request: WireRequest = {
      method,
      target: path,
      headers: [
        ['Authorization', `Bearer ${key}`],
        ...(body === undefined ? [] : ([['Content-Type', 'application/json']] as [string, string][])),
      ],
      body: body === undefined ? null : Buffer.from(JSON.stringify(body)),
      framing: 'content-length',
    };
    const res = await this.server.send(request);
    const text = res.body.toString('utf8');
    return {
      status: res.status,
      body: text && res.headers['content-type']?.includes('json') ? JSON.parse(text) : text,
    };
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers of every operation, probed loosely
  private async must(method: string, path: string, body?: unknown, key?: string): Promise<any> {
    const res = await this.api(method, path, body, key);
    if (res.status >= 300)
      throw new Error(
        `seeding the fuzz world: ${method} ${path} -> ${res.status} ${JSON.stringify(res.body).slice(0, 500)}`,
      );
    return res.body;
  }

  private nextCode(prefix: string): string {
    this.codeCounter += 1;
    return `FUZZ-${prefix}-${process.pid}-${this.codeCounter}`;
  }

  private nextLabel(prefix = 'SU'): string {
    this.labelCounter += 1;
    return `${prefix}-${String(this.labelCounter).padStart(4, '0')}`;
  }

  private async createTrial(
    prefix: string,
    overrides: Record<string, unknown> = {},
    sites = ['A', 'B', 'C'],
  ): Promise<string> {
    const trial = await this.must('POST', '/v1/trials', {
      code: this.nextCode(prefix),
      ...smcmTrialConfiguration(),
      ...overrides,
    });
    for (const code of sites) {
      await this.must('POST', `/v1/trials/${trial.id}/sites`, { code, name: `Centre ${code}` });
      this.register('siteCode', code, trial.id);
    }
    this.register('trialId', trial.id);
    this.trialStatus.set(trial.id, 'setup');
    return trial.id;
  }

  private async activate(trialId: string): Promise<void> {
    await this.must('POST', `/v1/trials/${trialId}/activation`);
    this.trialStatus.set(trialId, 'active');
  }

  /** An active trial with the SMCM configuration: screening, consent and randomization hints fit it. */
  private markSmcmActive(trialId: string): void {
    this.smcmTrials.push(trialId);
    this.register('activeTrialId', trialId);
  }

  private async screen(
    trialId: string,
    input: { siteCode?: string; role?: string; label?: string; eligibility?: object; baseline?: object } = {},
  ): Promise<string> {
    const role = input.role ?? 'service_user';
    const label = input.label ?? this.nextLabel(role === 'case_worker' ? 'CW' : 'SU');
    const participant = await this.must('POST', `/v1/trials/${trialId}/participants`, {
      siteCode: input.siteCode ?? 'A',
      role,
      label,
      screenedOn: '2018-03-01',
      eligibility: input.eligibility ?? (role === 'case_worker' ? {} : ELIGIBLE_ANSWERS),
      baseline:
        input.baseline ??
        (role === 'case_worker'
          ? { experienceYears: 4, profession: 'nurse' }
          : { age: 45, sex: 'female', diagnosis: 'depression', onsetYears: 11 }),
    });
    this.register('participantId', participant.id, trialId);
    for (const variant of labelVariants(label)) this.register('label', variant, trialId);
    return participant.id;
  }

  private async consent(trialId: string, participantId: string, decision = 'granted', form = 'trial'): Promise<string> {
    const consent = await this.must('POST', `/v1/trials/${trialId}/participants/${participantId}/consents`, {
      form,
      version: '1.0',
      decision,
      signedOn: '2018-03-02',
      obtainedBy: 'IW',
      method: 'written',
    });
    this.register('consentId', consent.id, participantId);
    return consent.id;
  }

  private async issue(trialId: string, participantId: string): Promise<string> {
    const reference = `CPN-${this.nextLabel('R')}`;
    const entry = await this.must('POST', `/v1/trials/${trialId}/participants/${participantId}/incentives`, {
      incentive: 'interview_coupon',
      issuedOn: '2018-04-01',
      reference,
    });
    this.register('incentiveId', entry.id, participantId);
    this.register('reference', reference);
    return entry.id;
  }

  private async createKey(name: string, body: Record<string, unknown>): Promise<{ id: string; key: string }> {
    const created = await this.must('POST', '/v1/api-keys', { name, ...body });
    return { id: created.id, key: created.key };
  }

  /** A fixed randomization seed per trial, so a fuzz seed allocates the same arms on every run. */
  private randomizationSeed(label: string): string {
    return createHash('sha256').update(`trialdesk-fuzz/${this.fuzzSeed}/${label}/${this.codeCounter}`).digest('hex');
  }

  /**
   * An active SMCM trial with a participant in every state: eligible, ineligible, consented, randomized, withdrawn,
   * declined, a case worker.
   */
  private async seedActiveTrial(prefix: string): Promise<string> {
    const active = await this.createTrial(prefix, {
      randomization: { ...smcmTrialConfiguration().randomization, seed: this.randomizationSeed(prefix) },
    });
    await this.activate(active);
    this.markSmcmActive(active);
    await this.screen(active); // eligible
    await this.screen(active, { siteCode: 'B', eligibility: { ...ELIGIBLE_ANSWERS, chinese: false } }); // ineligible
    const consented = await this.screen(active);
    await this.consent(active, consented);
    await this.consent(active, consented, 'granted', 'audio');
    const randomized = await this.screen(active);
    await this.consent(active, randomized);
    await this.must('POST', `/v1/trials/${active}/participants/${randomized}/randomization`);
    // Follow-up events are dated on or after the randomization, which happened today.
    const event = await this.must('POST', `/v1/trials/${active}/participants/${randomized}/events`, {
      type: 'follow_up_completed',
      occurredOn: today(),
    });
    this.register('eventId', event.id, randomized);
    const retracted = await this.must('POST', `/v1/trials/${active}/participants/${randomized}/events`, {
      type: 'lost_to_follow_up',
      occurredOn: today(),
    });
    this.register('eventId', retracted.id, randomized);
    await this.must('POST', `/v1/trials/${active}/participants/${randomized}/events/${retracted.id}/retraction`, {
      reason: 'recorded in error',
    });
    await this.issue(active, randomized);
    const withdrawn = await this.screen(active, {
      siteCode: 'C',
      baseline: { age: 60, sex: 'male', diagnosis: 'bipolar', onsetYears: 3 },
    });
    const withdrawnConsent = await this.consent(active, withdrawn);
    await this.must('POST', `/v1/trials/${active}/participants/${withdrawn}/randomization`);
    const voided = await this.issue(active, withdrawn);
    await this.must('POST', `/v1/trials/${active}/participants/${withdrawn}/incentives/${voided}/void`, {
      reason: 'issued twice',
    });
    await this.must('POST', `/v1/trials/${active}/participants/${withdrawn}/consents/${withdrawnConsent}/withdrawal`, {
      withdrawnOn: '2018-09-01',
      reason: 'moved away',
      scope: 'follow_up',
    });
    const declined = await this.screen(active);
    await this.consent(active, declined, 'declined');
    const caseWorker = await this.screen(active, { role: 'case_worker' });
    await this.must('POST', `/v1/trials/${active}/participants/${caseWorker}/assignment`, {
      arm: 'SMCM',
      reason: 'delivers the intervention',
    });
    for (const label of SMCM_LABEL_TWINS) await this.screen(active, { label: label.normalize('NFC') });
    await this.seedSubstudy(active, randomized, caseWorker);
    return active;
  }

  /**
   * A sub-study whose path ids the fuzzer can hit: an invitation the randomized participant accepted and an
   * interview of them, and an invitation of the case worker awaiting an answer.
   */
  private async seedSubstudy(trialId: string, serviceUser: string, caseWorker: string): Promise<void> {
    const code = `pe-${this.nextLabel('S').toLowerCase()}`;
    const path = `/v1/trials/${trialId}/substudies/${code}`;
    await this.must('POST', `/v1/trials/${trialId}/substudies`, {
      code,
      title: 'Fuzz process evaluation',
      incentive: 'interview_coupon',
      quotas: ['A', 'B', 'C'].flatMap((siteCode) =>
        ['SMCM', 'TAU'].flatMap((arm) =>
          ['service_user', 'case_worker'].map((role) => ({ siteCode, arm, role, target: 5 })),
        ),
      ),
    });
    this.register('substudyCode', code, trialId);
    const invite = async (participantId: string) => {
      const invitation = await this.must('POST', `${path}/invitations`, {
        participantId,
        invitedOn: today(),
        invitedBy: 'ST',
      });
      this.register('invitationId', invitation.id, trialId);
      return invitation.id as string;
    };
    const accepted = await invite(serviceUser);
    await this.must('POST', `${path}/invitations/${accepted}/answer`, { answer: 'accepted', answeredOn: today() });
    const interview = await this.must('POST', `${path}/interviews`, {
      participantId: serviceUser,
      conductedOn: today(),
      interviewer: 'ST',
      durationMinutes: 45,
      location: 'the centre',
      audioRecorded: false,
    });
    this.register('interviewId', interview.id, trialId);
    await invite(caseWorker);
  }

  /** Builds the world. Every call goes through the API, so the seeding is itself a smoke test. */
  async seed(): Promise<void> {
    const active = await this.seedActiveTrial('ACTIVE');

    await this.createTrial('SETUP', {}, ['A']);
    const list = await this.createTrial('LIST', { randomization: { method: 'list', stratifyBy: ['site'] } }, [
      'A',
      'B',
    ]);
    await this.must('PUT', `/v1/trials/${list}/allocation-table`, {
      rows: ['A', 'B'].flatMap((site) => ['SMCM', 'TAU', 'TAU', 'SMCM'].map((arm) => ({ stratum: { site }, arm }))),
    });
    const minimization = await this.createTrial(
      'MINIM',
      { randomization: { method: 'minimization', factors: ['site', 'sex'], seed: this.randomizationSeed('MINIM') } },
      ['A', 'B'],
    );
    await this.activate(minimization);
    this.markSmcmActive(minimization);
    const minimParticipant = await this.screen(minimization);
    await this.consent(minimization, minimParticipant);
    await this.must('POST', `/v1/trials/${minimization}/participants/${minimParticipant}/randomization`);
    await this.consent(minimization, await this.screen(minimization, { siteCode: 'B' }));
    const closed = await this.createTrial(
      'CLOSED',
      { randomization: { method: 'simple', seed: this.randomizationSeed('CLOSED') } },
      ['A'],
    );
    await this.activate(closed);
    const closedParticipant = await this.screen(closed);
    await this.consent(closed, closedParticipant);
    await this.must('POST', `/v1/trials/${closed}/participants/${closedParticipant}/randomization`);
    await this.must('POST', `/v1/trials/${closed}/closure`, { reason: 'fuzz world: a closed trial' });
    this.trialStatus.set(closed, 'closed');

    // Keys of every role; only the sacrificial ones are offered to revokeApiKey.
    const scoped = { trialIds: [active] };
    this.keys.set('scopedAdmin', (await this.createKey('fuzz scoped admin', { role: 'admin', ...scoped })).key);
    this.keys.set('coordinator', (await this.createKey('fuzz coordinator', { role: 'coordinator' })).key);
    this.keys.set(
      'siteCoordinator',
      (await this.createKey('fuzz site coordinator', { role: 'coordinator', trialIds: [active], siteCodes: ['A'] }))
        .key,
    );
    this.keys.set('statistician', (await this.createKey('fuzz statistician', { role: 'statistician' })).key);
    this.keys.set(
      'blindedStatistician',
      (await this.createKey('fuzz blinded statistician', { role: 'statistician', blinded: true })).key,
    );
    this.keys.set('monitor', (await this.createKey('fuzz monitor', { role: 'monitor', ...scoped })).key);
    this.keys.set('harvested', (await this.createKey('fuzz blinded monitor', { role: 'monitor', blinded: true })).key);
    const revoked = await this.createKey('fuzz revoked', { role: 'admin' });
    await this.must('DELETE', `/v1/api-keys/${revoked.id}`);
    this.keys.set('revoked', revoked.key);
    this.register('keyId', revoked.id);
    for (let i = 0; i < 3; i += 1)
      this.register('keyId', (await this.createKey(`fuzz sacrificial ${i}`, { role: 'monitor' })).id);
  }

  /** Records what a successful fuzz request created or changed; the ids are those of the request's path. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers of every operation, probed loosely
  harvest(operationId: string, status: number, body: any, path: { trialId?: string; participantId?: string }): void {
    if (status < 200 || status >= 300 || typeof body !== 'object' || body === null) return;
    const id = typeof body.id === 'string' ? body.id : undefined;
    const { trialId, participantId } = path;
    switch (operationId) {
      case 'createTrial':
        if (id) {
          this.register('trialId', id);
          this.trialStatus.set(id, body.status);
        }
        break;
      case 'activateTrial':
        if (id) this.trialStatus.set(id, body.status);
        this.needsReplenishing = true;
        break;
      case 'closeTrial':
        if (id) {
          this.trialStatus.set(id, body.status);
          // Refs favour the first rows of a pool (fast-check biases toward small indexes): a closed
          // trial moves to the end, and leaves the pool of active ones.
          for (const pool of [this.pools.trialId, this.pools.activeTrialId]) {
            if (pool.includes(id)) pool.splice(pool.indexOf(id), 1);
          }
          this.pools.trialId.push(id);
          this.needsReplenishing = true;
        }
        break;
      case 'screenParticipant':
        if (id) this.register('participantId', id, trialId);
        if (typeof body.label === 'string') this.register('label', body.label, trialId);
        break;
      case 'recordConsent':
        if (id) this.register('consentId', id, participantId);
        break;
      case 'recordEvent':
        if (id) this.register('eventId', id, participantId);
        break;
      case 'issueIncentive':
        if (id) this.register('incentiveId', id, participantId);
        if (typeof body.reference === 'string') this.register('reference', body.reference);
        break;
      case 'createApiKey':
        if (id) this.register('keyId', id);
        if (typeof body.key === 'string') this.keys.set('harvested', body.key);
        break;
      case 'createSubstudy':
        if (typeof body.code === 'string') this.register('substudyCode', body.code, trialId);
        break;
      case 'inviteToSubstudy':
        if (id) this.register('invitationId', id, trialId);
        break;
      case 'recordInterview':
        if (id) this.register('interviewId', id, trialId);
        break;
      case 'createSite':
        if (typeof body.code === 'string') this.register('siteCode', body.code, trialId);
        break;
    }
  }

  /**
   * Between cases: a trial in set-up and an active SMCM trial exist (the fuzzer may have activated or
   * closed them), and there are fresh eligible and consented people to randomize.
   */
  async replenish(): Promise<void> {
    this.replenishments += 1;
    this.needsReplenishing = false;
    if (![...this.trialStatus.values()].includes('setup')) await this.createTrial('SETUP', {}, ['A']);
    const active = this.smcmTrials.filter((id) => this.trialStatus.get(id) === 'active');
    if (active.length < 2) active.push(await this.seedActiveTrial(`ACTIVE-R${this.replenishments}`));
    const target = active.at(-1)!;
    await this.screen(target, { siteCode: 'B' });
    await this.consent(target, await this.screen(target, { siteCode: 'A' }));
  }
}

/*
 * Hints: which values of the world suit a property, by its name. The schema converter mixes them
 * with values built from the schema alone, so requests are often valid and reach the trial's rules.
 */

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** Today (UTC) or yesterday: event dates after a randomization made during the run. */
const recentDate: fc.Arbitrary<JVal> = fc
  .constantFrom(0, 1)
  .map((daysAgo) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10));

const ref = (pool: PoolName) => fc.nat().map((n) => new Ref(pool, n));

const eligibleAnswers: fc.Arbitrary<JVal> = fc
  .record({ flip: fc.option(fc.constantFrom(...Object.keys(ELIGIBLE_ANSWERS)), { nil: undefined }) })
  .map(
    ({ flip }) => new JObj(Object.entries(ELIGIBLE_ANSWERS).map(([k, v]): [string, JVal] => [k, k === flip ? !v : v])),
  );

const serviceUserBaseline: fc.Arbitrary<JVal> = fc
  .record({
    age: fc.integer({ min: 18, max: 90 }),
    sex: fc.constantFrom('female', 'male'),
    diagnosis: fc.constantFrom('schizophrenia', 'depression', 'bipolar', 'adjustment', 'anxiety', 'other'),
    onsetYears: fc.integer({ min: 0, max: 40 }),
  })
  .map((b) => new JObj(Object.entries(b)));

/** Parts of the SMCM configuration that hold together, for trials the fuzzer creates or patches. */
const smcm = smcmTrialConfiguration();
const toJVal = (value: unknown): JVal => {
  if (Array.isArray(value)) return value.map(toJVal);
  if (value !== null && typeof value === 'object')
    return new JObj(Object.entries(value).map(([k, v]): [string, JVal] => [k, toJVal(v)]));
  return value as JVal;
};
const coherentRandomization: JVal[] = [
  smcm.randomization,
  { method: 'simple' },
  { method: 'permuted_block', blockSizes: [2, 4] },
  { method: 'minimization', factors: ['site', 'sex'], p: 0.8 },
  { method: 'list', stratifyBy: ['site'] },
  { method: 'simple', seed: 'ab'.repeat(32) },
].map(toJVal);

export const worldHints: Hint = (name, schema) => {
  const type = schema.type;
  switch (name) {
    case 'arms':
      return fc.constant(toJVal(smcm.arms));
    case 'randomization':
      return fc.constantFrom(...coherentRandomization);
    case 'baselineVariables':
      return fc.constant(toJVal(smcm.baselineVariables));
    case 'consentForms':
      return fc.constant(toJVal(smcm.consentForms));
    case 'incentives':
      return fc.constant(toJVal(smcm.incentives));
    case 'siteCode':
      return ref('siteCode');
    case 'role':
      // Screening: the trial's criteria and baseline hints are those of service users.
      return Array.isArray(schema.enum) && schema.enum.includes('service_user')
        ? fc.constant('service_user')
        : undefined;
    case 'label':
      // Existing labels and their normalization twins (409 expected), or a new one.
      return fc.oneof(
        ref('label'),
        fc.uuid().map((u) => `FZ-${u.slice(0, 13)}`),
      );
    case 'form':
      return ref('formCode');
    case 'version':
      return type === 'string' ? ref('formVersion') : undefined;
    case 'incentive':
      return ref('incentiveCode');
    case 'arm':
      return ref('armCode');
    case 'reference':
      return fc.oneof(
        ref('reference'),
        fc.uuid().map((u) => `CPN-${u.slice(0, 8)}`),
      );
    case 'eligibility':
      return type === 'object' ? eligibleAnswers : type === 'array' ? fc.constant(toJVal(smcm.eligibility)) : undefined;
    case 'baseline':
      return serviceUserBaseline;
    case 'values':
      // BaselineUpdate.values is an object; a t-test group's values are numbers.
      return type === 'array'
        ? fc.array(fc.double({ min: -50, max: 50, noNaN: true, noDefaultInfinity: true }), {
            minLength: 2,
            maxLength: 30,
          })
        : serviceUserBaseline;
    case 'n':
      return fc.integer({ min: 2, max: 500 });
    case 'table':
      // A rectangular table with no empty row or column, small enough for Fisher's exact test to be quick.
      return fc.tuple(fc.integer({ min: 2, max: 3 }), fc.integer({ min: 2, max: 3 })).chain(([rows, cols]) =>
        fc.array(fc.array(fc.integer({ min: 1, max: 9 }), { minLength: cols, maxLength: cols }), {
          minLength: rows,
          maxLength: rows,
        }),
      );
    case 'currency':
      return fc.constantFrom('HKD', 'USD', 'JPY', 'BHD');
    case 'amount':
      return fc.integer({ min: 1, max: 500 });
    case 'screenedOn':
    case 'signedOn':
    case 'issuedOn':
      return plausibleDate;
    case 'withdrawnOn':
    case 'occurredOn':
      return fc.oneof(plausibleDate, recentDate);
    case 'participantId':
      return ref('participantId');
    case 'entityType':
      return fc.constantFrom('trial', 'participant', 'api_key', 'site', 'consent', 'allocation');
    case 'entityId':
      return fc.oneof(ref('trialId'), ref('participantId'));
    case 'trialIds':
      return ref('trialId').map((r) => [r]);
    case 'siteCodes':
      return ref('siteCode').map((r) => [r]);
    case 'stratifyBy':
      return fc.constantFrom<JVal>(['site'], ['site', 'sex'], []);
    case 'factors':
      return fc.constantFrom<JVal>(['site'], ['site', 'sex']);
    case 'stratum':
      return ref('siteCode').map((r) => new JObj([['site', r]]));
    default:
      return undefined;
  }
};
