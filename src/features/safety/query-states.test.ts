import { ageInDays, nextQueryStatus, QueryAction, QueryStatus } from './query-states';

const STATUSES: QueryStatus[] = ['open', 'answered', 'closed'];
const ACTIONS: QueryAction[] = ['answer', 'close', 'reopen', 'resolve'];
const RANK: Record<QueryStatus, number> = { open: 0, answered: 1, closed: 2 };

describe('query states', () => {
  it('allow exactly these transitions', () => {
    const table = STATUSES.flatMap((s) => ACTIONS.map((a) => `${s} -${a}-> ${nextQueryStatus(s, a) ?? 'refused'}`));
    expect(table).toEqual([
      'open -answer-> answered',
      'open -close-> closed',
      'open -reopen-> refused',
      'open -resolve-> closed',
      'answered -answer-> refused',
      'answered -close-> closed',
      'answered -reopen-> open',
      'answered -resolve-> refused',
      'closed -answer-> refused',
      'closed -close-> refused',
      'closed -reopen-> open',
      'closed -resolve-> refused',
    ]);
  });

  it('never go backwards except by a re-open', () => {
    for (const s of STATUSES)
      for (const a of ACTIONS) {
        const next = nextQueryStatus(s, a);
        if (next !== null && a !== 'reopen') expect(RANK[next]).toBeGreaterThan(RANK[s]);
        if (next !== null && a === 'reopen') expect(next).toBe('open');
      }
  });

  it('reach closed from open along every sequence of allowed actions, and stay closed until re-opened', () => {
    // Every walk of up to six actions: whatever happens, the status is one a forward step or a re-open gives.
    const walk = (status: QueryStatus, depth: number, path: string[]): void => {
      if (depth === 0) return;
      for (const a of ACTIONS) {
        const next = nextQueryStatus(status, a);
        if (next === null) continue;
        if (status === 'closed') expect(a).toBe('reopen');
        walk(next, depth - 1, [...path, a]);
      }
    };
    walk('open', 6, []);
  });

  it('age in whole days', () => {
    const raised = new Date('2026-11-01T10:00:00Z');
    expect(ageInDays(raised, new Date('2026-11-01T23:59:59Z'))).toBe(0);
    expect(ageInDays(raised, new Date('2026-11-15T10:00:00Z'))).toBe(14);
    expect(ageInDays(raised, new Date('2026-11-15T09:59:59Z'))).toBe(13);
    expect(ageInDays(raised, new Date('2026-10-31T00:00:00Z'))).toBe(0);
  });
});
