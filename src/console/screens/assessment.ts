import { api, Measure, VisitStatus } from '../api';
import { h } from '../dom';
import { t } from '../i18n';
import { actionForm, field, today } from './forms';
import type { ParticipantContext } from './participant-context';

type Value = number | boolean | string | { items: (number | null)[] } | null;

/** One measure's controls, and how to read its value; each control's id follows its 422 pointer. */
function measureField(m: Measure): { element: HTMLElement; read: () => Value } {
  const id = `values-${m.code}`;
  if (m.type === 'scale') {
    const inputs = Array.from({ length: m.items ?? 0 }, (_, i) =>
      h('input', { id: `${id}-items-${i}`, type: 'number', step: '1', min: m.itemMin, max: m.itemMax }),
    );
    return {
      element: h(
        'fieldset',
        { class: 'items' },
        h('legend', {}, `${m.label} (${m.itemMin}–${m.itemMax})`),
        inputs.map((input, i) =>
          h('div', {}, h('label', { for: input.id }, t('assessment.item', { n: i + 1 })), input),
        ),
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
      { id },
      h('option', { value: '' }, t('screening.notRecorded')),
      m.type === 'binary'
        ? [h('option', { value: 'true' }, t('screening.yes')), h('option', { value: 'false' }, t('screening.no'))]
        : (m.levels ?? []).map((level) => h('option', { value: level }, level)),
    );
    return {
      element: field(id, m.label, select),
      read: () => (select.value === '' ? null : m.type === 'binary' ? select.value === 'true' : select.value),
    };
  }
  const input = h('input', {
    id,
    type: 'number',
    step: m.type === 'number' ? 'any' : '1',
    min: m.type === 'count' ? 0 : m.min,
    max: m.max,
  });
  return {
    element: field(id, m.unit ? `${m.label} (${m.unit})` : m.label, input),
    read: () => (input.value === '' ? null : Number(input.value)),
  };
}

/**
 * Record the assessment of a visit that is due (open or overdue): the fields come from the trial's measures for
 * that visit; the API scores it and checks every value (422 at `/values/<measure>/items/<n>`).
 */
export async function assessmentForm({ trial, p, canAct, reload }: ParticipantContext): Promise<HTMLElement | ''> {
  if (!canAct || p.role !== 'service_user' || !p.allocation) return '';
  const { data: schedule } = await api.GET('/v1/trials/{trialId}/participants/{participantId}/schedule', {
    params: { path: { trialId: trial.id, participantId: p.id } },
  });
  const due: VisitStatus[] = ['open', 'overdue'];
  const visits = (schedule?.visits ?? []).filter((v) => due.includes(v.status));
  if (visits.length === 0) return '';
  const visit = h(
    'select',
    { id: 'assessment-visit' },
    visits.map((v) => h('option', { value: v.visit }, v.label)),
  );
  const assessedOn = h('input', { id: 'assessment-on', type: 'date', value: today(), required: true });
  const assessor = h('input', { id: 'assessment-assessor', type: 'text', maxlength: 64 });
  const measuresBox = h('div', { class: 'stack' });
  let fields: { code: string; read: () => Value }[] = [];
  const showMeasures = () => {
    const built = trial.measures
      .filter((m) => m.visits.includes(visit.value))
      .map((m) => ({ code: m.code, ...measureField(m) }));
    fields = built;
    measuresBox.replaceChildren(...built.map((b) => b.element));
  };
  visit.addEventListener('change', showMeasures);
  showMeasures();
  const form = actionForm({
    submitLabel: t('assessment.submit'),
    fields: [
      field('assessment-visit', t('worklist.visit'), visit),
      field('assessment-on', t('assessment.on'), assessedOn),
      field('assessment-assessor', t('assessment.assessor'), assessor),
      measuresBox,
    ],
    send: () =>
      api.POST('/v1/trials/{trialId}/participants/{participantId}/assessments', {
        params: { path: { trialId: trial.id, participantId: p.id } },
        body: {
          visit: visit.value,
          assessedOn: assessedOn.value,
          assessor: assessor.value || undefined,
          values: Object.fromEntries(fields.map((f) => [f.code, f.read()])),
        },
      }),
    done: reload,
  });
  return h('details', { class: 'action' }, h('summary', {}, t('assessment.title')), form);
}
