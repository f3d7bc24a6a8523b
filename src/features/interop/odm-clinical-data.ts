import type { components } from '../../generated/openapi';
import { ValidationError } from '../../core/errors';
import { FIXED_ITEMS, OID } from './odm-export';
import { EVENT_TYPES } from '../events/events';
import { attr, child, children, Node, refuseMaskedArms, studyOf } from './odm-import';
import type { AllocationRowInput } from './migration-csv';

/*
 * Reads the `ClinicalData` of an ODM 1.3.2 document (the shape trialdesk's export writes) into the inputs of the
 * same use cases the CSV kinds feed: screening, consent (and withdrawal), allocation (and its error flag), case-worker
 * assignment, event and assessment. Every problem is located by an XPath-like path to the element it is about.
 * The document's definition must be the trial's (`definitionProblems`); what does not map is listed.
 */

type TrialView = components['schemas']['Trial'];
type ParticipantInput = components['schemas']['ParticipantInput'];
type ConsentInput = components['schemas']['ConsentInput'];
type WithdrawalInput = components['schemas']['WithdrawalInput'];
type EventInput = components['schemas']['EventInput'];
type AssessmentInput = components['schemas']['AssessmentInput'];
type Configuration = ReturnType<typeof studyOf>['configuration'];

export interface OdmProblem {
  location: string;
  detail: string;
}

/** One record for a use case: where it is, whose it is, and where each input field came from. */
export interface OdmRecord<Input> {
  location: string;
  label: string;
  input: Input;
  /** The element a use case's field error (a JSON pointer into `input`) is about. */
  locate(pointer: string): string;
}

export interface OdmClinicalData {
  subjects: number;
  participants: (OdmRecord<ParticipantInput> & { status: { value: string; location: string } | null })[];
  consents: OdmRecord<{ consent: ConsentInput; withdrawal: WithdrawalInput | null }>[];
  allocations: OdmRecord<AllocationRowInput & { errorReason: string | null }>[];
  assignments: OdmRecord<{ arm: string; reason: string }>[];
  events: OdmRecord<EventInput>[];
  assessments: OdmRecord<AssessmentInput>[];
  missedVisits: OdmRecord<{ visit: string; reason: string; recordedOn: string }>[];
  problems: OdmProblem[];
}

const quoted = (name: string, value: string | undefined) => (value === undefined ? '' : `[@${name}="${value}"]`);

const isDate = (value: string) => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
};
const BOOLEAN: Record<string, boolean> = { true: true, false: false, '1': true, '0': false };

/**
 * Why the document's `ClinicalData` is not for this trial, if it is not: the `Study`/`MetaDataVersion` it names must
 * be in the document and define the trial's arms, criteria, baseline variables, consent forms, visits and measures
 * (codes, types, levels, scale items, the visits a measure is taken at), or be the trial's own (`TD.<code>`,
 * `MDV.<version>`). Labels, texts, days, windows and ranges may differ: the use cases apply the trial's own.
 */
export function definitionProblems(root: Node, trial: TrialView): OdmProblem[] {
  const odm = child(root, 'ODM');
  const clinical = children(odm, 'ClinicalData');
  if (!odm || !clinical.length)
    throw new ValidationError([{ pointer: '', detail: 'the document has no ODM/ClinicalData to import' }]);
  for (const study of children(odm, 'Study')) children(study, 'MetaDataVersion').forEach(refuseMaskedArms);
  const problems: OdmProblem[] = [];
  const compared = new Set<string>();
  for (const data of clinical) {
    const studyOid = attr(data, 'StudyOID') ?? '';
    const mdvOid = attr(data, 'MetaDataVersionOID') ?? '';
    const key = `${studyOid} ${mdvOid}`;
    if (compared.has(key)) continue;
    compared.add(key);
    const study = children(odm, 'Study').find((s) => attr(s, 'OID') === studyOid);
    const mdv = children(study, 'MetaDataVersion').find((m) => attr(m, 'OID') === mdvOid);
    if (study && mdv) {
      // studyOf reads the first study and metadata version, so it is given this pair.
      const { configuration } = studyOf({ ODM: [{ ...odm, Study: [{ ...study, MetaDataVersion: [mdv] }] }] });
      problems.push(
        ...compareDefinitions(configuration, trial, `/ODM/Study[@OID="${studyOid}"]/MetaDataVersion[@OID="${mdvOid}"]`),
      );
    } else if (studyOid !== OID.study(trial.code) || mdvOid !== OID.metaDataVersion(trial.version)) {
      problems.push({
        location: `/ODM/ClinicalData[@StudyOID="${studyOid}"][@MetaDataVersionOID="${mdvOid}"]`,
        detail:
          `the document does not define this study and metadata version, and they are not the trial's own ` +
          `(${OID.study(trial.code)}, ${OID.metaDataVersion(trial.version)})`,
      });
    }
  }
  return problems;
}

function compareDefinitions(document: Configuration, trial: TrialView, mdvPath: string): OdmProblem[] {
  const problems: OdmProblem[] = [];
  const compare = <T>(
    what: string,
    ours: Map<string, T>,
    theirs: Map<string, T>,
    location: (code: string) => string,
    describe: (value: T) => string = () => '',
  ) => {
    for (const [code, value] of theirs) {
      const mine = ours.get(code);
      if (mine === undefined) problems.push({ location: location(code), detail: `the trial has no ${what} ${code}` });
      else if (describe(mine) !== describe(value))
        problems.push({
          location: location(code),
          detail: `${what} ${code} is ${describe(value)} in the document but ${describe(mine)} in the trial`,
        });
    }
    for (const code of ours.keys())
      if (!theirs.has(code))
        problems.push({ location: mdvPath, detail: `the document does not define the trial's ${what} ${code}` });
  };
  const byCode = <T>(items: T[], code: (item: T) => string) => new Map(items.map((item) => [code(item), item]));
  compare(
    'arm',
    byCode(trial.arms, (a) => a.code),
    byCode(document.arms, (a) => a.code),
    (code) => `${mdvPath}/CodeList[@OID="${OID.codeList('ARM')}"]/CodeListItem[@CodedValue="${code}"]`,
  );
  compare(
    'criterion',
    byCode(trial.eligibility, (c) => c.code),
    byCode(document.eligibility ?? [], (c) => c.code),
    (code) => `${mdvPath}/ItemDef[@OID="${OID.criterion(code)}"]`,
    (c) => `${c.kind}${c.roles ? ` for ${[...c.roles].sort().join(' ')}` : ''}`,
  );
  compare(
    'baseline variable',
    byCode(trial.baselineVariables, (v) => v.name),
    byCode(document.baselineVariables ?? [], (v) => v.name),
    (name) => `${mdvPath}/ItemDef[@OID="${OID.baseline(name)}"]`,
    (v) => `${v.type}${v.levels ? ` (${v.levels.join(', ')})` : ''}`,
  );
  compare(
    'consent form',
    byCode(trial.consentForms, (f) => `${f.code} ${f.version}`),
    byCode(document.consentForms ?? [], (f) => `${f.code} ${f.version}`),
    (code) => `${mdvPath}/CodeList[@OID="${OID.codeList('CONSENT_FORM')}"]/CodeListItem[@CodedValue="${code}"]`,
  );
  compare(
    'visit',
    byCode(trial.visits, (v) => v.code),
    byCode(document.visits ?? [], (v) => v.code),
    (code) => `${mdvPath}/StudyEventDef[@OID="${OID.visitEvent(code)}"]`,
  );
  compare(
    'measure',
    byCode(trial.measures, (m) => m.code),
    byCode(document.measures ?? [], (m) => m.code),
    (code) => `${mdvPath}/ItemGroupDef[@OID="${OID.measureGroup(code)}"]`,
    (m) =>
      `${m.type}${m.items !== undefined ? ` of ${m.items} items` : ''}${m.levels ? ` (${m.levels.join(', ')})` : ''}` +
      ` at ${[...m.visits].sort().join(', ')}`,
  );
  return problems;
}

interface ItemValue {
  value: string;
  location: string;
}

/**
 * The `ClinicalData` of the document as use-case inputs, in document order, with every element that does not map
 * onto the trial's definition (or whose value is not of its item's type) listed as a problem.
 */
export function clinicalDataOf(root: Node, trial: TrialView): OdmClinicalData {
  const result: OdmClinicalData = {
    subjects: 0,
    participants: [],
    consents: [],
    allocations: [],
    assignments: [],
    events: [],
    assessments: [],
    missedVisits: [],
    problems: [],
  };
  const problem = (location: string, detail: string) => result.problems.push({ location, detail });
  const visits = new Set(trial.visits.map((v) => v.code));
  const measures = new Map(trial.measures.map((m) => [m.code, m]));
  const criteria = new Set(trial.eligibility.map((c) => c.code));
  const variables = new Map(trial.baselineVariables.map((v) => [v.name, v]));

  /** The ItemData of a group by OID (a known OID maps to a field pointer; null: read-only, such as a score). */
  const itemsOf = (group: Node, path: string, known: (oid: string) => string | null | undefined) => {
    const values = new Map<string, ItemValue>();
    const fields = new Map<string, string>();
    for (const name of Object.keys(group))
      if (name.startsWith('ItemData') && name !== 'ItemData')
        problem(`${path}/${name}`, 'typed ItemData elements are not read; write ItemData with a Value');
    for (const item of children(group, 'ItemData')) {
      const oid = attr(item, 'ItemOID') ?? '';
      const location = `${path}/ItemData[@ItemOID="${oid}"]`;
      const field = known(oid);
      if (field === undefined) {
        problem(
          location,
          `the trial's definition has no item ${oid} in ${attr(group, 'ItemGroupOID') ?? 'this group'}`,
        );
        continue;
      }
      if (field === null || attr(item, 'IsNull') === 'Yes') continue;
      const value = attr(item, 'Value');
      if (value === undefined) continue;
      values.set(oid, { value, location });
      fields.set(field, location);
    }
    return { values, fields };
  };
  const locator = (fallback: string, fields: Map<string, string>) => (pointer: string) => {
    const parts = pointer.split('/');
    for (let n = parts.length; n > 1; n--) {
      const found = fields.get(parts.slice(0, n).join('/'));
      if (found) return found;
    }
    return fallback;
  };
  const fixedFields = (items: readonly (readonly [string, string, ...unknown[]])[]) =>
    new Map(items.map(([oid, name]) => [oid, `/${name}`]));
  const screeningFields = fixedFields(FIXED_ITEMS.screening);
  const consentFields = fixedFields(FIXED_ITEMS.consent);
  const randomizationFields = fixedFields(FIXED_ITEMS.randomization);
  const eventFields = fixedFields(FIXED_ITEMS.event);
  const assessmentFields = fixedFields(FIXED_ITEMS.assessment);
  const missedVisitFields = fixedFields(FIXED_ITEMS.missedVisit);

  /** Groups of the forms of a study event, each form and group checked against what the event may hold. */
  const groupsOf = (event: Node, path: string, forms: Record<string, string[]>) => {
    const groups: { oid: string; node: Node; path: string }[] = [];
    for (const form of children(event, 'FormData')) {
      const formOid = attr(form, 'FormOID') ?? '';
      const formPath = `${path}/FormData[@FormOID="${formOid}"]${quoted('FormRepeatKey', attr(form, 'FormRepeatKey'))}`;
      const allowed = forms[formOid];
      if (!allowed) {
        problem(formPath, `the trial's definition has no form ${formOid} in this study event`);
        continue;
      }
      for (const group of children(form, 'ItemGroupData')) {
        const oid = attr(group, 'ItemGroupOID') ?? '';
        const groupPath =
          `${formPath}/ItemGroupData[@ItemGroupOID="${oid}"]` +
          quoted('ItemGroupRepeatKey', attr(group, 'ItemGroupRepeatKey'));
        if (!allowed.includes(oid)) problem(groupPath, `the trial's definition has no item group ${oid} in ${formOid}`);
        else groups.push({ oid, node: group, path: groupPath });
      }
    }
    return groups;
  };
  const required = (values: Map<string, ItemValue>, oid: string, groupPath: string): string | undefined => {
    const found = values.get(oid);
    if (!found) problem(`${groupPath}/ItemData[@ItemOID="${oid}"]`, 'is required');
    return found?.value;
  };
  const date = (values: Map<string, ItemValue>, oid: string, groupPath: string, optional = false) => {
    const found = values.get(oid);
    if (!found) {
      if (!optional) problem(`${groupPath}/ItemData[@ItemOID="${oid}"]`, 'is required');
      return undefined;
    }
    if (!isDate(found.value)) {
      problem(found.location, 'must be a date, YYYY-MM-DD');
      return undefined;
    }
    return found.value;
  };
  const oneOf = <T extends string>(found: ItemValue | undefined, allowed: readonly T[]): T | undefined => {
    if (!found) return undefined;
    if (allowed.includes(found.value as T)) return found.value as T;
    problem(found.location, `must be one of ${allowed.join(', ')}`);
    return undefined;
  };

  for (const data of children(child(root, 'ODM'), 'ClinicalData'))
    for (const subject of children(data, 'SubjectData')) {
      result.subjects += 1;
      const label = attr(subject, 'SubjectKey') ?? '';
      const subjectPath = `/ODM/ClinicalData/SubjectData[@SubjectKey="${label}"]`;
      if (!label) problem(subjectPath, 'SubjectKey is required');
      if (attr(subject, 'TransactionType') === 'Remove')
        problem(subjectPath, 'removing a subject is not imported; send the subjects to add');
      const locationOid = attr(child(subject, 'SiteRef'), 'LocationOID');
      const siteLocation = `${subjectPath}/SiteRef`;
      if (!locationOid) problem(siteLocation, 'every subject needs a SiteRef (LOC.<site code>)');
      const siteCode = (locationOid ?? '').replace(/^LOC\./, '');

      let participant: OdmClinicalData['participants'][number] | null = null;
      const subjectEvents = children(subject, 'StudyEventData');
      const screening = subjectEvents.filter((e) => attr(e, 'StudyEventOID') === OID.screening);
      if (screening.length !== 1)
        problem(
          subjectPath,
          `every subject needs exactly one StudyEventData ${OID.screening}, not ${screening.length}`,
        );

      for (const event of subjectEvents) {
        const eventOid = attr(event, 'StudyEventOID') ?? '';
        const eventPath =
          `${subjectPath}/StudyEventData[@StudyEventOID="${eventOid}"]` +
          quoted('StudyEventRepeatKey', attr(event, 'StudyEventRepeatKey'));
        if (eventOid === OID.screening) {
          const start = result.problems.length;
          const groups = groupsOf(event, eventPath, {
            [OID.eligibilityForm]: [OID.screeningGroup, OID.eligibilityGroup],
            [OID.baselineForm]: [OID.baselineGroup],
          });
          const fields = new Map<string, string>([
            ['/siteCode', siteLocation],
            ['/label', subjectPath],
          ]);
          const eligibility: Record<string, boolean> = {};
          const baseline: Record<string, string | number> = {};
          let role: ParticipantInput['role'] | undefined;
          let screenedOn: string | undefined;
          let status: { value: string; location: string } | null = null;
          const screeningPath = groups.find((g) => g.oid === OID.screeningGroup)?.path;
          if (!screeningPath) problem(eventPath, `the screening needs its ${OID.screeningGroup} item group`);
          for (const group of groups) {
            if (group.oid === OID.screeningGroup) {
              const read = itemsOf(group.node, group.path, (oid) =>
                oid === 'I.SCR.ELIGIBLE' || oid === 'I.SCR.STATUS' ? null : screeningFields.get(oid),
              );
              read.fields.forEach((v, k) => fields.set(k, v));
              role = oneOf(read.values.get('I.SCR.ROLE'), ['service_user', 'case_worker'] as const);
              if (!read.values.has('I.SCR.ROLE')) required(read.values, 'I.SCR.ROLE', group.path);
              screenedOn = date(read.values, 'I.SCR.SCREENED_ON', group.path);
              const statusItem = children(group.node, 'ItemData').find((i) => attr(i, 'ItemOID') === 'I.SCR.STATUS');
              const statusValue = attr(statusItem, 'Value');
              if (statusValue !== undefined)
                status = { value: statusValue, location: `${group.path}/ItemData[@ItemOID="I.SCR.STATUS"]` };
            } else if (group.oid === OID.eligibilityGroup) {
              const read = itemsOf(group.node, group.path, (oid) => {
                const code = oid.startsWith('I.ELIG.') ? oid.slice('I.ELIG.'.length) : '';
                return criteria.has(code) ? `/eligibility/${code}` : undefined;
              });
              read.fields.forEach((v, k) => fields.set(k, v));
              for (const [oid, found] of read.values) {
                const answer = BOOLEAN[found.value];
                if (answer === undefined) problem(found.location, 'must be true or false');
                else eligibility[oid.slice('I.ELIG.'.length)] = answer;
              }
            } else {
              const read = itemsOf(group.node, group.path, (oid) => {
                const name = oid.startsWith('I.BL.') ? oid.slice('I.BL.'.length) : '';
                return variables.has(name) ? `/baseline/${name}` : undefined;
              });
              read.fields.forEach((v, k) => fields.set(k, v));
              for (const [oid, found] of read.values) {
                const name = oid.slice('I.BL.'.length);
                if (variables.get(name)!.type === 'category') baseline[name] = found.value;
                else {
                  const number = Number(found.value);
                  if (found.value.trim() === '' || !Number.isFinite(number))
                    problem(found.location, 'must be a number');
                  else baseline[name] = number;
                }
              }
            }
          }
          if (result.problems.length === start && role && screenedOn && label && locationOid && screening.length === 1)
            participant = {
              location: subjectPath,
              label,
              input: { label, siteCode, role, screenedOn, eligibility, baseline },
              locate: locator(subjectPath, fields),
              status,
            };
        } else if (eventOid === OID.consent) {
          for (const group of groupsOf(event, eventPath, { [OID.consentForm]: [OID.consentGroup] })) {
            const start = result.problems.length;
            const read = itemsOf(group.node, group.path, (oid) => consentFields.get(oid));
            const formValue = required(read.values, 'I.CONSENT.FORM', group.path);
            const versionItem = read.values.get('I.CONSENT.VERSION');
            const [formCode = '', ...rest] = (formValue ?? '').split(' ');
            const version = versionItem?.value ?? rest.join(' ');
            if (!version) problem(`${group.path}/ItemData[@ItemOID="I.CONSENT.VERSION"]`, 'is required');
            const decision = oneOf(read.values.get('I.CONSENT.DECISION'), ['granted', 'declined'] as const);
            if (!read.values.has('I.CONSENT.DECISION')) required(read.values, 'I.CONSENT.DECISION', group.path);
            const signedOn = date(read.values, 'I.CONSENT.SIGNED_ON', group.path);
            const obtainedBy = required(read.values, 'I.CONSENT.OBTAINED_BY', group.path);
            const method = oneOf(read.values.get('I.CONSENT.METHOD'), [
              'written',
              'electronic',
              'witnessed_verbal',
            ] as const);
            if (!read.values.has('I.CONSENT.METHOD')) required(read.values, 'I.CONSENT.METHOD', group.path);
            const withdrawnOn = date(read.values, 'I.CONSENT.WITHDRAWN_ON', group.path, true);
            const scope = oneOf(read.values.get('I.CONSENT.WITHDRAWAL_SCOPE'), [
              'intervention',
              'follow_up',
              'all',
            ] as const);
            const withdrawalReason = read.values.get('I.CONSENT.WITHDRAWAL_REASON')?.value;
            if (read.values.has('I.CONSENT.WITHDRAWN_ON') && (!scope || !withdrawalReason))
              problem(group.path, 'a withdrawal needs I.CONSENT.WITHDRAWN_ON, WITHDRAWAL_REASON and WITHDRAWAL_SCOPE');
            if (result.problems.length > start) continue;
            const reason = read.values.get('I.CONSENT.REASON')?.value;
            result.consents.push({
              location: group.path,
              label,
              input: {
                consent: {
                  form: formCode,
                  version,
                  decision: decision!,
                  signedOn: signedOn!,
                  obtainedBy: obtainedBy!,
                  method: method!,
                  ...(reason !== undefined ? { reason } : {}),
                },
                withdrawal: withdrawnOn ? { withdrawnOn, reason: withdrawalReason!, scope: scope! } : null,
              },
              locate: locator(group.path, read.fields),
            });
          }
        } else if (eventOid === OID.randomization) {
          for (const group of groupsOf(event, eventPath, { [OID.randomizationForm]: [OID.randomizationGroup] })) {
            const start = result.problems.length;
            const read = itemsOf(group.node, group.path, (oid) => randomizationFields.get(oid));
            const arm = read.values.get('I.RAND.ARM');
            const assigned = read.values.get('I.RAND.ASSIGNED_ARM');
            if (assigned)
              result.assignments.push({
                location: group.path,
                label,
                input: {
                  arm: assigned.value,
                  reason: read.values.get('I.RAND.ASSIGNMENT_REASON')?.value ?? 'imported from ODM',
                },
                locate: locator(group.path, new Map([['/arm', assigned.location]])),
              });
            if (!arm) continue;
            const sequence = required(read.values, 'I.RAND.SEQUENCE', group.path);
            const sequenceNumber = Number(sequence);
            if (sequence !== undefined && (!/^[0-9]+$/.test(sequence) || sequenceNumber < 1))
              problem(read.values.get('I.RAND.SEQUENCE')!.location, 'must be a whole number from 1');
            const at = required(read.values, 'I.RAND.RANDOMIZED_AT', group.path);
            const randomizedAt = new Date(at ?? '');
            if (at !== undefined && (!/^\d{4}-\d{2}-\d{2}T[0-9:.]+Z$/.test(at) || Number.isNaN(randomizedAt.getTime())))
              problem(read.values.get('I.RAND.RANDOMIZED_AT')!.location, 'must be a UTC instant, YYYY-MM-DDThh:mm:ssZ');
            const stratumItem = read.values.get('I.RAND.STRATUM');
            let stratum: Record<string, string> = {};
            if (stratumItem) {
              let parsed: unknown;
              try {
                parsed = JSON.parse(stratumItem.value);
              } catch {
                parsed = undefined;
              }
              const isStratum =
                typeof parsed === 'object' &&
                parsed !== null &&
                !Array.isArray(parsed) &&
                Object.values(parsed).every((level) => typeof level === 'string');
              if (isStratum) stratum = parsed as Record<string, string>;
              else problem(stratumItem.location, 'must be a JSON object of factor levels, {"site": "A"}');
            }
            if (result.problems.length > start) continue;
            result.allocations.push({
              location: group.path,
              label,
              input: {
                arm: arm.value,
                sequenceNumber,
                randomizedAt,
                stratum,
                errorReason: read.values.get('I.RAND.ERROR')?.value ?? null,
              },
              locate: locator(group.path, read.fields),
            });
          }
        } else if (eventOid === OID.events) {
          for (const group of groupsOf(event, eventPath, { [OID.eventsForm]: [OID.eventGroup] })) {
            const start = result.problems.length;
            const read = itemsOf(group.node, group.path, (oid) => eventFields.get(oid));
            const type = oneOf(read.values.get('I.EVENT.TYPE'), EVENT_TYPES);
            if (!read.values.has('I.EVENT.TYPE')) required(read.values, 'I.EVENT.TYPE', group.path);
            const occurredOn = date(read.values, 'I.EVENT.OCCURRED_ON', group.path);
            if (result.problems.length > start) continue;
            const reason = read.values.get('I.EVENT.REASON')?.value;
            result.events.push({
              location: group.path,
              label,
              input: { type: type!, occurredOn: occurredOn!, ...(reason !== undefined ? { reason } : {}) },
              locate: locator(group.path, read.fields),
            });
          }
        } else if (eventOid.startsWith('SE.VISIT.') && visits.has(eventOid.slice('SE.VISIT.'.length))) {
          const visit = eventOid.slice('SE.VISIT.'.length);
          const start = result.problems.length;
          const atVisit = trial.measures.filter((m) => m.visits.includes(visit));
          const groups = groupsOf(event, eventPath, {
            [OID.visitForm(visit)]: [
              OID.assessmentGroup,
              ...atVisit.map((m) => OID.measureGroup(m.code)),
              OID.missedVisitGroup,
            ],
          });
          const missed = groups.find((g) => g.oid === OID.missedVisitGroup);
          if (missed) {
            const read = itemsOf(missed.node, missed.path, (oid) => missedVisitFields.get(oid));
            const reason = required(read.values, 'I.MISSED.REASON', missed.path);
            const recordedOn = date(read.values, 'I.MISSED.RECORDED_ON', missed.path);
            if (reason !== undefined && recordedOn !== undefined)
              result.missedVisits.push({
                location: missed.path,
                label,
                input: { visit, reason, recordedOn },
                locate: locator(missed.path, read.fields),
              });
          }
          const fields = new Map<string, string>();
          const values: AssessmentInput['values'] = {};
          let assessedOn: string | undefined;
          let assessor: string | undefined;
          const header = groups.find((g) => g.oid === OID.assessmentGroup);
          if (!header && !missed)
            problem(eventPath, `a visit needs ${OID.assessmentGroup} (assessed) or ${OID.missedVisitGroup} (missed)`);
          if (!header) continue;
          for (const group of groups) {
            if (group.oid === OID.missedVisitGroup) continue;
            if (group.oid === OID.assessmentGroup) {
              const read = itemsOf(group.node, group.path, (oid) => assessmentFields.get(oid));
              read.fields.forEach((v, k) => fields.set(k, v));
              assessedOn = date(read.values, 'I.ASMT.ASSESSED_ON', group.path);
              assessor = read.values.get('I.ASMT.ASSESSOR')?.value;
              continue;
            }
            const measure = measures.get(group.oid.slice('IG.MEASURE.'.length))!;
            const code = measure.code;
            if (measure.type === 'scale') {
              const read = itemsOf(group.node, group.path, (oid) => {
                if (oid === OID.scaleScore(code)) return null;
                const match = /\.ITEM([0-9]+)$/.exec(oid);
                const item = Number(match?.[1]);
                return oid === OID.scaleItem(code, item) && item >= 1 && item <= (measure.items ?? 0)
                  ? `/values/${code}/items/${item - 1}`
                  : undefined;
              });
              read.fields.forEach((v, k) => fields.set(k, v));
              if (!read.values.size) continue;
              const items = Array<number | null>(measure.items ?? 0).fill(null);
              for (const [oid, found] of read.values) {
                const number = Number(found.value);
                if (found.value.trim() === '' || !Number.isFinite(number)) problem(found.location, 'must be a number');
                items[Number(/\.ITEM([0-9]+)$/.exec(oid)![1]) - 1] = number;
              }
              values[code] = { items };
              continue;
            }
            const read = itemsOf(group.node, group.path, (oid) =>
              oid === OID.measureValue(code) ? `/values/${code}` : undefined,
            );
            read.fields.forEach((v, k) => fields.set(k, v));
            const found = read.values.get(OID.measureValue(code));
            if (!found) continue;
            if (measure.type === 'binary') {
              const answer = BOOLEAN[found.value];
              if (answer === undefined) problem(found.location, 'must be true or false');
              values[code] = answer ?? null;
            } else if (measure.type === 'category') values[code] = found.value;
            else {
              const number = Number(found.value);
              if (found.value.trim() === '' || !Number.isFinite(number)) problem(found.location, 'must be a number');
              values[code] = number;
            }
          }
          if (result.problems.length > start || !assessedOn) continue;
          const location = header?.path ?? eventPath;
          result.assessments.push({
            location,
            label,
            input: { visit, assessedOn, values, ...(assessor !== undefined ? { assessor } : {}) },
            locate: locator(location, fields),
          });
        } else problem(eventPath, `the trial's definition has no study event ${eventOid}`);
      }
      if (participant) result.participants.push(participant);
    }
  return result;
}
