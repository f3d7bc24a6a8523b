import type { components } from '../../generated/openapi';
import { CsvParseError, parseCsv } from '../../core/csv';
import { EVENT_TYPES } from '../events/events';

/*
 * The CSV files of a migration (docs/interoperability.md lists their columns), read into the inputs the
 * screening and consent use cases take. Each problem names its line (the header is line 1; a line is one
 * record) and its column.
 */

type ParticipantInput = components['schemas']['ParticipantInput'];
type ConsentInput = components['schemas']['ConsentInput'];
type WithdrawalInput = components['schemas']['WithdrawalInput'];
type EventInput = components['schemas']['EventInput'];
type AssessmentInput = components['schemas']['AssessmentInput'];
type AssessmentCorrection = components['schemas']['AssessmentCorrection'];
type IncentiveIssueInput = components['schemas']['IncentiveIssueInput'];
type MeasureType = components['schemas']['Measure']['type'];

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

/** A row of a kind that names an existing participant by label. */
export interface LabelledRow<Input> {
  line: number;
  label: string;
  input: Input;
}

type Parsed<Input> = { rows: LabelledRow<Input>[]; errors: RowError[] };

/**
 * The frame every labelled kind shares: required columns present in the header and filled in every record, date
 * columns that are dates; `read` builds the input from a record that passed (and may add its own problems).
 */
function labelledRows<Input>(
  text: string,
  columns: { required: string[]; dates: string[] },
  read: (record: Table['records'][number], fail: (column: string, detail: string) => void, header: string[]) => Input,
): Parsed<Input> {
  const errors: RowError[] = [];
  const parsed = table(text, columns.required, errors);
  if (!parsed) return { rows: [], errors };
  const rows: LabelledRow<Input>[] = [];
  for (const record of parsed.records) {
    const fail = (column: string, detail: string) => errors.push({ line: record.line, column, detail });
    const before = errors.length;
    for (const column of columns.required) if (record.get(column) === undefined) fail(column, 'is required');
    for (const column of columns.dates) {
      const value = record.get(column);
      if (value !== undefined && !isDate(value)) fail(column, 'must be a date, YYYY-MM-DD');
    }
    if (errors.length > before) continue;
    const input = read(record, fail, parsed.header);
    if (errors.length > before) continue;
    rows.push({ line: record.line, label: record.get('label')!, input });
  }
  return { rows, errors };
}

export interface AllocationRowInput {
  arm: string;
  sequenceNumber: number;
  randomizedAt: Date;
  stratum: Record<string, string>;
}

export const ALLOCATION_COLUMNS = ['label', 'arm', 'sequenceNumber', 'randomizedAt'];

/**
 * allocations.csv: label, arm (code), sequenceNumber (in the stratum, from 1), randomizedAt (a date, read as
 * midnight UTC, or a UTC instant), then optional `stratum.<factor>` (checked against the participant's level).
 */
export function allocationRows(text: string): Parsed<AllocationRowInput> {
  return labelledRows(text, { required: ALLOCATION_COLUMNS, dates: [] }, (record, fail, header) => {
    const sequence = record.get('sequenceNumber')!;
    const sequenceNumber = Number(sequence);
    if (!/^[0-9]+$/.test(sequence) || !Number.isSafeInteger(sequenceNumber) || sequenceNumber < 1)
      fail('sequenceNumber', 'must be a whole number from 1');
    const at = record.get('randomizedAt')!;
    const randomizedAt = isDate(at) ? new Date(`${at}T00:00:00Z`) : new Date(at);
    if (!isDate(at) && (!/^\d{4}-\d{2}-\d{2}T[0-9:.]+Z$/.test(at) || Number.isNaN(randomizedAt.getTime())))
      fail('randomizedAt', 'must be a date, YYYY-MM-DD, or a UTC instant, YYYY-MM-DDThh:mm:ssZ');
    const stratum: Record<string, string> = {};
    for (const column of header) {
      const value = record.get(column);
      if (value !== undefined && column.startsWith('stratum.')) stratum[column.slice('stratum.'.length)] = value;
    }
    return { arm: record.get('arm')!, sequenceNumber, randomizedAt, stratum };
  });
}

export const EVENT_COLUMNS = ['label', 'type', 'occurredOn'];

/** events.csv: label, type, occurredOn, then optional reason. */
export function eventRows(text: string): Parsed<EventInput> {
  return labelledRows(text, { required: EVENT_COLUMNS, dates: ['occurredOn'] }, (record, fail) => {
    const type = record.get('type')!;
    if (!(EVENT_TYPES as readonly string[]).includes(type)) fail('type', `must be one of ${EVENT_TYPES.join(', ')}`);
    const reason = record.get('reason');
    return {
      type: type as EventInput['type'],
      occurredOn: record.get('occurredOn')!,
      ...(reason !== undefined ? { reason } : {}),
    };
  });
}

export const ASSESSMENT_COLUMNS = ['label', 'visit', 'assessedOn'];

/**
 * assessments.csv: label, visit, assessedOn, then optional assessor, `value.<measure>` for a number, integer,
 * count, binary or category measure, and `value.<measure>.<item>` (from 1) for the items of a scale. An empty cell
 * is a value not recorded: the measure is left out, or the scale item is unanswered (null) when another item of the
 * scale has an answer; the assessment is then scored as the API scores it.
 */
export function assessmentRows(
  text: string,
  measures: Map<string, { type: MeasureType; items?: number }>,
): Parsed<AssessmentInput> {
  return labelledRows(text, { required: ASSESSMENT_COLUMNS, dates: ['assessedOn'] }, (record, fail, header) => {
    const values = measureValues(record, fail, header, measures);
    const assessor = record.get('assessor');
    return {
      visit: record.get('visit')!,
      assessedOn: record.get('assessedOn')!,
      values,
      ...(assessor !== undefined ? { assessor } : {}),
    };
  });
}

/** The `value.<measure>` and `value.<measure>.<item>` cells of a record, read by the measure's type. */
function measureValues(
  record: Table['records'][number],
  fail: (column: string, detail: string) => void,
  header: string[],
  measures: Map<string, { type: MeasureType; items?: number }>,
): AssessmentInput['values'] {
  const values: AssessmentInput['values'] = {};
  const scales = new Map<string, (number | null)[]>();
  for (const column of header) {
    const match = /^value\.([^.]+)(?:\.([0-9]+))?$/.exec(column);
    if (!match) continue;
    const [, code = '', item] = match;
    const measure = measures.get(code);
    const value = record.get(column);
    if (measure === undefined) {
      if (value !== undefined) fail(column, `the trial has no measure ${code}`);
      continue;
    }
    if ((measure.type === 'scale') !== (item !== undefined)) {
      fail(
        column,
        measure.type === 'scale' ? `${code} is a scale: one column per item, value.${code}.1, …` : 'is not a scale',
      );
      continue;
    }
    if (value === undefined) continue;
    if (item !== undefined) {
      const items = scales.get(code) ?? Array<number | null>(measure.items ?? 0).fill(null);
      scales.set(code, items);
      const number = Number(value);
      if (!Number.isFinite(number)) fail(column, 'must be a number');
      items[Number(item) - 1] = number;
    } else if (measure.type === 'binary') {
      const answer = BOOLEAN[value.toLowerCase()];
      if (answer === undefined) fail(column, 'must be true or false');
      values[code] = answer ?? null;
    } else if (measure.type === 'category') values[code] = value;
    else {
      const number = Number(value);
      if (!Number.isFinite(number) || value.trim() === '') fail(column, 'must be a number');
      values[code] = number;
    }
  }
  for (const [code, items] of scales) values[code] = { items };
  return values;
}

export const CORRECTION_COLUMNS = ['label', 'visit', 'reason'];

/**
 * assessment_corrections.csv: label, visit, reason, then optional assessedOn, assessor and the value columns of
 * assessments.csv. As the correction request does, the values of a row with any value cell filled replace all the
 * assessment's values; a row with none keeps them. A row must change something.
 */
export function correctionRows(
  text: string,
  measures: Map<string, { type: MeasureType; items?: number }>,
): Parsed<{ visit: string; correction: AssessmentCorrection }> {
  return labelledRows(text, { required: CORRECTION_COLUMNS, dates: ['assessedOn'] }, (record, fail, header) => {
    const values = measureValues(record, fail, header, measures);
    const assessedOn = record.get('assessedOn');
    const assessor = record.get('assessor');
    const hasValues = Object.keys(values).length > 0;
    if (!hasValues && assessedOn === undefined && assessor === undefined)
      fail('reason', 'a correction changes assessedOn, assessor or values; this row changes nothing');
    return {
      visit: record.get('visit')!,
      correction: {
        reason: record.get('reason')!,
        ...(assessedOn !== undefined ? { assessedOn } : {}),
        ...(assessor !== undefined ? { assessor } : {}),
        ...(hasValues ? { values } : {}),
      },
    };
  });
}

export const MISSED_VISIT_COLUMNS = ['label', 'visit', 'reason', 'recordedOn'];

/** missed_visits.csv: label, visit, reason, recordedOn (the date the visit was recorded as missed). */
export function missedVisitRows(text: string): Parsed<{ visit: string; reason: string; recordedOn: string }> {
  return labelledRows(text, { required: MISSED_VISIT_COLUMNS, dates: ['recordedOn'] }, (record) => ({
    visit: record.get('visit')!,
    reason: record.get('reason')!,
    recordedOn: record.get('recordedOn')!,
  }));
}

export const COUPON_COLUMNS = ['label', 'incentive', 'issuedOn', 'reference'];

/** coupons.csv: label, incentive (the incentive type's code), issuedOn, reference (unique in the trial), note. */
export function couponRows(text: string): Parsed<IncentiveIssueInput> {
  return labelledRows(text, { required: COUPON_COLUMNS, dates: ['issuedOn'] }, (record) => {
    const note = record.get('note');
    return {
      incentive: record.get('incentive')!,
      issuedOn: record.get('issuedOn')!,
      reference: record.get('reference')!,
      ...(note !== undefined ? { note } : {}),
    };
  });
}

/** Where a use case's field error lands in the CSV: its column name for a field the file has. */
export function columnOf(pointer: string): string {
  const [, field = '', key, sub, index] = pointer.split('/');
  if ((field === 'eligibility' || field === 'baseline' || field === 'stratum') && key !== undefined)
    return `${field}.${key}`;
  if (field === 'values' && key !== undefined)
    return sub === 'items' && index !== undefined ? `value.${key}.${Number(index) + 1}` : `value.${key}`;
  return field;
}
