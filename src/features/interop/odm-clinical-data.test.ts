import { ValidationError } from '../../core/errors';
import type { components } from '../../generated/openapi';
import { clinicalDataOf, definitionProblems } from './odm-clinical-data';
import { parseOdmDocument } from './odm-import';

type TrialView = components['schemas']['Trial'];

/** The parts of a trial the ClinicalData reader looks at. */
const trial = {
  code: 'X',
  version: 3,
  arms: [
    { code: 'A', name: 'A', ratio: 1 },
    { code: 'B', name: 'B', ratio: 1 },
  ],
  eligibility: [{ code: 'adult', kind: 'inclusion', text: 'Adult' }],
  baselineVariables: [
    { name: 'age', type: 'number' },
    { name: 'sex', type: 'category', levels: ['f', 'm'] },
  ],
  consentForms: [{ code: 'trial', version: '1.0', required: true }],
  visits: [{ code: 'm6', label: 'M6', day: 182, windowBefore: 0, windowAfter: 0 }],
  measures: [
    { code: 'hope', label: 'Hope', type: 'scale', items: 3, itemMin: 1, itemMax: 4, visits: ['m6'] },
    { code: 'employed', label: 'Employed', type: 'binary', visits: ['m6'] },
  ],
} as unknown as TrialView;

const SUBJECT = '/ODM/ClinicalData/SubjectData[@SubjectKey="P-1"]';
const document = (subject: string, clinical = 'StudyOID="TD.X" MetaDataVersionOID="MDV.3"') =>
  parseOdmDocument(`<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3"><ClinicalData ${clinical}>
<SubjectData SubjectKey="P-1"><SiteRef LocationOID="LOC.S1"/>
<StudyEventData StudyEventOID="SE.SCREENING" StudyEventRepeatKey="1">
 <FormData FormOID="F.SCREENING"><ItemGroupData ItemGroupOID="IG.SCREENING">
  <ItemData ItemOID="I.SCR.ROLE" Value="service_user"/><ItemData ItemOID="I.SCR.SCREENED_ON" Value="2026-01-02"/>
  <ItemData ItemOID="I.SCR.ELIGIBLE" Value="true"/><ItemData ItemOID="I.SCR.STATUS" Value="randomized"/>
 </ItemGroupData><ItemGroupData ItemGroupOID="IG.ELIGIBILITY"><ItemData ItemOID="I.ELIG.adult" Value="1"/></ItemGroupData></FormData>
 <FormData FormOID="F.BASELINE"><ItemGroupData ItemGroupOID="IG.BASELINE">
  <ItemData ItemOID="I.BL.age" Value="44.5"/><ItemData ItemOID="I.BL.sex" Value="f"/></ItemGroupData></FormData>
</StudyEventData>${subject}</SubjectData></ClinicalData></ODM>`);

describe('clinicalDataOf', () => {
  it('reads a subject into use-case inputs and locates their fields', () => {
    const data = clinicalDataOf(
      document(`<StudyEventData StudyEventOID="SE.VISIT.m6" StudyEventRepeatKey="1"><FormData FormOID="F.VISIT.m6">
  <ItemGroupData ItemGroupOID="IG.ASSESSMENT"><ItemData ItemOID="I.ASMT.ASSESSED_ON" Value="2026-07-01"/></ItemGroupData>
  <ItemGroupData ItemGroupOID="IG.MEASURE.hope"><ItemData ItemOID="I.M.hope.ITEM1" Value="2"/>
   <ItemData ItemOID="I.M.hope.ITEM3" Value="4"/><ItemData ItemOID="I.M.hope.SCORE" Value="99"/></ItemGroupData>
  <ItemGroupData ItemGroupOID="IG.MEASURE.employed"><ItemData ItemOID="I.M.employed" Value="false"/></ItemGroupData>
 </FormData></StudyEventData>`),
      trial,
    );
    expect(data.problems).toEqual([]);
    expect(data.subjects).toBe(1);
    const [participant] = data.participants;
    expect(participant!.input).toEqual({
      label: 'P-1',
      siteCode: 'S1',
      role: 'service_user',
      screenedOn: '2026-01-02',
      eligibility: { adult: true },
      baseline: { age: 44.5, sex: 'f' },
    });
    expect(participant!.status!.value).toBe('randomized');
    expect(participant!.locate('/baseline/age')).toBe(
      `${SUBJECT}/StudyEventData[@StudyEventOID="SE.SCREENING"][@StudyEventRepeatKey="1"]/FormData[@FormOID="F.BASELINE"]/ItemGroupData[@ItemGroupOID="IG.BASELINE"]/ItemData[@ItemOID="I.BL.age"]`,
    );
    expect(participant!.locate('/siteCode')).toBe(`${SUBJECT}/SiteRef`);
    expect(participant!.locate('')).toBe(SUBJECT);
    const [assessment] = data.assessments;
    // The score is computed by trialdesk, not read; missing scale items are unanswered.
    expect(assessment!.input).toEqual({
      visit: 'm6',
      assessedOn: '2026-07-01',
      values: { hope: { items: [2, null, 4] }, employed: false },
    });
    expect(assessment!.locate('/values/hope/items/2')).toMatch(/ItemData\[@ItemOID="I.M.hope.ITEM3"\]$/);
  });

  it('lists every element that does not map, and values of the wrong type, at their element', () => {
    const data = clinicalDataOf(
      document(`<StudyEventData StudyEventOID="SE.VISIT.m12"/>
<StudyEventData StudyEventOID="SE.CONSENT"><FormData FormOID="F.CONSENT"><ItemGroupData ItemGroupOID="IG.CONSENT" ItemGroupRepeatKey="1">
 <ItemData ItemOID="I.CONSENT.FORM" Value="trial 1.0"/><ItemData ItemOID="I.CONSENT.DECISION" Value="maybe"/>
 <ItemData ItemOID="I.CONSENT.SIGNED_ON" Value="2026-02-30"/><ItemData ItemOID="I.CONSENT.OBTAINED_BY" Value="IW"/>
 <ItemData ItemOID="I.CONSENT.METHOD" Value="written"/><ItemData ItemOID="I.CONSENT.X" Value="1"/>
 <ItemDataString ItemOID="I.CONSENT.REASON">typed</ItemDataString></ItemGroupData>
 <ItemGroupData ItemGroupOID="IG.RANDOMIZATION"/></FormData></StudyEventData>`),
      trial,
    );
    const consent = `${SUBJECT}/StudyEventData[@StudyEventOID="SE.CONSENT"]/FormData[@FormOID="F.CONSENT"]`;
    const group = `${consent}/ItemGroupData[@ItemGroupOID="IG.CONSENT"][@ItemGroupRepeatKey="1"]`;
    expect(data.problems).toEqual([
      {
        location: `${SUBJECT}/StudyEventData[@StudyEventOID="SE.VISIT.m12"]`,
        detail: "the trial's definition has no study event SE.VISIT.m12",
      },
      {
        location: `${consent}/ItemGroupData[@ItemGroupOID="IG.RANDOMIZATION"]`,
        detail: "the trial's definition has no item group IG.RANDOMIZATION in F.CONSENT",
      },
      {
        location: `${group}/ItemDataString`,
        detail: 'typed ItemData elements are not read; write ItemData with a Value',
      },
      {
        location: `${group}/ItemData[@ItemOID="I.CONSENT.X"]`,
        detail: "the trial's definition has no item I.CONSENT.X in IG.CONSENT",
      },
      { location: `${group}/ItemData[@ItemOID="I.CONSENT.DECISION"]`, detail: 'must be one of granted, declined' },
      { location: `${group}/ItemData[@ItemOID="I.CONSENT.SIGNED_ON"]`, detail: 'must be a date, YYYY-MM-DD' },
    ]);
    expect(data.consents).toEqual([]);
    // The subject's own screening is fine, so it is still screened (and the dry run reports the rest).
    expect(data.participants).toHaveLength(1);
  });
});

describe('definitionProblems', () => {
  it("accepts ClinicalData naming the trial's own study and version without a Study element", () => {
    expect(definitionProblems(document(''), trial)).toEqual([]);
    expect(definitionProblems(document('', 'StudyOID="TD.X" MetaDataVersionOID="MDV.2"'), trial)).toEqual([
      {
        location: '/ODM/ClinicalData[@StudyOID="TD.X"][@MetaDataVersionOID="MDV.2"]',
        detail:
          "the document does not define this study and metadata version, and they are not the trial's own (TD.X, MDV.3)",
      },
    ]);
  });

  it('refuses a document without ClinicalData, and one whose arms are masked', () => {
    expect(() => definitionProblems(parseOdmDocument('<ODM/>'), trial)).toThrow(ValidationError);
    const masked = parseOdmDocument(`<ODM><Study OID="TD.X"><MetaDataVersion OID="MDV.3">
<StudyEventDef OID="SE.RANDOMIZATION" Name="R" Repeating="No" Type="Scheduled"><Alias Context="trialdesk.arms" Name="masked"/></StudyEventDef>
</MetaDataVersion></Study><ClinicalData StudyOID="TD.X" MetaDataVersionOID="MDV.3"/></ODM>`);
    expect(() => definitionProblems(masked, trial)).toThrow(/blinded key/);
  });
});
