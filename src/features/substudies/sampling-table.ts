import { csvLine } from '../../core/csv';

export type Role = 'service_user' | 'case_worker';

export interface SamplingCounts {
  target: number;
  invited: number;
  accepted: number;
  declined: number;
  awaiting: number;
  withdrawn: number;
  interviewed: number;
  recordingsFlagged: number;
  recordingsDeleted: number;
  gap: number;
}

export interface SamplingRow extends SamplingCounts {
  siteCode: string;
  arm: string;
  role: Role;
}

export interface SamplingTable {
  trialId: string;
  substudy: string;
  title: string;
  rows: SamplingRow[];
  totals: (SamplingCounts & { role: Role | 'all' })[];
}

type CellCounts = Omit<SamplingCounts, 'gap'>;

/** One quota cell as counted (arm as stored or as labelled, per the caller). */
export type SamplingCell = CellCounts & { siteCode: string; arm: string; role: Role };

const ROLE_ORDER: Record<Role, number> = { service_user: 0, case_worker: 1 };
const ROLE_NAMES: Record<Role | 'all', string> = {
  service_user: 'Service users',
  case_worker: 'Case workers',
  all: 'All',
};
const COUNT_KEYS = [
  'target',
  'invited',
  'accepted',
  'declined',
  'awaiting',
  'withdrawn',
  'interviewed',
  'recordingsFlagged',
  'recordingsDeleted',
  'gap',
] as const;

/** The remaining gap of one cell: interviews still needed to reach its target (never negative). */
export const gapOf = (cell: Pick<SamplingCounts, 'target' | 'interviewed'>) =>
  Math.max(cell.target - cell.interviewed, 0);

/**
 * Table 3 from the counted cells, with arms already as the caller sees them (`armOrder`: the labels in display
 * order). Rows by site, role (service users first) and arm; totals per role and overall, whose gap is the sum of the
 * cells' gaps (a surplus in one cell does not fill another).
 */
export function samplingTable(
  header: { trialId: string; substudy: string; title: string },
  cells: readonly SamplingCell[],
  armOrder: readonly string[],
): SamplingTable {
  const armRank = (arm: string) => {
    const i = armOrder.indexOf(arm);
    return i === -1 ? armOrder.length : i;
  };
  const rows = cells
    .map((cell) => ({ ...cell, gap: gapOf(cell) }))
    .sort(
      (a, b) =>
        a.siteCode.localeCompare(b.siteCode, 'en', { numeric: true }) ||
        ROLE_ORDER[a.role] - ROLE_ORDER[b.role] ||
        armRank(a.arm) - armRank(b.arm) ||
        a.arm.localeCompare(b.arm, 'en', { numeric: true }),
    );
  const total = (role: Role | 'all') => {
    const sum = Object.fromEntries(COUNT_KEYS.map((k) => [k, 0])) as unknown as SamplingCounts;
    for (const row of rows) if (role === 'all' || row.role === role) for (const k of COUNT_KEYS) sum[k] += row[k];
    return { role, ...sum };
  };
  return { ...header, rows, totals: [total('service_user'), total('case_worker'), total('all')] };
}

export function samplingCsv(table: SamplingTable): string {
  return (
    csvLine(['siteCode', 'arm', 'role', ...COUNT_KEYS]) +
    table.rows.map((row) => csvLine([row.siteCode, row.arm, row.role, ...COUNT_KEYS.map((k) => row[k])])).join('') +
    table.totals.map((t) => csvLine(['all', 'all', t.role, ...COUNT_KEYS.map((k) => t[k])])).join('')
  );
}

const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A printable page: one row per cell, the figures in the order of the paper's Table 3, then the totals. */
export function samplingHtml(table: SamplingTable): string {
  const head = [
    'Site',
    'Role',
    'Arm',
    'Target',
    'Invited',
    'Accepted',
    'Declined',
    'Awaiting',
    'Withdrawn',
    'Interviewed',
    'Recordings flagged for deletion',
    'Recordings deleted',
    'Gap',
  ];
  const line = (cells: string[], tag = 'td') =>
    `<tr>${cells.map((c) => `<${tag}>${escapeHtml(c)}</${tag}>`).join('')}</tr>`;
  const numbers = (c: SamplingCounts) => COUNT_KEYS.map((k) => String(c[k]));
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sampling – ${escapeHtml(table.title)}</title>
<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 8px}td:nth-child(n+4){text-align:right}</style></head><body>
<h1>Sampling: ${escapeHtml(table.title)}</h1>
<table><thead>${line(head, 'th')}</thead><tbody>
${table.rows.map((r) => line([r.siteCode, ROLE_NAMES[r.role], r.arm, ...numbers(r)])).join('\n')}
${table.totals.map((t) => line(['All sites', ROLE_NAMES[t.role], 'All', ...numbers(t)])).join('\n')}
</tbody></table>
<p>Gap: interviews still needed to reach each cell's target; totals add the cells' gaps.</p></body></html>`;
}
