import { smcmDelivery } from '../../../scripts/smcm-trial';
import { sessionFlags, SessionFacts, unknownCodes } from './session-rules';

const delivery = smcmDelivery();
const smcm = (overrides: Partial<SessionFacts> = {}): SessionFacts => ({
  arm: 'SMCM',
  workerArm: 'SMCM',
  randomizedOn: '2018-01-01',
  kind: 'smcm_session',
  toolsUsed: ['strengths_assessment', 'personal_recovery_plan'],
  date: '2018-01-15',
  ...overrides,
});
const tau = (overrides: Partial<SessionFacts> = {}) =>
  smcm({ arm: 'TAU', workerArm: 'TAU', kind: 'tau_contact', toolsUsed: [], ...overrides });

describe('sessionFlags', () => {
  it('flags nothing for sessions as planned in either arm', () => {
    expect(sessionFlags(delivery, smcm())).toEqual([]);
    expect(sessionFlags(delivery, smcm({ toolsUsed: [] }))).toEqual([]);
    expect(sessionFlags(delivery, tau())).toEqual([]);
  });

  it('flags a worker assigned to the other arm, either way', () => {
    expect(sessionFlags(delivery, smcm({ workerArm: 'TAU' }))).toEqual(['worker_other_arm']);
    expect(sessionFlags(delivery, tau({ workerArm: 'SMCM' }))).toEqual(['worker_other_arm']);
  });

  it('flags a control contact with SMCM tools, one tool is enough', () => {
    expect(sessionFlags(delivery, tau({ toolsUsed: ['personal_recovery_plan'] }))).toEqual(['tools_not_in_arm']);
    expect(sessionFlags(delivery, tau({ toolsUsed: ['strengths_assessment', 'personal_recovery_plan'] }))).toEqual([
      'tools_not_in_arm',
    ]);
  });

  it('flags a session kind of the other arm', () => {
    expect(sessionFlags(delivery, tau({ kind: 'smcm_session' }))).toEqual(['kind_not_in_arm']);
    expect(sessionFlags(delivery, smcm({ kind: 'tau_contact' }))).toEqual(['kind_not_in_arm']);
  });

  it('flags sessions from day 182 (the period is days 0 to 181)', () => {
    expect(sessionFlags(delivery, smcm({ date: '2018-07-01' }))).toEqual([]);
    expect(sessionFlags(delivery, smcm({ date: '2018-07-02' }))).toEqual(['after_intervention_period']);
  });

  it('lists every flag that applies, in a fixed order', () => {
    expect(
      sessionFlags(
        delivery,
        tau({ workerArm: 'SMCM', kind: 'smcm_session', toolsUsed: ['strengths_assessment'], date: '2019-01-01' }),
      ),
    ).toEqual(['worker_other_arm', 'tools_not_in_arm', 'kind_not_in_arm', 'after_intervention_period']);
  });
});

describe('unknownCodes', () => {
  it('names kinds and tools the plan does not know, by pointer', () => {
    expect(unknownCodes(delivery, { kind: 'tau_contact', toolsUsed: ['strengths_assessment'] })).toEqual([]);
    expect(unknownCodes(delivery, { kind: 'home_visit', toolsUsed: ['strengths_assessment', 'genogram'] })).toEqual([
      { pointer: '/kind', detail: `"home_visit" is not a session kind of this trial's delivery plan` },
      { pointer: '/toolsUsed/1', detail: `"genogram" is not a tool of this trial's delivery plan` },
    ]);
  });
});
