import type { components } from '../../generated/openapi';
import { attributes, element, textElement } from './xml-text';
import { EVENT_TYPES } from '../events/events';

/*
 * CDISC ODM 1.3.2 Snapshot of a trial, written as strings so the service can stream one subject at a time.
 * Every OID is derived from trialdesk codes (docs/interoperability.md has the full mapping). What ODM has no
 * element for (arm ratios, randomization method, visit windows, roles) travels in `Alias` elements with a
 * `trialdesk.*` context, which the ODM schema allows on every definition and which the import reads back.
 */

type TrialView = components['schemas']['Trial'];
type Site = components['schemas']['Site'];
type Measure = components['schemas']['Measure'];
type BaselineVariable = components['schemas']['BaselineVariable'];

export const ODM_NAMESPACE = 'http://www.cdisc.org/ns/odm/v1.3';
export const ALIAS = 'trialdesk';

export const OID = {
  study: (trialCode: string) => `TD.${trialCode}`,
  metaDataVersion: (version: number) => `MDV.${version}`,
  screening: 'SE.SCREENING',
  consent: 'SE.CONSENT',
  randomization: 'SE.RANDOMIZATION',
  events: 'SE.EVENTS',
  visitEvent: (visit: string) => `SE.VISIT.${visit}`,
  eligibilityForm: 'F.SCREENING',
  baselineForm: 'F.BASELINE',
  consentForm: 'F.CONSENT',
  randomizationForm: 'F.RANDOMIZATION',
  eventsForm: 'F.EVENTS',
  visitForm: (visit: string) => `F.VISIT.${visit}`,
  screeningGroup: 'IG.SCREENING',
  eligibilityGroup: 'IG.ELIGIBILITY',
  baselineGroup: 'IG.BASELINE',
  consentGroup: 'IG.CONSENT',
  randomizationGroup: 'IG.RANDOMIZATION',
  eventGroup: 'IG.EVENT',
  assessmentGroup: 'IG.ASSESSMENT',
  missedVisitGroup: 'IG.MISSED_VISIT',
  measureGroup: (measure: string) => `IG.MEASURE.${measure}`,
  criterion: (code: string) => `I.ELIG.${code}`,
  baseline: (name: string) => `I.BL.${name}`,
  measureValue: (measure: string) => `I.M.${measure}`,
  scaleItem: (measure: string, item: number) => `I.M.${measure}.ITEM${item}`,
  scaleScore: (measure: string) => `I.M.${measure}.SCORE`,
  codeList: (name: string) => `CL.${name}`,
  unit: (index: number) => `MU.${index + 1}`,
  site: (site: string) => `LOC.${site}`,
  user: (keyId: string | null) => (keyId ? `USR.${keyId}` : 'USR.SERVICE'),
} as const;

/** Fixed items of the screening, consent, randomization and assessment groups: OID, name, data type, code list. */
export const FIXED_ITEMS = {
  screening: [
    ['I.SCR.ROLE', 'role', 'text', 'ROLE'],
    ['I.SCR.SCREENED_ON', 'screenedOn', 'date', null],
    ['I.SCR.ELIGIBLE', 'eligible', 'boolean', null],
    ['I.SCR.STATUS', 'status', 'text', 'STATUS'],
  ],
  consent: [
    ['I.CONSENT.FORM', 'form', 'text', 'CONSENT_FORM'],
    ['I.CONSENT.VERSION', 'version', 'text', null],
    ['I.CONSENT.DECISION', 'decision', 'text', 'DECISION'],
    ['I.CONSENT.SIGNED_ON', 'signedOn', 'date', null],
    ['I.CONSENT.OBTAINED_BY', 'obtainedBy', 'text', null],
    ['I.CONSENT.METHOD', 'method', 'text', 'CONSENT_METHOD'],
    ['I.CONSENT.REASON', 'reason', 'text', null],
    ['I.CONSENT.WITHDRAWN_ON', 'withdrawnOn', 'date', null],
    ['I.CONSENT.WITHDRAWAL_REASON', 'withdrawalReason', 'text', null],
    ['I.CONSENT.WITHDRAWAL_SCOPE', 'withdrawalScope', 'text', 'WITHDRAWAL_SCOPE'],
  ],
  randomization: [
    ['I.RAND.ARM', 'arm', 'text', 'ARM'],
    ['I.RAND.RANDOMIZED_AT', 'randomizedAt', 'datetime', null],
    ['I.RAND.SEQUENCE', 'sequenceNumber', 'integer', null],
    ['I.RAND.STRATUM', 'stratum', 'text', null],
    ['I.RAND.ERROR', 'errorReason', 'text', null],
    ['I.RAND.ASSIGNED_ARM', 'assignedArm', 'text', 'ARM'],
    ['I.RAND.ASSIGNMENT_REASON', 'assignmentReason', 'text', null],
  ],
  event: [
    ['I.EVENT.TYPE', 'type', 'text', 'EVENT_TYPE'],
    ['I.EVENT.OCCURRED_ON', 'occurredOn', 'date', null],
    ['I.EVENT.REASON', 'reason', 'text', null],
  ],
  assessment: [
    ['I.ASMT.ASSESSED_ON', 'assessedOn', 'date', null],
    ['I.ASMT.ASSESSOR', 'assessor', 'text', null],
  ],
  missedVisit: [
    ['I.MISSED.REASON', 'reason', 'text', null],
    ['I.MISSED.RECORDED_ON', 'recordedOn', 'date', null],
  ],
} as const satisfies Record<string, readonly (readonly [string, string, string, string | null])[]>;

export const FIXED_CODE_LISTS: Record<string, string[]> = {
  ROLE: ['service_user', 'case_worker'],
  STATUS: ['ineligible', 'eligible', 'declined', 'consented', 'randomized', 'not_randomized', 'withdrawn'],
  DECISION: ['granted', 'declined'],
  CONSENT_METHOD: ['written', 'electronic', 'witnessed_verbal'],
  WITHDRAWAL_SCOPE: ['intervention', 'follow_up', 'all'],
  EVENT_TYPE: [...EVENT_TYPES],
};

/**
 * The alias on `SE.RANDOMIZATION` that marks a document written for a blinded key: its arm code list and arm
 * values are the masked labels (`Group 1`, …), so neither the definition nor the allocations may be imported.
 */
export const MASKED_ARMS = { context: 'arms', name: 'masked' } as const;

const translated = (name: string, text: string) =>
  element(name, {}, textElement('TranslatedText', { 'xml:lang': 'en' }, text));
const alias = (context: string, name: string | number | boolean) =>
  element('Alias', { Context: `${ALIAS}.${context}`, Name: String(name) });
const yesNo = (value: boolean) => (value ? 'Yes' : 'No');

/** The distinct units of the trial's variables and measures, in order of first use. */
export function unitsOf(trial: Pick<TrialView, 'baselineVariables' | 'measures'>): string[] {
  const units: string[] = [];
  for (const item of [...trial.baselineVariables, ...trial.measures])
    if (item.unit !== undefined && !units.includes(item.unit)) units.push(item.unit);
  return units;
}

export interface OdmHeader {
  fileOid: string;
  createdAt: string;
  description: string;
}

export function odmOpen(header: OdmHeader): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<ODM${attributes({
      xmlns: ODM_NAMESPACE,
      ODMVersion: '1.3.2',
      FileType: 'Snapshot',
      Granularity: 'All',
      FileOID: header.fileOid,
      CreationDateTime: header.createdAt,
      Description: header.description,
      Originator: 'trialdesk',
      SourceSystem: 'trialdesk',
    })}>\n`
  );
}

export const ODM_CLOSE = '</ODM>\n';

function rangeChecks(min: number | undefined, max: number | undefined): string[] {
  const checks: string[] = [];
  if (min !== undefined)
    checks.push(
      element('RangeCheck', { Comparator: 'GE', SoftHard: 'Hard' }, textElement('CheckValue', {}, String(min))),
    );
  if (max !== undefined)
    checks.push(
      element('RangeCheck', { Comparator: 'LE', SoftHard: 'Hard' }, textElement('CheckValue', {}, String(max))),
    );
  return checks;
}

function itemDef(options: {
  oid: string;
  name: string;
  dataType: string;
  question?: string;
  unitOid?: string;
  min?: number;
  max?: number;
  codeList?: string;
  aliases?: string[];
}): string {
  return element('ItemDef', { OID: options.oid, Name: options.name, DataType: options.dataType }, [
    options.question !== undefined ? translated('Question', options.question) : '',
    options.unitOid ? element('MeasurementUnitRef', { MeasurementUnitOID: options.unitOid }) : '',
    ...rangeChecks(options.min, options.max),
    options.codeList ? element('CodeListRef', { CodeListOID: OID.codeList(options.codeList) }) : '',
    ...(options.aliases ?? []),
  ]);
}

function codeList(name: string, dataType: string, items: { value: string; decode?: string; aliases?: string[] }[]) {
  return element(
    'CodeList',
    { OID: OID.codeList(name), Name: name, DataType: dataType },
    items.map((item) =>
      element('CodeListItem', { CodedValue: item.value }, [
        translated('Decode', item.decode ?? item.value),
        ...(item.aliases ?? []),
      ]),
    ),
  );
}

const itemRefs = (oids: string[], mandatory: (oid: string) => boolean = () => false) =>
  oids.map((oid, i) => element('ItemRef', { ItemOID: oid, OrderNumber: i + 1, Mandatory: yesNo(mandatory(oid)) }));

function measureItemOids(measure: Measure): string[] {
  if (measure.type !== 'scale') return [OID.measureValue(measure.code)];
  return [
    ...Array.from({ length: measure.items ?? 0 }, (_, i) => OID.scaleItem(measure.code, i + 1)),
    OID.scaleScore(measure.code),
  ];
}

const measureDataType: Record<Measure['type'], string> = {
  scale: 'integer',
  number: 'float',
  integer: 'integer',
  count: 'integer',
  binary: 'boolean',
  category: 'text',
};

const baselineDataType: Record<BaselineVariable['type'], string> = {
  number: 'float',
  integer: 'integer',
  category: 'text',
};

/** Which measures are assessed at a visit, in the trial's order. */
export function measuresAt(trial: Pick<TrialView, 'measures'>, visit: string): Measure[] {
  return trial.measures.filter((measure) => measure.visits.includes(visit));
}

/**
 * `Study`: global variables, units, and the one metadata version of the trial's current definition. `armsMasked`:
 * the trial's arms are the caller's masked labels, which the document says (`MASKED_ARMS`) so no import takes them
 * for arms.
 */
export function studyXml(trial: TrialView, options: { armsMasked?: boolean } = {}): string {
  const units = unitsOf(trial);
  const unitOid = (unit: string | undefined) => (unit === undefined ? undefined : OID.unit(units.indexOf(unit)));
  const globals = element('GlobalVariables', {}, [
    textElement('StudyName', {}, trial.title),
    textElement('StudyDescription', {}, trial.title),
    textElement('ProtocolName', {}, trial.registry ?? trial.code),
  ]);
  const basic = units.length
    ? element(
        'BasicDefinitions',
        {},
        units.map((unit, i) =>
          element('MeasurementUnit', { OID: OID.unit(i), Name: unit }, translated('Symbol', unit)),
        ),
      )
    : '';

  const events = [
    { oid: OID.screening, name: 'Screening', forms: [OID.eligibilityForm, OID.baselineForm], aliases: [] as string[] },
    { oid: OID.consent, name: 'Consent', forms: [OID.consentForm], aliases: [] },
    {
      oid: OID.randomization,
      name: 'Randomization',
      forms: [OID.randomizationForm],
      aliases: [
        alias('randomization', JSON.stringify(trial.randomization)),
        ...(options.armsMasked ? [alias(MASKED_ARMS.context, MASKED_ARMS.name)] : []),
      ],
    },
    { oid: OID.events, name: 'Participant events', forms: [OID.eventsForm], aliases: [] },
    ...trial.visits.map((visit) => ({
      oid: OID.visitEvent(visit.code),
      name: visit.label,
      forms: [OID.visitForm(visit.code)],
      aliases: [
        alias('visit.code', visit.code),
        alias('visit.day', visit.day),
        alias('visit.windowBefore', visit.windowBefore),
        alias('visit.windowAfter', visit.windowAfter),
        ...(trial.primaryVisit === visit.code ? [alias('visit.primary', true)] : []),
      ],
    })),
  ];
  const protocol = element(
    'Protocol',
    {},
    events.map((event, i) =>
      element('StudyEventRef', { StudyEventOID: event.oid, OrderNumber: i + 1, Mandatory: yesNo(i < 1) }),
    ),
  );
  const studyEventDefs = events.map((event) =>
    element('StudyEventDef', { OID: event.oid, Name: event.name, Repeating: 'No', Type: 'Scheduled' }, [
      ...event.forms.map((form, i) => element('FormRef', { FormOID: form, OrderNumber: i + 1, Mandatory: 'No' })),
      ...event.aliases,
    ]),
  );

  const groupRef = (oid: string, order: number, mandatory = false) =>
    element('ItemGroupRef', { ItemGroupOID: oid, OrderNumber: order, Mandatory: yesNo(mandatory) });
  const formDefs = [
    element('FormDef', { OID: OID.eligibilityForm, Name: 'Screening', Repeating: 'No' }, [
      groupRef(OID.screeningGroup, 1, true),
      groupRef(OID.eligibilityGroup, 2),
    ]),
    element('FormDef', { OID: OID.baselineForm, Name: 'Baseline', Repeating: 'No' }, groupRef(OID.baselineGroup, 1)),
    element('FormDef', { OID: OID.consentForm, Name: 'Consent', Repeating: 'No' }, groupRef(OID.consentGroup, 1)),
    element(
      'FormDef',
      { OID: OID.randomizationForm, Name: 'Randomization', Repeating: 'No' },
      groupRef(OID.randomizationGroup, 1),
    ),
    element(
      'FormDef',
      { OID: OID.eventsForm, Name: 'Participant events', Repeating: 'No' },
      groupRef(OID.eventGroup, 1),
    ),
    ...trial.visits.map((visit) =>
      element('FormDef', { OID: OID.visitForm(visit.code), Name: visit.label, Repeating: 'No' }, [
        groupRef(OID.assessmentGroup, 1),
        ...measuresAt(trial, visit.code).map((measure, i) => groupRef(OID.measureGroup(measure.code), i + 2)),
        groupRef(OID.missedVisitGroup, measuresAt(trial, visit.code).length + 2),
      ]),
    ),
  ];

  const fixedOids = (items: readonly (readonly [string, ...unknown[]])[]) => items.map(([oid]) => oid);
  const itemGroupDefs = [
    element(
      'ItemGroupDef',
      { OID: OID.screeningGroup, Name: 'Screening', Repeating: 'No' },
      itemRefs(fixedOids(FIXED_ITEMS.screening), (oid) => oid !== 'I.SCR.STATUS'),
    ),
    element(
      'ItemGroupDef',
      { OID: OID.eligibilityGroup, Name: 'Eligibility criteria', Repeating: 'No' },
      itemRefs(trial.eligibility.map((criterion) => OID.criterion(criterion.code))),
    ),
    element(
      'ItemGroupDef',
      { OID: OID.baselineGroup, Name: 'Baseline variables', Repeating: 'No' },
      itemRefs(
        trial.baselineVariables.map((variable) => OID.baseline(variable.name)),
        (oid) => trial.baselineVariables.some((v) => v.required === true && OID.baseline(v.name) === oid),
      ),
    ),
    element(
      'ItemGroupDef',
      { OID: OID.consentGroup, Name: 'Consent decision', Repeating: 'Yes' },
      itemRefs(fixedOids(FIXED_ITEMS.consent), (oid) => FIXED_ITEMS.consent.findIndex(([o]) => o === oid) < 6),
    ),
    element(
      'ItemGroupDef',
      { OID: OID.randomizationGroup, Name: 'Allocation', Repeating: 'No' },
      itemRefs(fixedOids(FIXED_ITEMS.randomization)),
    ),
    element(
      'ItemGroupDef',
      { OID: OID.eventGroup, Name: 'Participant event', Repeating: 'Yes' },
      itemRefs(fixedOids(FIXED_ITEMS.event), (oid) => oid !== 'I.EVENT.REASON'),
    ),
    element(
      'ItemGroupDef',
      { OID: OID.assessmentGroup, Name: 'Assessment', Repeating: 'No' },
      itemRefs(fixedOids(FIXED_ITEMS.assessment), (oid) => oid === 'I.ASMT.ASSESSED_ON'),
    ),
    element(
      'ItemGroupDef',
      { OID: OID.missedVisitGroup, Name: 'Visit missed', Repeating: 'No' },
      itemRefs(fixedOids(FIXED_ITEMS.missedVisit), () => true),
    ),
    ...trial.measures.map((measure) =>
      element('ItemGroupDef', { OID: OID.measureGroup(measure.code), Name: measure.label, Repeating: 'No' }, [
        ...itemRefs(measureItemOids(measure)),
        alias('measure.code', measure.code),
        alias('measure.type', measure.type),
        ...(measure.score !== undefined ? [alias('measure.score', measure.score)] : []),
        ...(measure.maxMissingItems !== undefined ? [alias('measure.maxMissingItems', measure.maxMissingItems)] : []),
        ...(measure.reverseItems?.length ? [alias('measure.reverseItems', measure.reverseItems.join(' '))] : []),
        ...(measure.primary ? [alias('measure.primary', true)] : []),
      ]),
    ),
  ];

  const fixedItemDefs = Object.values(FIXED_ITEMS).flatMap((items) =>
    items.map(([oid, name, dataType, list]) => itemDef({ oid, name, dataType, codeList: list ?? undefined })),
  );
  const criterionDefs = trial.eligibility.map((criterion) =>
    itemDef({
      oid: OID.criterion(criterion.code),
      name: criterion.code,
      dataType: 'boolean',
      question: criterion.text,
      aliases: [
        alias('criterion.kind', criterion.kind),
        ...(criterion.roles ? [alias('roles', criterion.roles.join(' '))] : []),
      ],
    }),
  );
  const baselineDefs = trial.baselineVariables.map((variable) =>
    itemDef({
      oid: OID.baseline(variable.name),
      name: variable.name,
      dataType: baselineDataType[variable.type],
      question: variable.label,
      unitOid: unitOid(variable.unit),
      min: variable.min,
      max: variable.max,
      codeList: variable.type === 'category' ? `BL.${variable.name}` : undefined,
      aliases: variable.roles ? [alias('roles', variable.roles.join(' '))] : [],
    }),
  );
  const measureDefs = trial.measures.flatMap((measure) => {
    if (measure.type === 'scale') {
      return [
        ...Array.from({ length: measure.items ?? 0 }, (_, i) =>
          itemDef({
            oid: OID.scaleItem(measure.code, i + 1),
            name: `${measure.code}_${i + 1}`,
            dataType: 'integer',
            question: `${measure.label}, item ${i + 1}`,
            min: measure.itemMin,
            max: measure.itemMax,
          }),
        ),
        itemDef({
          oid: OID.scaleScore(measure.code),
          name: `${measure.code}_score`,
          dataType: 'float',
          question: `${measure.label} (${measure.score ?? 'sum'} score, computed)`,
        }),
      ];
    }
    return [
      itemDef({
        oid: OID.measureValue(measure.code),
        name: measure.code,
        dataType: measureDataType[measure.type],
        question: measure.label,
        unitOid: unitOid(measure.unit),
        min: measure.type === 'count' ? (measure.min ?? 0) : measure.min,
        max: measure.max,
        codeList: measure.type === 'category' ? `M.${measure.code}` : undefined,
      }),
    ];
  });

  const codeLists = [
    ...Object.entries(FIXED_CODE_LISTS).map(([name, values]) =>
      codeList(
        name,
        'text',
        values.map((value) => ({ value })),
      ),
    ),
    codeList(
      'ARM',
      'text',
      trial.arms.map((arm) => ({ value: arm.code, decode: arm.name, aliases: [alias('arm.ratio', arm.ratio)] })),
    ),
    codeList(
      'CONSENT_FORM',
      'text',
      trial.consentForms.map((form) => ({
        value: `${form.code} ${form.version}`,
        decode: form.title,
        aliases: [
          alias('consentForm.code', form.code),
          alias('consentForm.version', form.version),
          alias('consentForm.required', form.required),
        ],
      })),
    ),
    ...trial.baselineVariables
      .filter((variable) => variable.type === 'category')
      .map((variable) =>
        codeList(
          `BL.${variable.name}`,
          'text',
          (variable.levels ?? []).map((value) => ({ value })),
        ),
      ),
    ...trial.measures
      .filter((measure) => measure.type === 'category')
      .map((measure) =>
        codeList(
          `M.${measure.code}`,
          'text',
          (measure.levels ?? []).map((value) => ({ value })),
        ),
      ),
    ...(trial.incentives.length
      ? [
          codeList(
            'INCENTIVE',
            'text',
            trial.incentives.map((incentive) => ({
              value: incentive.code,
              decode: incentive.description,
              aliases: [
                alias('incentive.amount', incentive.amount),
                alias('incentive.currency', incentive.currency),
                alias('roles', incentive.roles.join(' ')),
                alias('incentive.maxPerParticipant', incentive.maxPerParticipant),
                ...(incentive.occasion !== undefined ? [alias('incentive.occasion', incentive.occasion)] : []),
              ],
            })),
          ),
        ]
      : []),
  ].filter((list) => list.includes('<CodeListItem'));

  const metaDataVersion = element(
    'MetaDataVersion',
    { OID: OID.metaDataVersion(trial.version), Name: `${trial.code} version ${trial.version}` },
    [
      protocol,
      ...studyEventDefs,
      ...formDefs,
      ...itemGroupDefs,
      ...fixedItemDefs,
      ...criterionDefs,
      ...baselineDefs,
      ...measureDefs,
      ...codeLists,
    ],
  );
  return element('Study', { OID: OID.study(trial.code) }, [globals, basic, metaDataVersion]) + '\n';
}

export interface OdmUser {
  keyId: string | null;
  name: string;
  prefix: string | null;
  role: string;
}

/** `AdminData`: API keys as users, sites as locations. */
export function adminDataXml(trial: TrialView, users: OdmUser[], sites: Site[], effectiveDate: string): string {
  const studyOid = OID.study(trial.code);
  const userXml = users.map((user) =>
    element('User', { OID: OID.user(user.keyId), UserType: 'Other' }, [
      user.prefix ? textElement('LoginName', {}, user.prefix) : '',
      textElement('DisplayName', {}, user.name),
      textElement('Organization', {}, user.role),
    ]),
  );
  const locationXml = sites.map((site) =>
    element(
      'Location',
      { OID: OID.site(site.code), Name: site.name, LocationType: 'Site' },
      element('MetaDataVersionRef', {
        StudyOID: studyOid,
        MetaDataVersionOID: OID.metaDataVersion(trial.version),
        EffectiveDate: effectiveDate,
      }),
    ),
  );
  return element('AdminData', { StudyOID: studyOid }, [...userXml, ...locationXml]) + '\n';
}

export const clinicalDataOpen = (trial: TrialView) =>
  `<ClinicalData${attributes({ StudyOID: OID.study(trial.code), MetaDataVersionOID: OID.metaDataVersion(trial.version) })}>\n`;
export const CLINICAL_DATA_CLOSE = '</ClinicalData>\n';

/** Who changed a value last, when and why (from the trial's audit trail). */
export interface AuditFact {
  keyId: string | null;
  at: string;
  reason: string | null;
  action: string;
}

export interface OdmConsent {
  consentId: string;
  form: string;
  version: string;
  decision: string;
  signedOn: string;
  obtainedBy: string;
  method: string;
  reason: string | null;
  withdrawal: { withdrawnOn: string; reason: string; scope: string } | null;
}

export interface OdmAssessment {
  assessmentId: string;
  visit: string;
  assessedOn: string;
  assessor: string | null;
  values: Record<string, unknown>;
  scores: Record<string, { score?: unknown } | null>;
}

/** One participant as ODM needs it; arms already labelled for the caller. */
export interface OdmSubject {
  participantId: string;
  label: string;
  siteCode: string;
  role: string;
  status: string;
  screenedOn: string;
  eligible: boolean;
  eligibility: Record<string, boolean>;
  baseline: Record<string, unknown>;
  consents: OdmConsent[];
  allocation: {
    allocationId: string;
    arm: string;
    randomizedAt: string;
    sequenceNumber: number;
    stratum: Record<string, string>;
    errorReason: string | null;
  } | null;
  assignedArm: string | null;
  assignmentReason: string | null;
  /** Missed visits that stand (not retracted). */
  missedVisits: { missedVisitId: string; visit: string; reason: string; recordedOn: string }[];
  /** Follow-up events that stand (not retracted), in the order they occurred. */
  events: { eventId: string; type: string; occurredOn: string; reason: string | null }[];
  assessments: OdmAssessment[];
  /** By entity id (participant, consent, allocation's participant, assessment); present with `?audit=true`. */
  audit: Map<string, AuditFact> | null;
}

function odmValue(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : null;
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** `SubjectData` of one participant: screening, consent, randomization and every assessed visit. */
export function subjectXml(trial: TrialView, subject: OdmSubject): string {
  const location = OID.site(subject.siteCode);
  const auditRecord = (entityId: string) => {
    const fact = subject.audit?.get(entityId);
    if (!fact) return '';
    return element('AuditRecord', { EditPoint: 'DBAudit', UsedImputationMethod: 'No' }, [
      element('UserRef', { UserOID: OID.user(fact.keyId) }),
      element('LocationRef', { LocationOID: location }),
      textElement('DateTimeStamp', {}, fact.at),
      fact.reason ? textElement('ReasonForChange', {}, fact.reason) : '',
      textElement('SourceID', {}, `${fact.action} ${entityId}`),
    ]);
  };
  const itemData = (oid: string, value: unknown, entityId: string) => {
    const text = odmValue(value);
    return text === null ? '' : element('ItemData', { ItemOID: oid, Value: text }, auditRecord(entityId));
  };
  const group = (oid: string, items: string[], repeatKey?: number) =>
    items.some((item) => item !== '')
      ? element('ItemGroupData', { ItemGroupOID: oid, ItemGroupRepeatKey: repeatKey }, items)
      : '';
  const form = (oid: string, groups: string[]) =>
    groups.some((g) => g !== '') ? element('FormData', { FormOID: oid }, groups) : '';
  const event = (oid: string, forms: string[]) =>
    forms.some((f) => f !== '')
      ? element('StudyEventData', { StudyEventOID: oid, StudyEventRepeatKey: '1' }, forms)
      : '';

  const pid = subject.participantId;
  const screening = event(OID.screening, [
    form(OID.eligibilityForm, [
      group(OID.screeningGroup, [
        itemData('I.SCR.ROLE', subject.role, pid),
        itemData('I.SCR.SCREENED_ON', subject.screenedOn, pid),
        itemData('I.SCR.ELIGIBLE', subject.eligible, pid),
        itemData('I.SCR.STATUS', subject.status, pid),
      ]),
      group(
        OID.eligibilityGroup,
        trial.eligibility.map((c) => itemData(OID.criterion(c.code), subject.eligibility[c.code], pid)),
      ),
    ]),
    form(OID.baselineForm, [
      group(
        OID.baselineGroup,
        trial.baselineVariables.map((v) => itemData(OID.baseline(v.name), subject.baseline[v.name], pid)),
      ),
    ]),
  ]);

  const consent = event(OID.consent, [
    form(
      OID.consentForm,
      subject.consents.map((c, i) =>
        group(
          OID.consentGroup,
          [
            itemData('I.CONSENT.FORM', `${c.form} ${c.version}`, c.consentId),
            itemData('I.CONSENT.VERSION', c.version, c.consentId),
            itemData('I.CONSENT.DECISION', c.decision, c.consentId),
            itemData('I.CONSENT.SIGNED_ON', c.signedOn, c.consentId),
            itemData('I.CONSENT.OBTAINED_BY', c.obtainedBy, c.consentId),
            itemData('I.CONSENT.METHOD', c.method, c.consentId),
            itemData('I.CONSENT.REASON', c.reason, c.consentId),
            itemData('I.CONSENT.WITHDRAWN_ON', c.withdrawal?.withdrawnOn, c.consentId),
            itemData('I.CONSENT.WITHDRAWAL_REASON', c.withdrawal?.reason, c.consentId),
            itemData('I.CONSENT.WITHDRAWAL_SCOPE', c.withdrawal?.scope, c.consentId),
          ],
          i + 1,
        ),
      ),
    ),
  ]);

  const a = subject.allocation;
  const randomization = event(OID.randomization, [
    form(OID.randomizationForm, [
      group(OID.randomizationGroup, [
        itemData('I.RAND.ARM', a?.arm, pid),
        itemData('I.RAND.RANDOMIZED_AT', a?.randomizedAt, pid),
        itemData('I.RAND.SEQUENCE', a?.sequenceNumber, pid),
        itemData('I.RAND.STRATUM', a && Object.keys(a.stratum).length ? JSON.stringify(a.stratum) : null, pid),
        itemData('I.RAND.ERROR', a?.errorReason, pid),
        itemData('I.RAND.ASSIGNED_ARM', subject.assignedArm, pid),
        itemData('I.RAND.ASSIGNMENT_REASON', subject.assignedArm ? subject.assignmentReason : null, pid),
      ]),
    ]),
  ]);

  const events = event(OID.events, [
    form(
      OID.eventsForm,
      subject.events.map((e, i) =>
        group(
          OID.eventGroup,
          [
            itemData('I.EVENT.TYPE', e.type, e.eventId),
            itemData('I.EVENT.OCCURRED_ON', e.occurredOn, e.eventId),
            itemData('I.EVENT.REASON', e.reason, e.eventId),
          ],
          i + 1,
        ),
      ),
    ),
  ]);

  const byVisit = new Map(subject.assessments.map((assessment) => [assessment.visit, assessment]));
  const missedByVisit = new Map(subject.missedVisits.map((missed) => [missed.visit, missed]));
  const visits = trial.visits.map((visit) => {
    const assessment = byVisit.get(visit.code);
    const missed = missedByVisit.get(visit.code);
    const missedGroup = missed
      ? group(OID.missedVisitGroup, [
          itemData('I.MISSED.REASON', missed.reason, missed.missedVisitId),
          itemData('I.MISSED.RECORDED_ON', missed.recordedOn, missed.missedVisitId),
        ])
      : '';
    if (!assessment)
      return missed ? event(OID.visitEvent(visit.code), [form(OID.visitForm(visit.code), [missedGroup])]) : '';
    const id = assessment.assessmentId;
    const measureGroups = measuresAt(trial, visit.code).map((measure) => {
      const value = assessment.values[measure.code];
      if (measure.type !== 'scale')
        return group(OID.measureGroup(measure.code), [itemData(OID.measureValue(measure.code), value, id)]);
      const answers = (value as { items?: unknown[] } | null | undefined)?.items ?? [];
      return group(OID.measureGroup(measure.code), [
        ...answers.map((answer, i) => itemData(OID.scaleItem(measure.code, i + 1), answer, id)),
        itemData(OID.scaleScore(measure.code), assessment.scores[measure.code]?.score, id),
      ]);
    });
    return event(OID.visitEvent(visit.code), [
      form(OID.visitForm(visit.code), [
        group(OID.assessmentGroup, [
          itemData('I.ASMT.ASSESSED_ON', assessment.assessedOn, id),
          itemData('I.ASMT.ASSESSOR', assessment.assessor, id),
        ]),
        ...measureGroups,
        missedGroup,
      ]),
    ]);
  });

  return (
    element('SubjectData', { SubjectKey: subject.label }, [
      element('SiteRef', { LocationOID: location }),
      screening,
      consent,
      randomization,
      events,
      ...visits,
    ]) + '\n'
  );
}
