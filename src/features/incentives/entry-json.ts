import type { components } from '../../generated/openapi';
import { fromMinorUnits } from '../trials/trials';

type IncentiveEntry = components['schemas']['IncentiveEntry'];

/*
 * How a ledger entry reads as JSON, built in SQL: published for read models that embed entries (the
 * participant view). Writing the ledger stays with incentives.repo.ts.
 */

export function entryJsonSql(alias = 'l'): string {
  return `json_build_object('id', ${alias}.entry_id, 'participantId', ${alias}.participant_id,
      'siteCode', (SELECT p.site_code FROM participants p WHERE p.trial_id = ${alias}.trial_id AND p.participant_id = ${alias}.participant_id),
      'incentive', ${alias}.incentive_code, 'kind', ${alias}.kind, 'amountMinor', ${alias}.amount_minor, 'currency', ${alias}.currency,
      'issuedOn', ${alias}.issued_on, 'reference', ${alias}.reference, 'note', ${alias}.note,
      'voided', EXISTS (SELECT 1 FROM incentive_ledger v WHERE v.trial_id = ${alias}.trial_id AND v.voids_entry_id = ${alias}.entry_id),
      'voids', ${alias}.voids_entry_id, 'reason', ${alias}.reason, 'recordedAt', ${alias}.recorded_at)`;
}

export type EntryJson = Omit<IncentiveEntry, 'amount'> & { amountMinor: number };

export function toEntryView(json: EntryJson): IncentiveEntry {
  const { amountMinor, ...rest } = json;
  return {
    ...rest,
    amount: fromMinorUnits(Number(amountMinor), json.currency),
    recordedAt: new Date(json.recordedAt).toISOString(),
  };
}
