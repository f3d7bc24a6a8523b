import { createHash } from 'node:crypto';
import type {
  Bundle,
  BundleEntry,
  Consent,
  Group,
  Location,
  Organization,
  Patient,
  Reference,
  ResearchStudy,
  ResearchSubject,
  Resource,
} from '@medplum/fhirtypes';
import type { components } from '../../generated/openapi';

/*
 * A trial as a FHIR R4 Bundle of type `collection`. Participants are pseudonymous and trialdesk keeps no
 * Patient, so ResearchSubject.individual and Consent.patient are logical references (an identifier: the
 * participant's label within the trial). Every resource gets a UUID (participants and consents their own;
 * sites and arms one derived from the trial and their code), so references use `urn:uuid:` full URLs.
 */

type TrialView = components['schemas']['Trial'];

export const FHIR_SYSTEM = {
  trial: 'urn:trialdesk:trial',
  registry: 'urn:trialdesk:registry',
  participant: (trialCode: string) => `urn:trialdesk:trial:${trialCode}:participant`,
  site: 'urn:trialdesk:site',
  arm: 'urn:trialdesk:arm',
  consentPolicy: (form: string, version: string) =>
    `urn:trialdesk:consent-form:${encodeURIComponent(form)}:${encodeURIComponent(version)}`,
} as const;

/** trialdesk participant status → R4 ResearchSubject.status (value set research-subject-status). */
export const RESEARCH_SUBJECT_STATUS: Record<string, ResearchSubject['status']> = {
  ineligible: 'ineligible',
  eligible: 'eligible',
  declined: 'not-registered',
  consented: 'pending-on-study',
  not_randomized: 'not-registered',
  randomized: 'on-study',
  withdrawn: 'withdrawn',
};

/** trialdesk trial status → R4 ResearchStudy.status (value set research-study-status). */
export const RESEARCH_STUDY_STATUS: Record<TrialView['status'], ResearchStudy['status']> = {
  setup: 'in-review',
  active: 'active',
  closed: 'completed',
};

/** A stable UUID for something that has a code, not an id (an arm or a site of a trial). */
export function derivedUuid(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  // RFC 9562 layout: version 8 (custom), variant 10.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export interface FhirConsent {
  consentId: string;
  form: string;
  version: string;
  decision: string;
  signedOn: string;
  recordedAt: string;
  withdrawal: { withdrawnOn: string; reason: string; scope: string } | null;
}

/** One participant as the bundle needs it; arms already labelled for the caller. */
export interface FhirSubject {
  participantId: string;
  label: string;
  siteCode: string;
  status: string;
  screenedOn: string;
  consents: FhirConsent[];
  /** The allocated arm (service users) or the assigned arm (case workers), labelled. */
  arm: string | null;
  randomizedOn: string | null;
}

const urn = (id: string) => `urn:uuid:${id}`;
const ref = <T extends Resource>(id: string, display?: string): Reference<T> => ({
  reference: urn(id),
  ...(display ? { display } : {}),
});

export interface FhirStudy {
  trial: TrialView;
  exportedAt: string;
}

export function siteIds(trial: TrialView, code: string) {
  return {
    organization: derivedUuid(trial.id, 'organization', code),
    location: derivedUuid(trial.id, 'location', code),
  };
}

export function armGroupId(trial: TrialView, armLabel: string): string {
  return derivedUuid(trial.id, 'arm', armLabel);
}

/** The study-level resources: ResearchStudy, an Organization and a Location per site, a Group per arm. */
export function studyEntries(trial: TrialView, armCounts: Map<string, number>): BundleEntry[] {
  const organizations: Organization[] = trial.sites.map((site) => ({
    resourceType: 'Organization',
    id: siteIds(trial, site.code).organization,
    identifier: [{ system: FHIR_SYSTEM.site, value: site.code }],
    active: true,
    name: site.name,
  }));
  const locations: Location[] = trial.sites.map((site) => ({
    resourceType: 'Location',
    id: siteIds(trial, site.code).location,
    identifier: [{ system: FHIR_SYSTEM.site, value: site.code }],
    status: 'active',
    name: site.name,
    managingOrganization: ref(siteIds(trial, site.code).organization, site.name),
  }));
  const groups: Group[] = trial.arms.map((arm) => ({
    resourceType: 'Group',
    id: armGroupId(trial, arm.code),
    identifier: [{ system: FHIR_SYSTEM.arm, value: arm.code }],
    type: 'person',
    actual: true,
    name: arm.name,
    quantity: armCounts.get(arm.code) ?? 0,
  }));
  const study: ResearchStudy = {
    resourceType: 'ResearchStudy',
    id: trial.id,
    identifier: [
      { system: FHIR_SYSTEM.trial, value: trial.code },
      ...(trial.registry ? [{ system: FHIR_SYSTEM.registry, value: trial.registry }] : []),
    ],
    title: trial.title,
    status: RESEARCH_STUDY_STATUS[trial.status],
    ...(trial.activatedAt
      ? { period: { start: trial.activatedAt, ...(trial.closedAt ? { end: trial.closedAt } : {}) } }
      : {}),
    site: trial.sites.map((site) => ref(siteIds(trial, site.code).location, site.name)),
    arm: trial.arms.map((arm) => ({
      name: arm.code,
      description: arm.name,
      type: { text: `ratio ${arm.ratio}` },
    })),
  };
  return [study, ...organizations, ...locations, ...groups].map(entry);
}

function entry(resource: Resource & { id?: string }): BundleEntry {
  return { fullUrl: urn(resource.id!), resource };
}

/** FHIR Consent.status from a decision and its withdrawal. */
export function consentStatus(consent: Pick<FhirConsent, 'decision' | 'withdrawal'>): Consent['status'] {
  if (consent.decision === 'declined') return 'rejected';
  return consent.withdrawal ? 'inactive' : 'active';
}

/** The ResearchSubject of a participant and a Consent per consent decision. */
export function subjectEntries(trial: TrialView, subject: FhirSubject): BundleEntry[] {
  const individual: Reference<Patient> = {
    identifier: { system: FHIR_SYSTEM.participant(trial.code), value: subject.label },
    display: subject.label,
  };
  const consents: Consent[] = subject.consents.map((consent) => ({
    resourceType: 'Consent',
    id: consent.consentId,
    status: consentStatus(consent),
    scope: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'research', display: 'Research' }],
    },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }] }],
    patient: individual,
    dateTime: consent.signedOn,
    organization: [ref(siteIds(trial, subject.siteCode).organization)],
    policy: [{ uri: FHIR_SYSTEM.consentPolicy(consent.form, consent.version) }],
    provision: {
      type: consent.decision === 'granted' ? 'permit' : 'deny',
      period: {
        start: consent.signedOn,
        ...(consent.withdrawal ? { end: consent.withdrawal.withdrawnOn } : {}),
      },
    },
  }));
  const requiredForms = new Set(trial.consentForms.filter((form) => form.required).map((form) => form.code));
  const basis = [...subject.consents]
    .reverse()
    .find((consent) => requiredForms.has(consent.form) && consent.decision === 'granted');
  const withdrawnOn = subject.consents
    .map((consent) => consent.withdrawal?.withdrawnOn)
    .filter((date): date is string => date !== undefined)
    .sort()[0];
  const researchSubject: ResearchSubject = {
    resourceType: 'ResearchSubject',
    id: subject.participantId,
    identifier: [{ system: FHIR_SYSTEM.participant(trial.code), value: subject.label }],
    status: RESEARCH_SUBJECT_STATUS[subject.status] ?? 'candidate',
    period: { start: subject.screenedOn, ...(withdrawnOn ? { end: withdrawnOn } : {}) },
    study: ref(trial.id, trial.title),
    individual,
    ...(subject.arm ? { assignedArm: subject.arm, actualArm: subject.arm } : {}),
    ...(basis ? { consent: ref(basis.consentId) } : {}),
  };
  return [researchSubject, ...consents].map(entry);
}

export function bundleOf(trial: TrialView, exportedAt: string, entries: BundleEntry[]): Bundle {
  return {
    resourceType: 'Bundle',
    id: derivedUuid(trial.id, 'bundle', exportedAt),
    identifier: { system: FHIR_SYSTEM.trial, value: trial.code },
    type: 'collection',
    timestamp: exportedAt,
    entry: entries,
  };
}
