import { allocationListProblems, listAllocation, type AllocationListRow } from './allocation-list';

const RULES = {
  armCodes: ['SMCM', 'TAU'],
  stratifyBy: ['site', 'sex'],
  levelsByFactor: { site: ['LDN', 'MAN'], sex: ['F', 'M'] },
};

const ROWS: AllocationListRow[] = [
  { stratum: { site: 'LDN', sex: 'F' }, arm: 'TAU' },
  { stratum: { site: 'MAN', sex: 'F' }, arm: 'SMCM' },
  { stratum: { sex: 'F', site: 'LDN' }, arm: 'SMCM' },
  { stratum: { site: 'LDN', sex: 'F' }, arm: 'TAU' },
];

describe('listAllocation', () => {
  it('consumes the rows of a stratum in upload order', () => {
    const arms = [1, 2, 3].map((sequenceNumber) =>
      listAllocation(ROWS, RULES.stratifyBy, 'site=LDN|sex=F', sequenceNumber),
    );
    expect(arms).toEqual([
      { status: 'allocated', arm: 'TAU', rowIndex: 0 },
      { status: 'allocated', arm: 'SMCM', rowIndex: 2 },
      { status: 'allocated', arm: 'TAU', rowIndex: 3 },
    ]);
    expect(listAllocation(ROWS, RULES.stratifyBy, 'site=MAN|sex=F', 1)).toEqual({
      status: 'allocated',
      arm: 'SMCM',
      rowIndex: 1,
    });
  });

  it('signals exhaustion once the stratum has no row left, and for strata without rows', () => {
    expect(listAllocation(ROWS, RULES.stratifyBy, 'site=LDN|sex=F', 4)).toEqual({
      status: 'exhausted',
      rowsInStratum: 3,
    });
    expect(listAllocation(ROWS, RULES.stratifyBy, 'site=MAN|sex=M', 1)).toEqual({
      status: 'exhausted',
      rowsInStratum: 0,
    });
  });

  it('uses the single stratum "" when unstratified', () => {
    const rows = [{ stratum: {}, arm: 'SMCM' }];
    expect(listAllocation(rows, [], '', 1)).toEqual({ status: 'allocated', arm: 'SMCM', rowIndex: 0 });
  });
});

describe('allocationListProblems', () => {
  it('accepts a list whose arms exist and whose strata match stratifyBy', () => {
    expect(allocationListProblems(ROWS, RULES)).toEqual([]);
  });

  it('points at unknown arms, unknown factors, unknown levels and missing factors', () => {
    const rows: AllocationListRow[] = [
      { stratum: { site: 'LDN', sex: 'F' }, arm: 'PLACEBO' },
      { stratum: { site: 'LDN', sex: 'F', 'age/band': 'old' }, arm: 'TAU' },
      { stratum: { site: 'BRS', sex: 'F' }, arm: 'TAU' },
      { stratum: { site: 'LDN' }, arm: 'TAU' },
    ];
    expect(allocationListProblems(rows, RULES)).toEqual([
      { pointer: '/0/arm', message: 'PLACEBO is not an arm of this trial' },
      { pointer: '/1/stratum/age~1band', message: 'age/band is not a stratification factor of this trial' },
      { pointer: '/2/stratum/site', message: 'BRS is not a level of site' },
      { pointer: '/3/stratum', message: 'the level of sex is missing' },
    ]);
  });

  it('refuses an empty list', () => {
    expect(allocationListProblems([], RULES)).toEqual([{ pointer: '', message: 'the allocation list has no rows' }]);
  });
});
