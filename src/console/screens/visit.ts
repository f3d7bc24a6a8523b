import { api, Measure, VisitStatus } from '../api';
import { h, show } from '../dom';
import { formatDate, t } from '../i18n';
import type { Session } from '../session';
import { errorId, labelled, problemForm } from './fields';
import { today } from './forms';
import { visitStatusLabel } from './labels';

type Value = number | boolean | string | { items: (number | null)[] } | null;

/** Visits that can still be recorded, as assessed or as missed. */
export const RECORDABLE: readonly VisitStatus[] = ['open', 'overdue'];

/** Who may record a visit (the API's roles for recordAssessment and recordMissedVisit). */
export const canRecordVisits = (session: Session): boolean => ['admin', 'coordinator'].includes(session.me.role);

/** The link to a visit's screen, from the timeline and the work list. */
export function visitLink(trialId: string, participantId: string, visit: string, text: string): HTMLAnchorElement {
  return h('a', { href: `#/trials/${trialId}/participants/${participantId}/visits/${visit}` }, text);
}

/** A number control whose hint states the measure's range and unit, as screening does for baseline variables. */
function numberControl(m: Measure): { control: HTMLInputElement; hint: string } {
  const min = m.type === 'count' ? 0 : m.min;
  const range = [min !== undefined ? `≥ ${min}` : '', m.max !== undefined ? `≤ ${m.max}` : '', m.unit ?? '']
    .filter(Boolean)
    .join(' ');
  const control = h('input', {
    type: 'number',
    inputmode: m.type === 'number' ? 'decimal' : 'numeric',
    step: m.type === 'number' ? 'any' : '1',
    min,
    max: m.max,
  });
  return { control, hint: range };
}

/**
 * One measure's controls, each named after the JSON pointer the API answers a 422 with (`/values/hope/items/3`),
 * and how to read the measure's value (null: not recorded).
 */
function measureField(m: Measure): { element: HTMLElement; read: () => Value } {
  const pointer = `/values/${m.code}`;
  if (m.type === 'scale') {
    const inputs = Array.from({ length: m.items ?? 0 }, () =>
      h('input', { type: 'number', inputmode: 'numeric', step: '1', min: m.itemMin, max: m.itemMax }),
    );
    const hint = t('assessment.scaleHint', {
      min: m.itemMin ?? '',
      max: m.itemMax ?? '',
      missing: m.maxMissingItems ?? 0,
    });
    return {
      element: h(
        'fieldset',
        { class: 'items', 'data-measure': m.code, 'aria-describedby': errorId(pointer) },
        h('legend', {}, m.label),
        h('p', { class: 'hint' }, hint),
        inputs.map((input, i) => labelled(`${pointer}/items/${i}`, t('assessment.item', { n: i + 1 }), input)),
        h('p', { class: 'field-error', id: errorId(pointer) }),
      ),
      read: () =>
        inputs.every((input) => input.value === '')
          ? null
          : { items: inputs.map((input) => (input.value === '' ? null : Number(input.value))) },
    };
  }
  if (m.type === 'binary' || m.type === 'category') {
    const select = h(
      'select',
      {},
      h('option', { value: '' }, t('screening.notRecorded')),
      m.type === 'binary'
        ? [h('option', { value: 'true' }, t('screening.yes')), h('option', { value: 'false' }, t('screening.no'))]
        : (m.levels ?? []).map((level) => h('option', { value: level }, level)),
    );
    return {
      element: labelled(pointer, m.label, select),
      read: () => (select.value === '' ? null : m.type === 'binary' ? select.value === 'true' : select.value),
    };
  }
  const { control, hint } = numberControl(m);
  return {
    element: labelled(pointer, m.label, control, hint || undefined),
    read: () => (control.value === '' ? null : Number(control.value)),
  };
}

/**
 * One visit of one participant: its dates and status, and, while it is due or overdue, the assessment form built
 * from the trial's measures for that visit and the form that marks it missed with a reason. Each 422 pointer is
 * shown at its field; success goes back to the participant page, whose timeline shows the visit's new status.
 */
export async function visitScreen(session: Session, trialId: string, participantId: string, code: string) {
  const [{ data: trial }, { data: schedule }] = await Promise.all([
    api.GET('/v1/trials/{trialId}', { params: { path: { trialId } } }),
    api.GET('/v1/trials/{trialId}/participants/{participantId}/schedule', {
      params: { path: { trialId, participantId } },
    }),
  ]);
  const visit = schedule?.visits.find((v) => v.visit === code);
  if (!trial || !schedule || !visit) throw new Error(t('error.notFound'));
  const participantPage = `#/trials/${trialId}/participants/${participantId}`;
  const canRecord = canRecordVisits(session) && trial.status === 'active' && RECORDABLE.includes(visit.status);

  const facts = h(
    'dl',
    { class: 'facts', id: 'visit-facts' },
    h('dt', {}, t('trials.status')),
    h('dd', {}, visitStatusLabel(visit.status), visit.reason ? ` (${visit.reason})` : ''),
    visit.targetDate && [h('dt', {}, t('worklist.target')), h('dd', {}, formatDate(visit.targetDate))],
    visit.windowOpens &&
      visit.windowCloses && [
        h('dt', {}, t('worklist.window')),
        h('dd', {}, `${formatDate(visit.windowOpens)} – ${formatDate(visit.windowCloses)}`),
      ],
    visit.assessedOn && [h('dt', {}, t('assessment.on')), h('dd', {}, formatDate(visit.assessedOn))],
  );

  const sections: HTMLElement[] = [];
  if (canRecord) {
    const assessedOn = h('input', { type: 'date', required: true, value: today() });
    const assessor = h('input', { type: 'text', maxlength: 64, autocomplete: 'off' });
    const measures = trial.measures.filter((m) => m.visits.includes(code)).map((m) => ({ m, ...measureField(m) }));
    const assessment = problemForm(
      t('assessment.submit'),
      async () => {
        const { data, error } = await api.POST('/v1/trials/{trialId}/participants/{participantId}/assessments', {
          params: { path: { trialId, participantId } },
          body: {
            visit: code,
            assessedOn: assessedOn.value,
            assessor: assessor.value || undefined,
            values: Object.fromEntries(measures.map(({ m, read }) => [m.code, read()])),
          },
        });
        if (!data) return error;
        location.hash = participantPage;
        return null;
      },
      [
        labelled('/assessedOn', t('assessment.on'), assessedOn),
        labelled('/assessor', t('assessment.assessor'), assessor),
        ...measures.map(({ element }) => element),
      ],
    );
    assessment.id = 'assessment-form';
    sections.push(
      h(
        'section',
        { 'aria-labelledby': 'assessment-heading' },
        h('h2', { id: 'assessment-heading' }, t('assessment.title')),
        assessment,
      ),
    );

    const reason = h('input', { type: 'text', maxlength: 2000, required: true });
    const recordedOn = h('input', { type: 'date', required: true, value: today() });
    // The missed form's pointers are prefixed, so its /recordedOn is not taken for another form's field.
    const missed = problemForm(
      t('missed.submit'),
      async () => {
        const { data, error } = await api.POST(
          '/v1/trials/{trialId}/participants/{participantId}/visits/{visit}/missed',
          {
            params: { path: { trialId, participantId, visit: code } },
            body: { reason: reason.value, recordedOn: recordedOn.value },
          },
        );
        if (!data) return error;
        location.hash = participantPage;
        return null;
      },
      [
        labelled('/missed/reason', t('missed.reason'), reason, t('missed.reasonHint')),
        labelled('/missed/recordedOn', t('missed.on'), recordedOn),
      ],
      '/missed',
    );
    missed.id = 'missed-form';
    sections.push(
      h(
        'section',
        { 'aria-labelledby': 'missed-heading' },
        h('h2', { id: 'missed-heading' }, t('missed.title')),
        missed,
      ),
    );
  }

  show(
    h('h1', {}, t('visit.title', { visit: visit.label, label: schedule.label })),
    h('p', {}, h('a', { href: participantPage }, t('visit.back', { label: schedule.label }))),
    facts,
    ...sections,
  );
}
