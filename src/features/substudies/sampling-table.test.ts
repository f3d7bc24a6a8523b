import { gapOf, samplingCsv, samplingHtml, samplingTable } from './sampling-table';

const cell = (
  siteCode: string,
  arm: string,
  role: 'service_user' | 'case_worker',
  target: number,
  interviewed: number,
) => ({
  siteCode,
  arm,
  role,
  target,
  invited: interviewed + 2,
  accepted: interviewed,
  declined: 1,
  awaiting: 0,
  withdrawn: 1,
  interviewed,
  recordingsFlagged: 1,
  recordingsDeleted: role === 'case_worker' ? 1 : 0,
});

describe('samplingTable', () => {
  const table = samplingTable(
    { trialId: 't', substudy: 'pe', title: 'Process <evaluation>' },
    [
      cell('B', 'SMCM', 'case_worker', 2, 2),
      cell('A', 'TAU', 'service_user', 6, 7),
      cell('A', 'SMCM', 'service_user', 6, 4),
      cell('A', 'SMCM', 'case_worker', 3, 1),
    ],
    ['SMCM', 'TAU'],
  );

  it('orders rows by site, role (service users first) and arm in the order given', () => {
    expect(table.rows.map((r) => `${r.siteCode} ${r.role} ${r.arm}`)).toEqual([
      'A service_user SMCM',
      'A service_user TAU',
      'A case_worker SMCM',
      'B case_worker SMCM',
    ]);
  });

  it('gives each cell its gap, never negative, and totals whose gap adds the cells', () => {
    expect(table.rows.map((r) => r.gap)).toEqual([2, 0, 2, 0]);
    expect(gapOf({ target: 3, interviewed: 5 })).toBe(0);
    expect(table.totals).toEqual([
      {
        role: 'service_user',
        target: 12,
        invited: 15,
        accepted: 11,
        declined: 2,
        awaiting: 0,
        withdrawn: 2,
        interviewed: 11,
        recordingsFlagged: 2,
        recordingsDeleted: 0,
        gap: 2,
      },
      {
        role: 'case_worker',
        target: 5,
        invited: 7,
        accepted: 3,
        declined: 2,
        awaiting: 0,
        withdrawn: 2,
        interviewed: 3,
        recordingsFlagged: 2,
        recordingsDeleted: 2,
        gap: 2,
      },
      {
        role: 'all',
        target: 17,
        invited: 22,
        accepted: 14,
        declined: 4,
        awaiting: 0,
        withdrawn: 4,
        interviewed: 14,
        recordingsFlagged: 4,
        recordingsDeleted: 2,
        gap: 4,
      },
    ]);
  });

  it('renders CSV with one line per cell and per total, and escaped HTML', () => {
    const lines = samplingCsv(table).trim().split('\r\n');
    expect(lines).toHaveLength(1 + 4 + 3);
    expect(lines[1]).toBe('A,SMCM,service_user,6,6,4,1,0,1,4,1,0,2');
    expect(lines[7]).toBe('all,all,all,17,22,14,4,0,4,14,4,2,4');
    const html = samplingHtml(table);
    expect(html).toContain('Process &lt;evaluation&gt;');
    expect(html).not.toContain('<evaluation>');
  });
});
