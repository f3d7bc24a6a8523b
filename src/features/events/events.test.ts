import { loadSpec } from '../../http/openapi';
import { EVENT_TYPES, eventRefusal, EventType, ParticipantState } from './events';

const base: ParticipantState = {
  role: 'service_user',
  eligible: true,
  consentComplete: true,
  screenedOn: '2018-03-01',
  randomizedOn: null,
};
const afterRandomization: EventType[] = [
  'intervention_not_received',
  'discontinued_intervention',
  'lost_to_follow_up',
  'follow_up_completed',
  'excluded_from_analysis',
  'included_in_analysis',
];

describe('eventRefusal', () => {
  it('refuses any event dated before screening', () => {
    for (const type of ['declined', ...afterRandomization] as EventType[]) {
      expect(eventRefusal(type, '2018-02-28', { ...base, randomizedOn: '2018-03-05' })?.kind).toBe('before-screening');
    }
  });

  it('allows declined for eligible participants before randomization only', () => {
    expect(eventRefusal('declined', '2018-03-02', base)).toBeNull();
    expect(eventRefusal('declined', '2018-03-02', { ...base, consentComplete: false })).toBeNull();
    expect(eventRefusal('declined', '2018-03-02', { ...base, eligible: false })?.kind).toBe('not-allowed');
    expect(eventRefusal('declined', '2018-03-09', { ...base, randomizedOn: '2018-03-05' })?.kind).toBe('not-allowed');
  });

  it('allows not_randomized for eligible consented participants who are not randomized', () => {
    expect(eventRefusal('not_randomized', '2018-03-02', base)).toBeNull();
    expect(eventRefusal('not_randomized', '2018-03-02', { ...base, consentComplete: false })?.kind).toBe('not-allowed');
    expect(eventRefusal('not_randomized', '2018-03-02', { ...base, randomizedOn: '2018-03-02' })?.kind).toBe(
      'not-allowed',
    );
  });

  it('allows the follow-up events only on or after the day of randomization', () => {
    for (const type of afterRandomization) {
      expect(eventRefusal(type, '2018-06-01', base)?.kind).toBe('not-allowed');
      expect(eventRefusal(type, '2018-03-05', { ...base, randomizedOn: '2018-03-05' })).toBeNull();
      expect(eventRefusal(type, '2018-03-04', { ...base, randomizedOn: '2018-03-05' })?.kind).toBe('not-allowed');
    }
  });
});

describe('EVENT_TYPES', () => {
  it("is the contract's EventType enum, in its order", () => {
    const schemas = (loadSpec().document as unknown as { components: { schemas: Record<string, { enum?: string[] }> } })
      .components.schemas;
    expect([...EVENT_TYPES]).toEqual(schemas.EventType!.enum);
  });
});
