import type { components } from '../../generated/openapi';
import { CsvParseError, parseCsv } from '../../core/csv';

/*
 * The CSV files of a migration (docs/interoperability.md lists their columns), read into the inputs the
 * screening and consent use cases take. Each problem names its line (the header is line 1; a line is one
 * record) and its column.
 */

type ParticipantInput = components['schemas']['ParticipantInput'];
type ConsentInput = components['schemas']['ConsentInput'];
type WithdrawalInput = components['schemas']['WithdrawalInput'];

export interface RowError {
  line: number;
  column: string;
  detail: string;
}

export interface ParticipantRow {
  line: number;
  input: ParticipantInput;
}

export interface ConsentRow {
  line: number;
  label: string;
  input: ConsentInput;
  withdrawal: WithdrawalInput | null;
}

interface Table {
  header: string[];
  records: { line: number; get(column: string): string | undefined }[];
}

function table(text: string, required: string[], errors: RowError[]): Table | null {
  let rows: string[][];
  try {
    rows = parseCsv(text);
  } catch (error) {
    if (!(error instanceof CsvParseError)) throw error;
    errors.push({ line: error.line, column: '', detail: error.message });
    return null;
  }
  const [header = [], ...body] = rows;
  const missing = required.filter((column) => !header.includes(column));
  for (const column of missing) errors.push({ line: 1, column, detail: 'this column is required' });
  if (missing.length) return null;
  return {
    header,
    records: body.map((fields, i) => ({
      line: i + 2,
      get: (column: string) => {
        const index = header.indexOf(column);
        const value = index < 0 ? undefined : fields[index];
        return value === undefined || value === '' ? undefined : value;
      },
    })),
  };
}

function isDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
}
const BOOLEAN: Record<string, boolean> = { true: true, false: false, yes: true, no: false, '1': true, '0': false };

export const PARTICIPANT_COLUMNS = ['label', 'siteCode', 'role', 'screenedOn'];

/** participants.csv: label, siteCode, role, screenedOn, then `eligibility.<criterion>` and `baseline.<variable>`. */
export function participantRows(text: string): { rows: ParticipantRow[]; errors: RowError[] } {
  const errors: RowError[] = [];
  const parsed = table(text, PARTICIPANT_COLUMNS, errors);
  if (!parsed) return { rows: [], errors };
  const rows: ParticipantRow[] = [];
  for (const record of parsed.records) {
    const fail = (column: string, detail: string) => errors.push({ line: record.line, column, detail });
    const before = errors.length;
    for (const column of PARTICIPANT_COLUMNS) if (record.get(column) === undefined) fail(column, 'is required');
    const role = record.get('role');
    if (role !== undefined && role !== 'service_user' && role !== 'case_worker')
      fail('role', 'must be service_user or case_worker');
    const screenedOn = record.get('screenedOn');
    if (screenedOn !== undefined && !isDate(screenedOn)) fail('screenedOn', 'must be a date, YYYY-MM-DD');
    const eligibility: Record<string, boolean> = {};
    const baseline: Record<string, string | number> = {};
    for (const column of parsed.header) {
      const value = record.get(column);
      if (value === undefined) continue;
      if (column.startsWith('eligibility.')) {
        const answer = BOOLEAN[value.toLowerCase()];
        if (answer === undefined) fail(column, 'must be true or false');
        else eligibility[column.slice('eligibility.'.length)] = answer;
      } else if (column.startsWith('baseline.')) {
        const number = Number(value);
        baseline[column.slice('baseline.'.length)] = value.trim() !== '' && Number.isFinite(number) ? number : value;
      }
    }
    if (errors.length > before) continue;
    rows.push({
      line: record.line,
      input: {
        label: record.get('label')!,
        siteCode: record.get('siteCode')!,
        role: role as ParticipantInput['role'],
        screenedOn: screenedOn!,
        eligibility,
        baseline,
      },
    });
  }
  return { rows, errors };
}

export const CONSENT_COLUMNS = ['label', 'form', 'version', 'decision', 'signedOn', 'obtainedBy', 'method'];

/**
 * consents.csv: label, form, version, decision, signedOn, obtainedBy, method, then optional reason,
 * withdrawnOn, withdrawalReason, withdrawalScope.
 */
export function consentRows(text: string): { rows: ConsentRow[]; errors: RowError[] } {
  const errors: RowError[] = [];
  const parsed = table(text, CONSENT_COLUMNS, errors);
  if (!parsed) return { rows: [], errors };
  const rows: ConsentRow[] = [];
  for (const record of parsed.records) {
    const fail = (column: string, detail: string) => errors.push({ line: record.line, column, detail });
    const before = errors.length;
    for (const column of CONSENT_COLUMNS) if (record.get(column) === undefined) fail(column, 'is required');
    const decision = record.get('decision');
    if (decision !== undefined && decision !== 'granted' && decision !== 'declined')
      fail('decision', 'must be granted or declined');
    const method = record.get('method');
    if (method !== undefined && !['written', 'electronic', 'witnessed_verbal'].includes(method))
      fail('method', 'must be written, electronic or witnessed_verbal');
    for (const column of ['signedOn', 'withdrawnOn']) {
      const value = record.get(column);
      if (value !== undefined && !isDate(value)) fail(column, 'must be a date, YYYY-MM-DD');
    }
    const withdrawnOn = record.get('withdrawnOn');
    const scope = record.get('withdrawalScope');
    const withdrawalReason = record.get('withdrawalReason');
    if (withdrawnOn !== undefined) {
      if (!scope || !['intervention', 'follow_up', 'all'].includes(scope))
        fail('withdrawalScope', 'must be intervention, follow_up or all when withdrawnOn is given');
      if (!withdrawalReason) fail('withdrawalReason', 'is required when withdrawnOn is given');
    }
    if (errors.length > before) continue;
    const reason = record.get('reason');
    rows.push({
      line: record.line,
      label: record.get('label')!,
      input: {
        form: record.get('form')!,
        version: record.get('version')!,
        decision: decision as ConsentInput['decision'],
        signedOn: record.get('signedOn')!,
        obtainedBy: record.get('obtainedBy')!,
        method: method as ConsentInput['method'],
        ...(reason !== undefined ? { reason } : {}),
      },
      withdrawal:
        withdrawnOn !== undefined
          ? { withdrawnOn, reason: withdrawalReason!, scope: scope as WithdrawalInput['scope'] }
          : null,
    });
  }
  return { rows, errors };
}

/** Where a use case's field error lands in the CSV: its column name for a field the file has. */
export function columnOf(pointer: string): string {
  const [, field = '', key] = pointer.split('/');
  if ((field === 'eligibility' || field === 'baseline') && key !== undefined) return `${field}.${key}`;
  return field;
}
