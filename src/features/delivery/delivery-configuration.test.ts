import { smcmDelivery, smcmFidelityScale } from '../../../scripts/smcm-trial';
import { compareDeliveryAmendment, validateDeliverySetUp } from './delivery-configuration';

const arms = [{ code: 'SMCM' }, { code: 'TAU' }];
const setUp = () => ({ arms, delivery: smcmDelivery(), fidelityScale: smcmFidelityScale() });
const pointers = (config: ReturnType<typeof setUp>) => validateDeliverySetUp(config).map((e) => e.pointer);

describe('validateDeliverySetUp', () => {
  it('accepts the seed trial plan and scale, and no plan at all', () => {
    expect(validateDeliverySetUp(setUp())).toEqual([]);
    expect(validateDeliverySetUp({ arms, delivery: null, fidelityScale: null })).toEqual([]);
  });

  it('names an unknown arm, a duplicated arm and an arm without a plan', () => {
    const config = setUp();
    config.delivery.arms[1]!.arm = 'SMCM';
    expect(pointers(config)).toEqual(['/delivery/arms/1/arm', '/delivery/arms']);
    const unknown = setUp();
    unknown.delivery.arms[1]!.arm = 'OTHER';
    expect(pointers(unknown)).toEqual(['/delivery/arms/1/arm', '/delivery/arms']);
  });

  it('refuses duplicate session kinds, tools, supervision kinds and tools for unknown arms', () => {
    const config = setUp();
    config.delivery.arms[0]!.sessionKinds.push({ code: 'smcm_session', label: 'again' });
    config.delivery.tools.push({ code: 'strengths_assessment', label: 'again', arms: ['SMCM'] });
    config.delivery.tools[1]!.arms.push('OTHER');
    config.delivery.arms[0]!.supervisionPlan!.push({ kind: 'group', perMonth: 2 });
    config.delivery.supervisionPlan = [
      { kind: 'field_mentoring', perMonth: 1 },
      { kind: 'field_mentoring', perMonth: 2 },
    ];
    expect(pointers(config)).toEqual([
      '/delivery/arms/0/sessionKinds/1/code',
      '/delivery/arms/0/supervisionPlan/2/kind',
      '/delivery/tools/2/code',
      '/delivery/tools/1/arms/1',
      '/delivery/supervisionPlan/1/kind',
    ]);
  });

  it('keeps the trial-wide supervision plan of existing trials valid, alone or beside per-arm plans', () => {
    const trialWide = setUp();
    for (const plan of trialWide.delivery.arms) delete plan.supervisionPlan;
    trialWide.delivery.supervisionPlan = [
      { kind: 'individual', perMonth: 4 },
      { kind: 'group', perMonth: 1 },
    ];
    expect(validateDeliverySetUp(trialWide)).toEqual([]);
    const both = setUp();
    both.delivery.supervisionPlan = [{ kind: 'group', perMonth: 1 }];
    expect(validateDeliverySetUp(both)).toEqual([]);
  });

  it('checks areas, items, anchors and the threshold against 9 items (9 to 45)', () => {
    const config = setUp();
    config.fidelityScale.items[8]!.area = 'nowhere';
    config.fidelityScale.items.push({ code: 'caseload', label: 'dup', area: 'structure' });
    config.fidelityScale.areas.push({ code: 'empty', label: 'Empty' });
    config.fidelityScale.anchors!.push({ score: 3, label: 'dup' });
    config.fidelityScale.highFidelityThreshold = 51;
    expect(pointers(config)).toEqual([
      '/fidelityScale/items/9/code',
      '/fidelityScale/items/8/area',
      '/fidelityScale/areas/3',
      '/fidelityScale/anchors/3/score',
      '/fidelityScale/highFidelityThreshold',
    ]);
    for (const [threshold, valid] of [
      [9, true],
      [8, false],
      [45, true],
      [46, false],
    ] as const) {
      const scale = setUp();
      scale.fidelityScale.highFidelityThreshold = threshold;
      expect(pointers(scale)).toEqual(valid ? [] : ['/fidelityScale/highFidelityThreshold']);
    }
  });
});

describe('compareDeliveryAmendment', () => {
  const current = () => ({ delivery: smcmDelivery(), fidelityScale: smcmFidelityScale() });

  it('finds nothing to say about an unchanged configuration', () => {
    expect(compareDeliveryAmendment(current(), current())).toEqual({ conflicts: [], changes: [] });
  });

  it('lists what was added or changed', () => {
    const amended = current();
    amended.delivery.arms[0]!.minimumSessions = 8;
    amended.delivery.arms[1]!.sessionKinds.push({ code: 'tau_phone', label: 'Phone call' });
    amended.delivery.tools.push({ code: 'wellness_plan', label: 'Wellness plan', arms: ['TAU'] });
    amended.delivery.tools[0]!.arms.push('TAU');
    amended.delivery.interventionPeriodDays = 365;
    amended.fidelityScale.items.push({ code: 'outreach', label: 'Outreach', area: 'clinical' });
    amended.fidelityScale.highFidelityThreshold = 40;
    amended.delivery.arms[1]!.supervisionPlan = [{ kind: 'group', perMonth: 1 }];
    expect(compareDeliveryAmendment(current(), amended)).toEqual({
      conflicts: [],
      changes: [
        '/delivery/interventionPeriodDays',
        '/delivery/arms/0/minimumSessions',
        '/delivery/arms/1/sessionKinds/1',
        '/delivery/arms/1/supervisionPlan',
        '/delivery/tools/0/arms',
        '/delivery/tools/2',
        '/fidelityScale/items/9',
        '/fidelityScale/highFidelityThreshold',
      ],
    });
  });

  it('lists a move from the trial-wide supervision plan to per-arm plans as changes, not conflicts', () => {
    const trialWide = current();
    for (const plan of trialWide.delivery.arms) delete plan.supervisionPlan;
    trialWide.delivery.supervisionPlan = [{ kind: 'group', perMonth: 1 }];
    expect(compareDeliveryAmendment(trialWide, current())).toEqual({
      conflicts: [],
      changes: ['/delivery/arms/0/supervisionPlan', '/delivery/arms/1/supervisionPlan', '/delivery/supervisionPlan'],
    });
  });

  it('refuses removing or moving what is defined', () => {
    const amended = current();
    amended.delivery.arms[0]!.sessionKinds = [{ code: 'other', label: 'Other' }];
    amended.delivery.arms.pop();
    amended.delivery.tools[1]!.arms = ['TAU'];
    amended.delivery.tools.shift();
    amended.fidelityScale.items[0]!.area = 'clinical';
    amended.fidelityScale.items.pop();
    amended.fidelityScale.areas.pop();
    const { conflicts } = compareDeliveryAmendment(current(), amended);
    expect(conflicts.map((c) => c.pointer)).toEqual([
      '/delivery/arms/0/sessionKinds',
      '/delivery/arms/1',
      '/delivery/tools',
      '/delivery/tools/0/arms',
      '/fidelityScale/areas',
      '/fidelityScale/items/0/area',
      '/fidelityScale/items',
    ]);
    expect(compareDeliveryAmendment(current(), { delivery: null, fidelityScale: null }).conflicts).toHaveLength(2);
  });

  it('adding a plan or a scale to a trial without one is a change', () => {
    expect(compareDeliveryAmendment({ delivery: null, fidelityScale: null }, current())).toEqual({
      conflicts: [],
      changes: ['/delivery', '/fidelityScale'],
    });
  });
});
