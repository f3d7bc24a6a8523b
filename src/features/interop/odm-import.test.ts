import { ValidationError } from '../../core/errors';
import { parseOdmStudy, toCode, toVariableName } from './odm-import';
import { consentStatus, derivedUuid, RESEARCH_SUBJECT_STATUS } from './fhir-bundle';

const odm = (metadata: string, globals = '<StudyName>S</StudyName>') => `<?xml version="1.0"?>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" ODMVersion="1.3.2" FileType="Snapshot" FileOID="F" CreationDateTime="2026-01-01T00:00:00Z">
<Study OID="TD.X"><GlobalVariables>${globals}</GlobalVariables><MetaDataVersion OID="MDV.1" Name="v">
<CodeList OID="CL.ARM" Name="ARM" DataType="text">
 <CodeListItem CodedValue="a b"><Decode><TranslatedText xml:lang="zh">甲</TranslatedText><TranslatedText xml:lang="en">Arm &amp; A</TranslatedText></Decode>
  <Alias Context="trialdesk.arm.ratio" Name="2"/></CodeListItem>
 <CodeListItem CodedValue="B"><Decode><TranslatedText>B</TranslatedText></Decode></CodeListItem>
</CodeList>${metadata}</MetaDataVersion></Study></ODM>`;

describe('codes and names from ODM', () => {
  it('fit the contract patterns', () => {
    expect(toCode('SE.W 4/x')).toBe('SE.W_4_x');
    expect(toCode('__x')).toBe('x');
    expect(toCode('')).toBe('x');
    expect(toCode('a'.repeat(80))).toHaveLength(64);
    expect(toVariableName('1st value')).toBe('st_value');
    expect(toVariableName('年齢')).toBe('v');
  });
});

describe('parseOdmStudy', () => {
  it('reads arms with the English decode and the ratio alias, and defaults', () => {
    const { configuration, unmapped } = parseOdmStudy(odm(''));
    expect(configuration.arms).toEqual([
      { code: 'a_b', name: 'Arm & A', ratio: 2 },
      { code: 'B', name: 'B', ratio: 1 },
    ]);
    expect(configuration).toMatchObject({
      title: 'S',
      registry: null,
      randomization: { method: 'simple' },
      visits: [],
      measures: [],
      primaryVisit: null,
    });
    expect(unmapped).toEqual([]);
  });

  it('maps baseline items by data type and reports the rest', () => {
    const { configuration, unmapped } = parseOdmStudy(
      odm(`<ItemGroupDef OID="IG.BASELINE" Name="b" Repeating="No">
        <ItemRef ItemOID="I1" Mandatory="Yes"/><ItemRef ItemOID="I2" Mandatory="No"/><ItemRef ItemOID="I3" Mandatory="No"/>
      </ItemGroupDef>
      <ItemDef OID="I1" Name="weight" DataType="float"><Question><TranslatedText>Weight&#10;kg</TranslatedText></Question>
        <RangeCheck Comparator="LE" SoftHard="Hard"><CheckValue>300</CheckValue></RangeCheck></ItemDef>
      <ItemDef OID="I2" Name="sex" DataType="text"><CodeListRef CodeListOID="CL.S"/></ItemDef>
      <ItemDef OID="I3" Name="born" DataType="date"/>
      <CodeList OID="CL.S" Name="s" DataType="text"><CodeListItem CodedValue="f"><Decode><TranslatedText>F</TranslatedText></Decode></CodeListItem></CodeList>
      <CodeList OID="CL.UNUSED" Name="u" DataType="text"><CodeListItem CodedValue="x"><Decode><TranslatedText>X</TranslatedText></Decode></CodeListItem></CodeList>`),
    );
    expect(configuration.baselineVariables).toEqual([
      { name: 'weight', label: 'Weight\nkg', type: 'number', max: 300, required: true },
      { name: 'sex', type: 'category', levels: ['f'] },
    ]);
    expect(unmapped.map((u) => u.reason)).toEqual(['data type date has no baseline variable type', 'not used']);
  });

  it('falls back to simple randomization, reported, when the alias is not one trialdesk knows', () => {
    for (const alias of [
      '{',
      '5',
      '{"method":"permuted_block"}',
      '{"method":"simple","seed":"00"}',
      '{"method":"x"}',
    ]) {
      const event = `<StudyEventDef OID="SE.RANDOMIZATION" Name="R" Repeating="No" Type="Scheduled">
        <Alias Context="trialdesk.randomization" Name="${alias.replace(/"/g, '&quot;')}"/></StudyEventDef>`;
      const { configuration, unmapped } = parseOdmStudy(odm(event));
      expect(configuration.randomization).toEqual({ method: 'simple' });
      expect(unmapped.map((u) => u.reason)).toEqual(['not a randomization trialdesk knows; simple randomization used']);
    }
    const kept = `<StudyEventDef OID="SE.RANDOMIZATION" Name="R" Repeating="No" Type="Scheduled">
      <Alias Context="trialdesk.randomization" Name="{&quot;method&quot;:&quot;minimization&quot;,&quot;factors&quot;:[&quot;site&quot;]}"/></StudyEventDef>`;
    expect(parseOdmStudy(odm(kept)).configuration.randomization).toEqual({ method: 'minimization', factors: ['site'] });
  });

  it('refuses DOCTYPEs, ill-formed XML, documents without a study or without arms', () => {
    for (const document of ['<!DOCTYPE x><ODM/>', '<ODM><Study>', '<ODM/>', odm('').replace(/CL\.ARM/, 'CL.OTHER')])
      expect(() => parseOdmStudy(document)).toThrow(ValidationError);
  });
});

describe('FHIR mappings', () => {
  it('give every trialdesk status an R4 ResearchSubject status', () => {
    const statuses = ['ineligible', 'eligible', 'declined', 'consented', 'randomized', 'not_randomized', 'withdrawn'];
    expect(statuses.map((s) => RESEARCH_SUBJECT_STATUS[s])).toEqual([
      'ineligible',
      'eligible',
      'not-registered',
      'pending-on-study',
      'on-study',
      'not-registered',
      'withdrawn',
    ]);
  });

  it('give consents their status', () => {
    expect(consentStatus({ decision: 'granted', withdrawal: null })).toBe('active');
    expect(consentStatus({ decision: 'granted', withdrawal: { withdrawnOn: '', reason: '', scope: 'all' } })).toBe(
      'inactive',
    );
    expect(consentStatus({ decision: 'declined', withdrawal: null })).toBe('rejected');
  });

  it('derive stable RFC 9562 UUIDs', () => {
    const id = derivedUuid('t', 'site', 'A');
    expect(id).toBe(derivedUuid('t', 'site', 'A'));
    expect(id).not.toBe(derivedUuid('t', 'site', 'B'));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
