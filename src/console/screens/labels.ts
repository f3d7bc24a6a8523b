import type { Me, ParticipantStatus, Trial, VisitStatus } from '../api';
import { t } from '../i18n';

/** Labels of the contract's enumerations, each key written out so the catalogue test sees it used. */
export function participantStatusLabel(status: ParticipantStatus): string {
  switch (status) {
    case 'ineligible':
      return t('status.ineligible');
    case 'eligible':
      return t('status.eligible');
    case 'declined':
      return t('status.declined');
    case 'consented':
      return t('status.consented');
    case 'randomized':
      return t('status.randomized');
    case 'not_randomized':
      return t('status.notRandomized');
    case 'withdrawn':
      return t('status.withdrawn');
  }
}

export const PARTICIPANT_STATUSES: readonly ParticipantStatus[] = [
  'eligible',
  'ineligible',
  'consented',
  'declined',
  'randomized',
  'not_randomized',
  'withdrawn',
];

export function trialStatusLabel(status: Trial['status']): string {
  switch (status) {
    case 'setup':
      return t('trialStatus.setup');
    case 'active':
      return t('trialStatus.active');
    case 'closed':
      return t('trialStatus.closed');
  }
}

export function participantRoleLabel(role: string): string {
  return role === 'case_worker' ? t('participantRole.caseWorker') : t('participantRole.serviceUser');
}

export function roleLabel(role: Me['role']): string {
  switch (role) {
    case 'admin':
      return t('role.admin');
    case 'coordinator':
      return t('role.coordinator');
    case 'statistician':
      return t('role.statistician');
    case 'monitor':
      return t('role.monitor');
  }
}

export function visitStatusLabel(status: VisitStatus): string {
  switch (status) {
    case 'not_due':
      return t('visit.notDue');
    case 'open':
      return t('visit.open');
    case 'overdue':
      return t('visit.overdue');
    case 'completed':
      return t('visit.completed');
    case 'missed':
      return t('visit.missed');
    case 'not_expected':
      return t('visit.notExpected');
  }
}
