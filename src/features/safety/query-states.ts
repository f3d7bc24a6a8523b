/**
 * The life of a data query (pure): raised open, answered by the site, closed by the monitor. It never goes
 * backwards; the one way back is a re-open, by the monitor, of an answered or closed query. `resolve` is no
 * person's action: a correction that puts right the item an automatic check queried closes its open query.
 */

export type QueryStatus = 'open' | 'answered' | 'closed';
export type QueryAction = 'answer' | 'close' | 'reopen' | 'resolve';

const TRANSITIONS: Record<QueryAction, Partial<Record<QueryStatus, QueryStatus>>> = {
  answer: { open: 'answered' },
  close: { open: 'closed', answered: 'closed' },
  reopen: { answered: 'open', closed: 'open' },
  // Only an open query: an answered one waits for the monitor, who reads the answer.
  resolve: { open: 'closed' },
};

/** The status after an action, or null when the action is not allowed from this status. */
export function nextQueryStatus(status: QueryStatus, action: QueryAction): QueryStatus | null {
  return TRANSITIONS[action][status] ?? null;
}

/** Whole days between two instants (floored): how long a query has been waiting. */
export function ageInDays(since: Date, now: Date): number {
  return Math.max(0, Math.floor((now.getTime() - since.getTime()) / 86_400_000));
}
