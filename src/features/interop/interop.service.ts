import { Readable } from 'node:stream';
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import type { ArmLabeller, UseCaseContext } from '../../core/use-case-context';
import { createTrial, getTrial } from '../trials/trials.service';
import type { TrialView } from '../trials/trials';
import { bundleOf, studyEntries, subjectEntries } from './fhir-bundle';
import { auditActors, streamSubjects, SubjectRow } from './interop.query';
import {
  adminDataXml,
  CLINICAL_DATA_CLOSE,
  clinicalDataOpen,
  ODM_CLOSE,
  odmOpen,
  OdmSubject,
  studyXml,
  subjectXml,
} from './odm-export';
import { parseOdmStudy, UnmappedElement } from './odm-import';

function subjectOf(row: SubjectRow, labeller: ArmLabeller): OdmSubject {
  return {
    participantId: row.participant_id,
    label: row.label,
    siteCode: row.site_code,
    role: row.role,
    status: row.status,
    screenedOn: row.screened_on,
    eligible: row.eligible,
    eligibility: row.eligibility,
    baseline: row.baseline,
    consents: row.consents,
    allocation: row.allocation ? { ...row.allocation, arm: labeller.label(row.allocation.arm) } : null,
    assignedArm: row.assigned_arm ? labeller.label(row.assigned_arm) : null,
    assignmentReason: row.assignment_reason,
    events: row.events,
    missedVisits: row.missed_visits,
    assessments: row.assessments,
    audit: row.audit ? new Map(row.audit.map((fact) => [fact.entityId, fact])) : null,
  };
}

/** The trial as an ODM 1.3.2 Snapshot, subject by subject as the rows are read; arms through the labeller. */
export async function exportOdm(ctx: UseCaseContext, input: { trialId: string; audit?: boolean }): Promise<Readable> {
  const trial = await getTrial(ctx, { trialId: input.trialId });
  const labeller = await ctx.armLabeller(input.trialId);
  const users = await auditActors(ctx.db, input.trialId);
  const now = ctx.now().toISOString();
  const rows = streamSubjects(ctx.db, input.trialId, input.audit ?? false);
  async function* document() {
    yield odmOpen({ fileOid: `${trial.code}.${now}`, createdAt: now, description: trial.title });
    yield studyXml(trial, { armsMasked: labeller.blinded });
    yield adminDataXml(
      trial,
      users.map((user) => ({
        keyId: user.key_id,
        name: user.name ?? (user.key_id ? `API key ${user.key_id}` : 'trialdesk service'),
        prefix: user.prefix,
        role: user.role,
      })),
      trial.sites,
      (trial.activatedAt ?? trial.createdAt).slice(0, 10),
    );
    yield clinicalDataOpen(trial);
    for await (const row of rows) yield subjectXml(trial, subjectOf(row as SubjectRow, labeller));
    yield CLINICAL_DATA_CLOSE;
    yield ODM_CLOSE;
  }
  return Readable.from(document());
}

/** The trial as a FHIR R4 Bundle (collection); arms through the labeller. */
export async function exportFhirBundle(ctx: UseCaseContext, input: { trialId: string }): Promise<Bundle> {
  const trial = await getTrial(ctx, { trialId: input.trialId });
  const labeller = await ctx.armLabeller(input.trialId);
  const subjects: BundleEntry[] = [];
  const armCounts = new Map<string, number>();
  for await (const raw of streamSubjects(ctx.db, input.trialId, false)) {
    const row = raw as SubjectRow;
    const arm = row.allocation ? row.allocation.arm : row.assigned_arm;
    const label = arm ? labeller.label(arm) : null;
    if (label) armCounts.set(label, (armCounts.get(label) ?? 0) + 1);
    subjects.push(
      ...subjectEntries(trial, {
        participantId: row.participant_id,
        label: row.label,
        siteCode: row.site_code,
        status: row.status,
        screenedOn: row.screened_on,
        consents: row.consents,
        arm: label,
        randomizedOn: row.allocation ? row.allocation.randomizedAt.slice(0, 10) : null,
      }),
    );
  }
  return bundleOf(trial, ctx.now().toISOString(), [...studyEntries(trial, armCounts), ...subjects]);
}

/** Creates a trial in setup from an ODM study definition, as `POST /v1/trials` would; lists what was not mapped. */
export async function importOdmStudy(
  ctx: UseCaseContext,
  input: { code: string; document: string },
): Promise<{ trial: TrialView; unmapped: UnmappedElement[] }> {
  const parsed = parseOdmStudy(input.document);
  const trial = await createTrial(ctx, { code: input.code, ...parsed.configuration });
  return { trial, unmapped: parsed.unmapped };
}
