import { api, Trial } from '../api';
import { h, show } from '../dom';
import { t } from '../i18n';
import type { Session } from '../session';
import { participantRoleLabel } from './labels';
import { errorId, fieldId, labelled, problemForm } from './fields';

type Role = 'service_user' | 'case_worker';
type Criterion = Trial['eligibility'][number];
type Variable = Trial['baselineVariables'][number];

const appliesTo = (item: { roles?: Role[] }, role: Role) => (item.roles ?? ['service_user']).includes(role);
function criterionField(criterion: Criterion): HTMLElement {
  const pointer = `/eligibility/${criterion.code}`;
  const name = fieldId(pointer);
  const kind = criterion.kind === 'inclusion' ? t('screening.inclusion') : t('screening.exclusion');
  return h(
    'fieldset',
    { class: 'inline', 'aria-describedby': errorId(pointer), 'data-criterion': criterion.code },
    h('legend', {}, `${criterion.text} `, h('span', { class: 'hint' }, `(${kind})`)),
    h('label', {}, h('input', { type: 'radio', name, value: 'yes', required: true }), ` ${t('screening.yes')}`),
    h('label', {}, h('input', { type: 'radio', name, value: 'no' }), ` ${t('screening.no')}`),
    h('p', { class: 'field-error', id: errorId(pointer) }),
  );
}

function variableField(variable: Variable): HTMLElement {
  const pointer = `/baseline/${variable.name}`;
  const range = [
    variable.min !== undefined ? `≥ ${variable.min}` : '',
    variable.max !== undefined ? `≤ ${variable.max}` : '',
    variable.unit ?? '',
  ]
    .filter(Boolean)
    .join(' ');
  const control =
    variable.type === 'category'
      ? h(
          'select',
          { name: variable.name },
          h('option', { value: '' }, t('screening.notRecorded')),
          (variable.levels ?? []).map((level) => h('option', { value: level }, level)),
        )
      : h('input', {
          name: variable.name,
          type: 'number',
          inputmode: 'decimal',
          step: variable.type === 'integer' ? '1' : 'any',
          min: variable.min,
          max: variable.max,
        });
  return labelled(pointer, variable.label ?? variable.name, control, range || undefined);
}

export async function screeningScreen(session: Session, trialId: string): Promise<void> {
  const { data: trial } = await api.GET('/v1/trials/{trialId}', { params: { path: { trialId } } });
  if (!trial) throw new Error(t('error.notFound'));
  const sites = trial.sites.filter((s) => !session.me.siteCodes || session.me.siteCodes.includes(s.code));
  const site = h(
    'select',
    {},
    sites.map((s) => h('option', { value: s.code }, `${s.code} · ${s.name}`)),
  );
  const role = h(
    'select',
    {},
    (['service_user', 'case_worker'] as Role[]).map((r) => h('option', { value: r }, participantRoleLabel(r))),
  );
  const label = h('input', { type: 'text', maxlength: 64, required: true, autocomplete: 'off' });
  const screenedOn = h('input', { type: 'date', required: true, value: new Date().toISOString().slice(0, 10) });
  const roleFields = h('div', { class: 'stack' });
  const preview = h('div', { 'aria-live': 'polite' });

  const currentRole = () => role.value as Role;
  const criteria = () => trial.eligibility.filter((c) => appliesTo(c, currentRole()));
  const answers = (): Record<string, boolean> => {
    const result: Record<string, boolean> = {};
    for (const criterion of criteria()) {
      const checked = roleFields.querySelector<HTMLInputElement>(
        `input[name="${fieldId(`/eligibility/${criterion.code}`)}"]:checked`,
      );
      if (checked) result[criterion.code] = checked.value === 'yes';
    }
    return result;
  };
  /** Explains, before saving, which answers make the person ineligible. */
  const explain = () => {
    const given = answers();
    const unmet = criteria().filter(
      (c) => c.code in given && (c.kind === 'inclusion' ? !given[c.code] : given[c.code]),
    );
    preview.replaceChildren(
      unmet.length
        ? h(
            'div',
            { class: 'notice' },
            h('p', {}, t('screening.willBeIneligible')),
            h(
              'ul',
              {},
              unmet.map((c) => h('li', {}, c.text)),
            ),
          )
        : '',
    );
  };
  const renderRoleFields = () => {
    const variables = trial.baselineVariables.filter((v) => appliesTo(v, currentRole()));
    roleFields.replaceChildren(
      criteria().length ? h('h2', {}, t('screening.criteria')) : '',
      ...criteria().map(criterionField),
      variables.length ? h('h2', {}, t('screening.baseline')) : '',
      ...variables.map(variableField),
    );
    explain();
  };
  roleFields.addEventListener('change', explain);
  role.addEventListener('change', renderRoleFields);

  const form = problemForm(
    t('screening.submit'),
    async () => {
      const baseline: Record<string, string | number> = {};
      for (const control of roleFields.querySelectorAll<HTMLInputElement | HTMLSelectElement>(
        'input[name]:not([type=radio]), select[name]',
      )) {
        if (control.value === '') continue;
        baseline[control.name] = control instanceof HTMLInputElement ? Number(control.value) : control.value;
      }
      const { data, error } = await api.POST('/v1/trials/{trialId}/participants', {
        params: { path: { trialId } },
        body: {
          siteCode: site.value,
          role: currentRole(),
          label: label.value,
          screenedOn: screenedOn.value,
          eligibility: answers(),
          baseline,
        },
      });
      if (!data) return error;
      location.hash = `#/trials/${trialId}/participants/${data.id}`;
      return null;
    },
    [
      labelled('/siteCode', t('trial.site'), site),
      labelled('/role', t('participants.role'), role),
      labelled('/label', t('participants.label'), label, t('screening.labelHint')),
      labelled('/screenedOn', t('participants.screenedOn'), screenedOn),
      roleFields,
      preview,
    ],
  );
  renderRoleFields();
  show(
    h('h1', {}, t('screening.title', { trial: trial.code })),
    h('p', {}, h('a', { href: `#/trials/${trialId}` }, t('nav.backToTrial'))),
    form,
  );
}
