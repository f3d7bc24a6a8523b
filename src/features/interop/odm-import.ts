import { XMLParser } from 'fast-xml-parser';
import type { components } from '../../generated/openapi';
import { ValidationError } from '../../core/errors';
import { ALIAS, FIXED_CODE_LISTS as FIXED_LEVELS, FIXED_ITEMS, MASKED_ARMS, OID } from './odm-export';

/*
 * Reads the study definition of an ODM 1.3.2 document back into a trial configuration. Documents trialdesk
 * wrote come back whole (their `trialdesk.*` aliases carry what ODM has no element for); other documents
 * are mapped as far as ODM allows, with defaults named in docs/interoperability.md, and every element that
 * did not become part of the trial is reported.
 */

type TrialInput = components['schemas']['TrialInput'];
type Configuration = Omit<TrialInput, 'code'>;
type BaselineVariable = components['schemas']['BaselineVariable'];
type Measure = components['schemas']['Measure'];
type Visit = components['schemas']['Visit'];

export interface UnmappedElement {
  path: string;
  reason: string;
}

export type Node = { [key: string]: Node[] | string | undefined } & { '#text'?: string };

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: true,
  // Decodes character references (`&#10;`, `&#x1F600;`), which the export writes for tabs and line ends.
  htmlEntities: true,
  isArray: (_name, _path, _leaf, isAttribute) => !isAttribute,
});

export const children = (node: Node | undefined, name: string): Node[] => {
  const value = node?.[name];
  return Array.isArray(value) ? value : [];
};
export const child = (node: Node | undefined, name: string): Node | undefined => children(node, name)[0];
export const attr = (node: Node | undefined, name: string): string | undefined => {
  const value = node?.[`@${name}`];
  return typeof value === 'string' ? value : undefined;
};
const text = (node: Node | string | undefined): string | undefined => {
  if (node === undefined) return undefined;
  if (typeof node === 'string') return node;
  return typeof node['#text'] === 'string' ? node['#text'] : undefined;
};
/** The first TranslatedText of a Question, Decode or Symbol (English preferred). */
const translated = (node: Node | undefined): string | undefined => {
  const texts = children(node, 'TranslatedText');
  const english = texts.find((t) => (attr(t, 'lang') ?? 'en').startsWith('en'));
  return text(english ?? texts[0]);
};
const aliasOf = (node: Node | undefined, context: string): string | undefined =>
  attr(
    children(node, 'Alias').find((a) => attr(a, 'Context') === `${ALIAS}.${context}`),
    'Name',
  );
const numberOr = (value: string | undefined, fallback: number): number => {
  const parsed = value === undefined ? NaN : Number(value);
  return Number.isFinite(parsed) ? parsed : fallback;
};

/** A trialdesk code (`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`) made from an ODM name or OID. */
export function toCode(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[^A-Za-z0-9]+/, '');
  return (cleaned || 'x').slice(0, 64);
}

/** A baseline variable name (`^[A-Za-z][A-Za-z0-9_]{0,63}$`). */
export function toVariableName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_]/g, '_').replace(/^[^A-Za-z]+/, '');
  return (cleaned || 'v').slice(0, 64);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');

/** The shape the use case relies on (the contract's schema is not applied to what the import builds). */
function isRandomization(value: unknown): value is Configuration['randomization'] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const r = value as Record<string, unknown>;
  if ('seed' in r) return false;
  if (r.stratifyBy !== undefined && !isStringArray(r.stratifyBy)) return false;
  switch (r.method) {
    case 'simple':
    case 'list':
      return true;
    case 'permuted_block':
      return Array.isArray(r.blockSizes) && r.blockSizes.length > 0 && r.blockSizes.every(Number.isInteger);
    case 'minimization':
      return isStringArray(r.factors) && r.factors.length > 0;
    default:
      return false;
  }
}

const clip = (value: string, max: number) => [...value].slice(0, max).join('');

const MAPPED_METADATA = new Set([
  'Protocol',
  'StudyEventDef',
  'FormDef',
  'ItemGroupDef',
  'ItemDef',
  'CodeList',
  '#text',
  '@OID',
  '@Name',
  '@Description',
]);
const MEASURE_TYPES: Measure['type'][] = ['scale', 'number', 'integer', 'count', 'binary', 'category'];
const FIXED_ITEM_OIDS = new Set(Object.values(FIXED_ITEMS).flatMap((items) => items.map(([oid]) => oid)));
const FIXED_CODE_LISTS = new Set(Object.keys(FIXED_LEVELS).map(OID.codeList));
const FIXED_GROUPS = new Set<string>([
  OID.screeningGroup,
  OID.consentGroup,
  OID.randomizationGroup,
  OID.assessmentGroup,
  OID.missedVisitGroup,
  OID.eventGroup,
]);
const FIXED_EVENTS = new Set<string>([OID.screening, OID.consent, OID.randomization, OID.events]);

/**
 * A blinded key's export names masked labels where the arms would be (`MASKED_ARMS` on `SE.RANDOMIZATION`): they are
 * not the trial's arms, so neither its definition nor its allocations are imported.
 */
export function refuseMaskedArms(metaDataVersion: Node): void {
  const randomization = children(metaDataVersion, 'StudyEventDef').find((e) => attr(e, 'OID') === OID.randomization);
  if (aliasOf(randomization, MASKED_ARMS.context) === MASKED_ARMS.name)
    throw new ValidationError([
      {
        pointer: '',
        detail:
          'the document was exported for a blinded key: its arms are masked labels (Group 1, …), not the ' +
          "trial's arms, so neither the definition nor the allocations can be imported; export with an unblinded key",
      },
    ]);
}

/** The parsed document (refused when it declares a DOCTYPE or is not well-formed XML). */
export function parseOdmDocument(document: string): Node {
  // Entity declarations are how XML bombs expand; an ODM file never needs a DOCTYPE.
  if (/<!DOCTYPE/i.test(document))
    throw new ValidationError([{ pointer: '', detail: 'a document type declaration (<!DOCTYPE>) is not accepted' }]);
  try {
    return parser.parse(document, true) as Node;
  } catch (error) {
    throw new ValidationError([{ pointer: '', detail: `not well-formed XML: ${(error as Error).message}` }]);
  }
}

export interface OdmStudy {
  studyOid: string;
  metaDataVersionOid: string;
  configuration: Configuration;
  unmapped: UnmappedElement[];
}

export function parseOdmStudy(document: string): OdmStudy {
  return studyOf(parseOdmDocument(document));
}

/** The study definition of a parsed document: its first `Study` and that study's first `MetaDataVersion`. */
export function studyOf(root: Node): OdmStudy {
  const odm = child(root, 'ODM');
  const study = child(odm, 'Study');
  const mdv = child(study, 'MetaDataVersion');
  if (!odm || !study || !mdv)
    throw new ValidationError([{ pointer: '', detail: 'the document has no ODM/Study/MetaDataVersion to import' }]);

  const unmapped: UnmappedElement[] = [];
  const studyPath = `/ODM/Study[@OID="${attr(study, 'OID') ?? ''}"]`;
  const mdvPath = `${studyPath}/MetaDataVersion[@OID="${attr(mdv, 'OID') ?? ''}"]`;
  const skip = (path: string, reason: string) => unmapped.push({ path, reason });

  for (const name of Object.keys(odm)) {
    if (name === 'Study' || name.startsWith('@') || name === '#text') continue;
    for (const _ of children(odm, name)) skip(`/ODM/${name}`, 'only the study definition is imported');
  }
  children(odm, 'Study')
    .slice(1)
    .forEach((other) => skip(`/ODM/Study[@OID="${attr(other, 'OID')}"]`, 'only the first Study is imported'));
  children(study, 'MetaDataVersion')
    .slice(1)
    .forEach((other) =>
      skip(`${studyPath}/MetaDataVersion[@OID="${attr(other, 'OID')}"]`, 'only the first MetaDataVersion is imported'),
    );
  for (const name of Object.keys(mdv)) {
    if (MAPPED_METADATA.has(name) || name.startsWith('@')) continue;
    for (const node of children(mdv, name))
      skip(
        `${mdvPath}/${name}${attr(node, 'OID') ? `[@OID="${attr(node, 'OID')}"]` : ''}`,
        'trialdesk has no counterpart',
      );
  }

  const byOid = (name: string) => new Map(children(mdv, name).map((node) => [attr(node, 'OID') ?? '', node]));
  const events = byOid('StudyEventDef');
  const forms = byOid('FormDef');
  const groups = byOid('ItemGroupDef');
  const items = byOid('ItemDef');
  const codeLists = byOid('CodeList');
  refuseMaskedArms(mdv);
  const units = new Map(
    children(child(study, 'BasicDefinitions'), 'MeasurementUnit').map((u) => [attr(u, 'OID') ?? '', attr(u, 'Name')]),
  );
  const used = {
    events: new Set<string>(),
    forms: new Set<string>(),
    groups: new Set<string>(),
    items: new Set<string>(),
  };
  const usedLists = new Set<string>(FIXED_CODE_LISTS);
  const usedUnits = new Set<string>();

  const itemRefs = (group: Node | undefined) => children(group, 'ItemRef');
  const levelsOf = (item: Node | undefined): string[] | undefined => {
    const listOid = attr(child(item, 'CodeListRef'), 'CodeListOID');
    if (!listOid) return undefined;
    usedLists.add(listOid);
    const list = codeLists.get(listOid);
    return children(list, 'CodeListItem')
      .map((entry) => attr(entry, 'CodedValue'))
      .concat(children(list, 'EnumeratedItem').map((entry) => attr(entry, 'CodedValue')))
      .filter((value): value is string => value !== undefined)
      .map((value) => clip(value, 100));
  };
  const unitOf = (item: Node | undefined): string | undefined => {
    const unitOid = attr(child(item, 'MeasurementUnitRef'), 'MeasurementUnitOID');
    if (!unitOid) return undefined;
    usedUnits.add(unitOid);
    const name = units.get(unitOid);
    return name === undefined ? undefined : clip(name, 32);
  };
  const rangeOf = (item: Node | undefined, path: string): { min?: number; max?: number } => {
    const range: { min?: number; max?: number } = {};
    for (const check of children(item, 'RangeCheck')) {
      const comparator = attr(check, 'Comparator');
      const value = Number(text(child(check, 'CheckValue')));
      if (comparator === 'GE' && Number.isFinite(value)) range.min = value;
      else if (comparator === 'LE' && Number.isFinite(value)) range.max = value;
      else skip(`${path}/RangeCheck[@Comparator="${comparator}"]`, 'only GE and LE range checks with a number map');
    }
    return range;
  };
  const rolesOf = (node: Node | undefined) => {
    const roles = aliasOf(node, 'roles')
      ?.split(' ')
      .filter((r): r is 'service_user' | 'case_worker' => r === 'service_user' || r === 'case_worker');
    return roles?.length ? { roles: [...new Set(roles)] } : {};
  };
  const itemPath = (oid: string) => `${mdvPath}/ItemDef[@OID="${oid}"]`;

  // Title and registry.
  const globals = child(study, 'GlobalVariables');
  const studyCode = (attr(study, 'OID') ?? '').replace(/^TD\./, '');
  const title =
    text(child(globals, 'StudyName')) || text(child(globals, 'StudyDescription')) || studyCode || 'Imported study';
  const protocolName = text(child(globals, 'ProtocolName'));
  const registry = protocolName && protocolName !== studyCode ? clip(protocolName, 100) : null;

  // Arms.
  const armList = codeLists.get(OID.codeList('ARM'));
  if (!armList)
    throw new ValidationError([
      { pointer: '', detail: `the study has no arm code list (CodeList OID="${OID.codeList('ARM')}")` },
    ]);
  usedLists.add(OID.codeList('ARM'));
  const arms = children(armList, 'CodeListItem').map((entry) => ({
    code: toCode(attr(entry, 'CodedValue') ?? ''),
    name: clip(translated(child(entry, 'Decode')) ?? attr(entry, 'CodedValue') ?? 'arm', 200),
    ratio: numberOr(aliasOf(entry, 'arm.ratio'), 1),
  }));

  // Randomization.
  const randomizationEvent = events.get(OID.randomization);
  let randomization: Configuration['randomization'] = { method: 'simple' };
  const randomizationAlias = aliasOf(randomizationEvent, 'randomization');
  if (randomizationAlias) {
    const parsed = parseJson(randomizationAlias);
    if (isRandomization(parsed)) randomization = parsed;
    else
      skip(
        `${mdvPath}/StudyEventDef[@OID="${OID.randomization}"]/Alias`,
        'not a randomization trialdesk knows; simple randomization used',
      );
  }

  // Eligibility criteria and baseline variables.
  const eligibilityGroup = groups.get(OID.eligibilityGroup);
  const eligibility = itemRefs(eligibilityGroup).flatMap((ref) => {
    const oid = attr(ref, 'ItemOID') ?? '';
    const item = items.get(oid);
    if (!item) return [];
    used.items.add(oid);
    const kind = aliasOf(item, 'criterion.kind') === 'exclusion' ? ('exclusion' as const) : ('inclusion' as const);
    return [
      {
        code: toCode(attr(item, 'Name') ?? oid),
        kind,
        text: clip(translated(child(item, 'Question')) ?? attr(item, 'Name') ?? oid, 1000),
        ...rolesOf(item),
      },
    ];
  });

  const baselineVariables: BaselineVariable[] = itemRefs(groups.get(OID.baselineGroup)).flatMap((ref) => {
    const oid = attr(ref, 'ItemOID') ?? '';
    const item = items.get(oid);
    if (!item) return [];
    const dataType = attr(item, 'DataType');
    const levels = levelsOf(item);
    const type = levels
      ? 'category'
      : dataType === 'integer'
        ? 'integer'
        : dataType === 'float' || dataType === 'double'
          ? 'number'
          : null;
    if (!type) {
      skip(itemPath(oid), `data type ${dataType} has no baseline variable type`);
      used.items.add(oid);
      return [];
    }
    used.items.add(oid);
    const label = translated(child(item, 'Question'));
    const unit = type === 'category' ? undefined : unitOf(item);
    const range = type === 'category' ? {} : rangeOf(item, itemPath(oid));
    return [
      {
        name: toVariableName(attr(item, 'Name') ?? oid),
        ...(label !== undefined ? { label: clip(label, 200) } : {}),
        type,
        ...(unit !== undefined ? { unit } : {}),
        ...range,
        ...(levels ? { levels } : {}),
        ...rolesOf(item),
        ...(attr(ref, 'Mandatory') === 'Yes' ? { required: true } : {}),
      } as BaselineVariable,
    ];
  });

  // Consent forms and incentives.
  const consentList = codeLists.get(OID.codeList('CONSENT_FORM'));
  if (consentList) usedLists.add(OID.codeList('CONSENT_FORM'));
  const consentForms = children(consentList, 'CodeListItem').map((entry) => {
    const value = attr(entry, 'CodedValue') ?? '';
    const decode = translated(child(entry, 'Decode'));
    const [codePart, ...versionParts] = value.split(' ');
    return {
      code: toCode(aliasOf(entry, 'consentForm.code') ?? codePart ?? value),
      version: clip(aliasOf(entry, 'consentForm.version') ?? (versionParts.join(' ') || '1'), 32),
      required: aliasOf(entry, 'consentForm.required') !== 'false',
      ...(decode !== undefined && decode !== value ? { title: clip(decode, 200) } : {}),
    };
  });
  const incentiveList = codeLists.get(OID.codeList('INCENTIVE'));
  if (incentiveList) usedLists.add(OID.codeList('INCENTIVE'));
  const incentives = children(incentiveList, 'CodeListItem').map((entry) => {
    const occasion = aliasOf(entry, 'incentive.occasion');
    return {
      code: toCode(attr(entry, 'CodedValue') ?? ''),
      description: clip(translated(child(entry, 'Decode')) ?? attr(entry, 'CodedValue') ?? 'incentive', 500),
      amount: numberOr(aliasOf(entry, 'incentive.amount'), 1),
      currency: aliasOf(entry, 'incentive.currency') ?? 'USD',
      roles: rolesOf(entry).roles ?? ['service_user'],
      maxPerParticipant: numberOr(aliasOf(entry, 'incentive.maxPerParticipant'), 1),
      ...(occasion !== undefined ? { occasion } : {}),
    };
  });

  // The fixed trialdesk structure is mapped by construction.
  for (const oid of FIXED_EVENTS) if (events.has(oid)) used.events.add(oid);
  for (const oid of [OID.eligibilityForm, OID.baselineForm, OID.consentForm, OID.randomizationForm, OID.eventsForm])
    used.forms.add(oid);
  for (const oid of [...FIXED_GROUPS, OID.eligibilityGroup, OID.baselineGroup]) used.groups.add(oid);
  for (const oid of FIXED_ITEM_OIDS) used.items.add(oid);

  // Visits: every other study event, in protocol order.
  const protocolOrder = children(child(mdv, 'Protocol'), 'StudyEventRef').map(
    (ref) => attr(ref, 'StudyEventOID') ?? '',
  );
  const eventOids = [...new Set([...protocolOrder, ...events.keys()])].filter(
    (oid) => events.has(oid) && !FIXED_EVENTS.has(oid),
  );
  const visits: Visit[] = [];
  let primaryVisit: string | null = null;
  const measures = new Map<string, Measure>();
  const measureOrder = new Map<string, number>();
  const groupPosition = new Map([...groups.keys()].map((oid, i) => [oid, i]));
  for (const eventOid of eventOids) {
    const event = events.get(eventOid)!;
    const code = toCode(aliasOf(event, 'visit.code') ?? eventOid.replace(/^SE\.(VISIT\.)?/, ''));
    if (aliasOf(event, 'visit.day') === undefined)
      skip(
        `${mdvPath}/StudyEventDef[@OID="${eventOid}"]`,
        "no visit day or window in the document; the day is the visit's position (1, 2, …), the window 0",
      );
    visits.push({
      code,
      label: clip(attr(event, 'Name') ?? code, 200),
      day: numberOr(aliasOf(event, 'visit.day'), code === 'baseline' ? 0 : visits.length + 1),
      windowBefore: numberOr(aliasOf(event, 'visit.windowBefore'), 0),
      windowAfter: numberOr(aliasOf(event, 'visit.windowAfter'), 0),
    });
    if (aliasOf(event, 'visit.primary') === 'true') primaryVisit = code;
    used.events.add(eventOid);
    for (const formRef of children(event, 'FormRef')) {
      const formOid = attr(formRef, 'FormOID') ?? '';
      const form = forms.get(formOid);
      if (!form) continue;
      used.forms.add(formOid);
      for (const groupRef of children(form, 'ItemGroupRef')) {
        const groupOid = attr(groupRef, 'ItemGroupOID') ?? '';
        const group = groups.get(groupOid);
        if (!group || FIXED_GROUPS.has(groupOid)) continue;
        used.groups.add(groupOid);
        measuresOf(groupOid, group).forEach((measure, i) => {
          const known = measures.get(measure.code);
          if (known) known.visits.push(code);
          else measures.set(measure.code, { ...measure, visits: [code] });
          if (!measureOrder.has(measure.code)) measureOrder.set(measure.code, groupPosition.get(groupOid)! * 1000 + i);
        });
      }
    }
  }

  function measuresOf(groupOid: string, group: Node): Omit<Measure, 'visits'>[] {
    const alias = aliasOf(group, 'measure.type');
    const type = MEASURE_TYPES.find((known) => known === alias);
    const refs = itemRefs(group).map((ref) => attr(ref, 'ItemOID') ?? '');
    if (type === 'scale') {
      const scaleItems = refs.filter((oid) => /\.ITEM\d+$/.test(oid));
      refs.forEach((oid) => used.items.add(oid));
      const first = items.get(scaleItems[0] ?? '');
      const range = rangeOf(first, itemPath(scaleItems[0] ?? ''));
      const reverse = aliasOf(group, 'measure.reverseItems');
      return [
        {
          code: toCode(aliasOf(group, 'measure.code') ?? attr(group, 'Name') ?? groupOid),
          label: clip(attr(group, 'Name') ?? groupOid, 200),
          type,
          items: scaleItems.length,
          itemMin: range.min ?? 0,
          itemMax: range.max ?? 1,
          ...(reverse ? { reverseItems: reverse.split(' ').map(Number) } : {}),
          score: aliasOf(group, 'measure.score') === 'mean' ? 'mean' : 'sum',
          ...(aliasOf(group, 'measure.maxMissingItems') !== undefined
            ? { maxMissingItems: numberOr(aliasOf(group, 'measure.maxMissingItems'), 0) }
            : {}),
          ...(aliasOf(group, 'measure.primary') === 'true' ? { primary: true } : {}),
        },
      ];
    }
    return refs.flatMap((oid) => {
      const item = items.get(oid);
      if (!item) return [];
      const dataType = attr(item, 'DataType');
      const levels = levelsOf(item);
      const itemType: Measure['type'] | null =
        type ??
        (levels
          ? 'category'
          : dataType === 'boolean'
            ? 'binary'
            : dataType === 'integer'
              ? 'integer'
              : dataType === 'float' || dataType === 'double'
                ? 'number'
                : null);
      if (!itemType) {
        skip(itemPath(oid), `data type ${dataType} has no measure type`);
        used.items.add(oid);
        return [];
      }
      used.items.add(oid);
      const range = itemType === 'binary' || itemType === 'category' ? {} : rangeOf(item, itemPath(oid));
      const unit = itemType === 'number' || itemType === 'integer' ? unitOf(item) : undefined;
      const label = translated(child(item, 'Question')) ?? attr(group, 'Name') ?? oid;
      const measure: Omit<Measure, 'visits'> = {
        code: toCode(
          type ? (aliasOf(group, 'measure.code') ?? attr(item, 'Name') ?? oid) : (attr(item, 'Name') ?? oid),
        ),
        label: clip(type ? (attr(group, 'Name') ?? label) : label, 200),
        type: itemType,
        ...(itemType === 'count' ? (range.max !== undefined ? { max: range.max } : {}) : range),
        ...(unit !== undefined ? { unit } : {}),
        ...(levels && itemType === 'category' ? { levels } : {}),
        ...(aliasOf(group, 'measure.primary') === 'true' ? { primary: true } : {}),
      };
      return [measure];
    });
  }

  for (const [oid] of events) if (!used.events.has(oid)) skip(`${mdvPath}/StudyEventDef[@OID="${oid}"]`, 'not used');
  for (const [oid] of forms)
    if (!used.forms.has(oid)) skip(`${mdvPath}/FormDef[@OID="${oid}"]`, 'not referenced by a visit');
  for (const [oid] of groups)
    if (!used.groups.has(oid)) skip(`${mdvPath}/ItemGroupDef[@OID="${oid}"]`, 'not referenced by a visit form');
  for (const [oid] of items) if (!used.items.has(oid)) skip(itemPath(oid), 'not part of a mapped item group');
  for (const [oid] of codeLists) if (!usedLists.has(oid)) skip(`${mdvPath}/CodeList[@OID="${oid}"]`, 'not used');
  for (const [oid] of units)
    if (!usedUnits.has(oid)) skip(`${studyPath}/BasicDefinitions/MeasurementUnit[@OID="${oid}"]`, 'not used');

  const configuration: Configuration = {
    title: clip(title, 500),
    registry,
    arms,
    randomization,
    eligibility,
    consentForms,
    baselineVariables,
    incentives,
    visits,
    // In the order their item groups (and items) are defined, which is the trial's order on export.
    measures: [...measures.values()].sort((a, b) => measureOrder.get(a.code)! - measureOrder.get(b.code)!),
    primaryVisit: primaryVisit ?? (visits.length ? visits[visits.length - 1]!.code : null),
  };
  return {
    studyOid: attr(study, 'OID') ?? '',
    metaDataVersionOid: attr(mdv, 'OID') ?? '',
    configuration,
    unmapped,
  };
}
