import type { components } from '../../generated/openapi';
import { csvLine } from '../../core/csv';

type BaselineVariable = components['schemas']['BaselineVariable'];

/** One exported row as the export query returns it. */
export interface ExportRow {
  participant_id: string;
  label: string;
  site_code: string;
  role: string;
  status: string;
  arm: string | null;
  screened_on: string;
  eligible: boolean;
  unmet_criteria: string[];
  consent_status: string;
  consent_signed_on: string | null;
  consent_withdrawn_on: string | null;
  withdrawal_scope: string | null;
  randomized_on: string | null;
  sequence_number: number | null;
  randomization_error: boolean | null;
  baseline: Record<string, unknown>;
  flags: Record<string, string | null>;
}

export const FOLLOW_UP_FLAGS = [
  'intervention_not_received',
  'discontinued_intervention',
  'lost_to_follow_up',
  'follow_up_completed',
  'excluded_from_analysis',
] as const;

interface Column {
  name: string;
  type: string;
  description: string;
  value: (row: ExportRow) => unknown;
}

/** The export's columns, in order; the dictionary is generated from the same list. */
export function exportColumns(variables: BaselineVariable[]): Column[] {
  return [
    {
      name: 'participant_id',
      type: 'uuid',
      description: 'Participant identifier in trialdesk',
      value: (r) => r.participant_id,
    },
    { name: 'label', type: 'string', description: "The site's pseudonymous label", value: (r) => r.label },
    { name: 'site', type: 'string', description: 'Site code', value: (r) => r.site_code },
    { name: 'role', type: 'category', description: 'service_user or case_worker', value: (r) => r.role },
    {
      name: 'status',
      type: 'category',
      description:
        'Participant status (ineligible, eligible, declined, consented, randomized, not_randomized, withdrawn)',
      value: (r) => r.status,
    },
    {
      name: 'arm',
      type: 'category',
      description: 'Allocated arm of a service user, assigned arm of a case worker; masked (Group n) for blinded keys',
      value: (r) => r.arm,
    },
    { name: 'screened_on', type: 'date', description: 'Date of screening', value: (r) => r.screened_on },
    { name: 'eligible', type: 'boolean', description: 'Met every eligibility criterion', value: (r) => r.eligible },
    {
      name: 'unmet_criteria',
      type: 'string',
      description: 'Codes of failed criteria, separated by ";"',
      value: (r) => r.unmet_criteria.join(';'),
    },
    {
      name: 'consent_status',
      type: 'category',
      description: 'Required consent: granted, declined, withdrawn or none',
      value: (r) => r.consent_status,
    },
    {
      name: 'consent_signed_on',
      type: 'date',
      description: 'Latest signature date of a required form',
      value: (r) => r.consent_signed_on,
    },
    {
      name: 'consent_withdrawn_on',
      type: 'date',
      description: 'Date consent to a required form was withdrawn',
      value: (r) => r.consent_withdrawn_on,
    },
    {
      name: 'withdrawal_scope',
      type: 'category',
      description: 'intervention, follow_up or all',
      value: (r) => r.withdrawal_scope,
    },
    { name: 'randomized_on', type: 'date', description: 'UTC date of randomization', value: (r) => r.randomized_on },
    {
      name: 'sequence_number',
      type: 'integer',
      description: 'Sequence number within the stratum',
      value: (r) => r.sequence_number,
    },
    {
      name: 'randomization_error',
      type: 'boolean',
      description: 'The randomization was flagged as done in error',
      value: (r) => r.randomization_error,
    },
    ...variables.map((v) => ({
      name: `baseline_${v.name}`,
      type: v.type,
      description: `${v.label ?? v.name}${v.unit ? ` (${v.unit})` : ''}${v.levels ? `; levels: ${v.levels.join(', ')}` : ''}${v.roles ? `; for ${v.roles.join(', ')}` : ''}`,
      value: (r: ExportRow) => r.baseline[v.name],
    })),
    ...FOLLOW_UP_FLAGS.map((flag) => ({
      name: `${flag}_on`,
      type: 'date',
      description:
        flag === 'excluded_from_analysis'
          ? 'Date of exclusion from analysis, when the latest analysis event is an exclusion'
          : `Date of the first ${flag} event (retracted events left out)`,
      value: (r: ExportRow) => r.flags[flag],
    })),
  ];
}

export function exportHeader(columns: Column[]): string {
  return csvLine(columns.map((c) => c.name));
}

export function exportLine(columns: Column[], row: ExportRow): string {
  return csvLine(columns.map((c) => c.value(row)));
}

export function dictionaryCsv(columns: Column[]): string {
  return (
    csvLine(['column', 'type', 'description']) + columns.map((c) => csvLine([c.name, c.type, c.description])).join('')
  );
}
