import { allocationRows, assessmentRows, columnOf, couponRows, eventRows } from './migration-csv';

const linesOf = (errors: { line: number; column: string }[]) => errors.map((e) => `${e.line}:${e.column}`);

describe('allocation rows', () => {
  it('reads dates as midnight UTC, instants as given, and stratum columns by factor', () => {
    const { rows, errors } = allocationRows(
      'label,arm,sequenceNumber,randomizedAt,stratum.site\nA-1,SMCM,1,2018-01-20,A\nA-2,TAU,2,2018-01-21T09:30:00Z,\n',
    );
    expect(errors).toEqual([]);
    expect(rows.map((r) => [r.line, r.label, r.input.sequenceNumber, r.input.randomizedAt.toISOString()])).toEqual([
      [2, 'A-1', 1, '2018-01-20T00:00:00.000Z'],
      [3, 'A-2', 2, '2018-01-21T09:30:00.000Z'],
    ]);
    expect(rows.map((r) => r.input.stratum)).toEqual([{ site: 'A' }, {}]);
  });

  it('refuses sequence numbers that are not whole numbers from 1, and instants without a zone or out of range', () => {
    const csv = [
      'label,arm,sequenceNumber,randomizedAt',
      'A,X,0,2018-01-20',
      'B,X,1.5,2018-01-20',
      'C,X,-1,2018-01-20',
      'D,X,1,2018-01-20T09:30:00',
      'E,X,1,2018-02-30',
      'F,X,1,2018-01-20T25:00:00Z',
      'G,,1,2018-01-20',
    ].join('\n');
    expect(linesOf(allocationRows(csv).errors)).toEqual([
      '2:sequenceNumber',
      '3:sequenceNumber',
      '4:sequenceNumber',
      '5:randomizedAt',
      '6:randomizedAt',
      '7:randomizedAt',
      '8:arm',
    ]);
    expect(linesOf(allocationRows('label,arm\nA,X').errors)).toEqual(['1:sequenceNumber', '1:randomizedAt']);
  });
});

describe('event and coupon rows', () => {
  it('reads a known type with its optional reason, and refuses an unknown type or a bad date', () => {
    const { rows, errors } = eventRows(
      'label,type,occurredOn,reason\nA,lost_to_follow_up,2018-09-01,moved\nB,excluded_from_analysis,2018-09-02,\nC,gone,2018-09-01,\nD,declined,2018-9-1,',
    );
    expect(rows.map((r) => r.input)).toEqual([
      { type: 'lost_to_follow_up', occurredOn: '2018-09-01', reason: 'moved' },
      { type: 'excluded_from_analysis', occurredOn: '2018-09-02' },
    ]);
    expect(linesOf(errors)).toEqual(['4:type', '5:occurredOn']);
  });

  it('reads coupons with an optional note', () => {
    const { rows, errors } = couponRows(
      'label,incentive,issuedOn,reference,note\nA,coupon,2018-02-01,C-1,\nB,coupon,,C-2,x',
    );
    expect(rows.map((r) => r.input)).toEqual([{ incentive: 'coupon', issuedOn: '2018-02-01', reference: 'C-1' }]);
    expect(linesOf(errors)).toEqual(['3:issuedOn']);
  });
});

describe('assessment rows', () => {
  const measures = new Map([
    ['hope', { type: 'scale' as const, items: 4 }],
    ['employed', { type: 'binary' as const }],
    ['admissions', { type: 'count' as const }],
    ['housing', { type: 'category' as const }],
  ]);

  it('builds scale items (unanswered as null), booleans, numbers and levels by the measure type', () => {
    const csv = [
      'label,visit,assessedOn,assessor,value.hope.1,value.hope.2,value.hope.4,value.employed,value.admissions,value.housing',
      'A,m6,2018-07-01,KL,3,,2,yes,0,1',
      'B,m6,2018-07-01,,,,,,,',
    ].join('\n');
    const { rows, errors } = assessmentRows(csv, measures);
    expect(errors).toEqual([]);
    expect(rows.map((r) => r.input)).toEqual([
      {
        visit: 'm6',
        assessedOn: '2018-07-01',
        assessor: 'KL',
        values: { hope: { items: [3, null, null, 2] }, employed: true, admissions: 0, housing: '1' },
      },
      { visit: 'm6', assessedOn: '2018-07-01', values: {} },
    ]);
  });

  it('names the column of every value it cannot read', () => {
    const csv = [
      'label,visit,assessedOn,value.hope,value.employed.1,value.mood,value.admissions,value.hope.2,value.employed',
      'A,m6,2018-07-01,3,1,2,two,x,maybe',
    ].join('\n');
    expect(linesOf(assessmentRows(csv, measures).errors)).toEqual([
      '2:value.hope',
      '2:value.employed.1',
      '2:value.mood',
      '2:value.admissions',
      '2:value.hope.2',
      '2:value.employed',
    ]);
  });
});

describe('columnOf', () => {
  it.each([
    ['/baseline/age', 'baseline.age'],
    ['/eligibility/age18', 'eligibility.age18'],
    ['/stratum/site', 'stratum.site'],
    ['/values/hope', 'value.hope'],
    ['/values/hope/items/0', 'value.hope.1'],
    ['/values/hope/items/11', 'value.hope.12'],
    ['/occurredOn', 'occurredOn'],
    ['', ''],
  ])('%s → %s', (pointer, column) => expect(columnOf(pointer)).toBe(column));
});
