import { api, Trial } from '../api';
import type { components } from '../../generated/openapi';
import { h, show } from '../dom';
import { t } from '../i18n';
import { errorId, fieldId, labelled, problemForm } from './fields';

type TrialInput = components['schemas']['TrialInput'];
type TrialPatch = components['schemas']['TrialPatch'];
type Values = Record<string, string | boolean>;
interface Column {
  key: string;
  label: string;
  type?: 'text' | 'number' | 'checkbox' | 'select';
  options?: [value: string, label: string][];
  hint?: string;
}

/**
 * A list the person can grow and shrink (arms, criteria, …): each control is named after its JSON pointer in the
 * request (`/arms/0/code`), so the API's 422 pointers land at their fields. Rows are rebuilt on add and remove so
 * that positions (and so pointers) stay 0, 1, 2, … as in the request.
 */
function repeater(name: string, title: string, columns: Column[], initial: Values[]) {
  const body = h('div', { class: 'rows' });
  let rows = initial;
  const read = (): Values[] =>
    [...body.querySelectorAll<HTMLElement>('.row')].map((row) => {
      const values: Values = {};
      for (const control of row.querySelectorAll<HTMLInputElement | HTMLSelectElement>('[data-key]'))
        values[control.dataset.key!] =
          control instanceof HTMLInputElement && control.type === 'checkbox' ? control.checked : control.value;
      return values;
    });
  const render = () => {
    body.replaceChildren(
      ...rows.map((values, index) => {
        const pointer = `/${name}/${index}`;
        const controls = columns.map((column) => {
          const value = values[column.key];
          const control =
            column.type === 'select'
              ? h(
                  'select',
                  {},
                  (column.options ?? []).map(([v, label]) => h('option', { value: v, selected: v === value }, label)),
                )
              : column.type === 'checkbox'
                ? h('input', { type: 'checkbox', checked: value === true })
                : h('input', {
                    type: column.type === 'number' ? 'number' : 'text',
                    step: 'any',
                    value: typeof value === 'string' ? value : '',
                  });
          control.dataset.key = column.key;
          return labelled(`${pointer}/${column.key}`, column.label, control, column.hint);
        });
        return h(
          'fieldset',
          { class: 'row', id: fieldId(pointer), 'aria-describedby': errorId(pointer) },
          h('legend', {}, `${title} ${index + 1}`),
          ...controls,
          h(
            'button',
            {
              type: 'button',
              class: 'secondary',
              onclick: () => {
                rows = read();
                rows.splice(index, 1);
                render();
              },
            },
            t('setup.remove', { item: `${title} ${index + 1}` }),
          ),
          h('p', { class: 'field-error', id: errorId(pointer) }),
        );
      }),
    );
  };
  render();
  const element = h(
    'section',
    { 'aria-labelledby': `${name}-heading` },
    h('h2', { id: `${name}-heading` }, title),
    h('p', { class: 'field-error', id: errorId(`/${name}`) }),
    body,
    h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        onclick: () => {
          rows = [...read(), {}];
          render();
          body.querySelector<HTMLElement>('.row:last-child input, .row:last-child select')?.focus();
        },
      },
      t('setup.add', { item: title }),
    ),
  );
  return { element, read };
}

const text = (value: string | boolean | undefined) => (typeof value === 'string' ? value.trim() : '');
/** Optional values: left out of the request when empty, so the API's defaults apply. */
const optional = (value: string | boolean | undefined) => text(value) || undefined;
const optionalNumber = (value: string | boolean | undefined) => (text(value) === '' ? undefined : Number(value));
/** "2, 4, 6" → [2, 4, 6]: a list typed in one box. */
const list = (value: string | boolean | undefined) =>
  text(value)
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
type ParticipantRole = components['schemas']['ParticipantRole'];
const roleValue = (list?: readonly ParticipantRole[]): string =>
  !list ? '' : list.length === 2 ? 'both' : list[0] === 'case_worker' ? 'case_worker' : '';
/** An object without its undefined properties, so that spreading it keeps what it leaves out. */
const withoutUndefined = <T extends object>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
const roles = (value: string | boolean | undefined): ParticipantRole[] | undefined =>
  value === 'both' ? ['service_user', 'case_worker'] : value ? [value as ParticipantRole] : undefined;

/**
 * Admin: a new trial as a guided form (arms, randomization, criteria, consent forms, baseline variables,
 * incentives, sites). It builds exactly the `createTrial` request the API takes and shows the API's 422 pointers
 * at their fields; the sites follow with `createSite`. It adds no rule of its own.
 */
export function setupScreen(existing?: { trial: Trial; etag: string | null }): void {
  const was = existing?.trial;
  const code = h('input', { type: 'text', required: true, autocomplete: 'off', value: was?.code, readonly: !!was });
  const title = h('input', { type: 'text', required: true, value: was?.title });
  const registry = h('input', { type: 'text', value: was?.registry ?? undefined });
  const roleOptions: [string, string][] = [
    ['', t('participantRole.serviceUser')],
    ['case_worker', t('participantRole.caseWorker')],
    ['both', t('setup.bothRoles')],
  ];
  const arms = repeater(
    'arms',
    t('setup.arm'),
    [
      { key: 'code', label: t('trial.code') },
      { key: 'name', label: t('setup.name') },
      { key: 'ratio', label: t('setup.ratio'), type: 'number' },
    ],
    was
      ? was.arms.map((a) => ({ code: a.code, name: a.name, ratio: String(a.ratio) }))
      : [{ ratio: '1' }, { ratio: '1' }],
  );
  const method = h(
    'select',
    {},
    h('option', { value: 'permuted_block' }, t('setup.permutedBlock')),
    h('option', { value: 'simple' }, t('setup.simple')),
    h('option', { value: 'minimization' }, t('setup.minimization')),
  );
  const r = was?.randomization;
  if (r) method.value = r.method;
  const blockSizes = h('input', {
    type: 'text',
    value: r?.method === 'permuted_block' ? r.blockSizes.join(', ') : '2, 4',
  });
  const strata = h('input', {
    type: 'text',
    value: !r
      ? 'site'
      : r.method === 'minimization'
        ? r.factors.join(', ')
        : 'stratifyBy' in r
          ? (r.stratifyBy ?? []).join(', ')
          : '',
  });
  const criteria = repeater(
    'eligibility',
    t('setup.criterion'),
    [
      { key: 'code', label: t('trial.code') },
      {
        key: 'kind',
        label: t('setup.kind'),
        type: 'select',
        options: [
          ['inclusion', t('screening.inclusion')],
          ['exclusion', t('screening.exclusion')],
        ],
      },
      { key: 'text', label: t('setup.criterionText') },
      { key: 'roles', label: t('setup.roles'), type: 'select', options: roleOptions },
    ],
    was?.eligibility.map((c) => ({ code: c.code, kind: c.kind, text: c.text, roles: roleValue(c.roles) })) ?? [],
  );
  const consentForms = repeater(
    'consentForms',
    t('setup.consentForm'),
    [
      { key: 'code', label: t('trial.code') },
      { key: 'version', label: t('setup.version') },
      { key: 'title', label: t('setup.formTitle') },
      { key: 'required', label: t('setup.requiredForm'), type: 'checkbox' },
    ],
    was?.consentForms.map((f) => ({
      code: f.code,
      version: f.version,
      title: f.title ?? '',
      required: f.required,
    })) ?? [{ code: 'trial', version: '1.0', required: true }],
  );
  const variables = repeater(
    'baselineVariables',
    t('setup.variable'),
    [
      { key: 'name', label: t('setup.variableName'), hint: t('setup.variableNameHint') },
      { key: 'label', label: t('setup.label') },
      {
        key: 'type',
        label: t('setup.type'),
        type: 'select',
        options: [
          ['number', t('setup.number')],
          ['integer', t('setup.integer')],
          ['category', t('setup.category')],
        ],
      },
      { key: 'unit', label: t('setup.unit') },
      { key: 'min', label: t('setup.min'), type: 'number' },
      { key: 'max', label: t('setup.max'), type: 'number' },
      { key: 'levels', label: t('setup.levels'), hint: t('setup.commaList') },
      { key: 'roles', label: t('setup.roles'), type: 'select', options: roleOptions },
    ],
    was?.baselineVariables.map((v) => ({
      name: v.name,
      label: v.label ?? '',
      type: v.type,
      unit: v.unit ?? '',
      min: v.min === undefined ? '' : String(v.min),
      max: v.max === undefined ? '' : String(v.max),
      levels: (v.levels ?? []).join(', '),
      roles: roleValue(v.roles),
    })) ?? [],
  );
  const incentives = repeater(
    'incentives',
    t('setup.incentive'),
    [
      { key: 'code', label: t('trial.code') },
      { key: 'description', label: t('setup.description') },
      { key: 'amount', label: t('setup.amount'), type: 'number' },
      { key: 'currency', label: t('setup.currency'), hint: 'HKD' },
      { key: 'roles', label: t('setup.roles'), type: 'select', options: roleOptions },
      { key: 'maxPerParticipant', label: t('setup.maxPerParticipant'), type: 'number' },
      { key: 'occasion', label: t('setup.occasion') },
    ],
    was?.incentives.map((i) => ({
      code: i.code,
      description: i.description,
      amount: String(i.amount),
      currency: i.currency,
      roles: roleValue(i.roles),
      maxPerParticipant: String(i.maxPerParticipant),
      occasion: i.occasion ?? '',
    })) ?? [],
  );
  const str = (value: number | undefined) => (value === undefined ? '' : String(value));
  const visits = repeater(
    'visits',
    t('setup.visit'),
    [
      { key: 'code', label: t('trial.code'), hint: t('setup.visitCodeHint') },
      { key: 'label', label: t('setup.label') },
      { key: 'day', label: t('setup.day'), type: 'number', hint: t('setup.dayHint') },
      { key: 'windowBefore', label: t('setup.windowBefore'), type: 'number' },
      { key: 'windowAfter', label: t('setup.windowAfter'), type: 'number' },
    ],
    was?.visits.map((v) => ({
      code: v.code,
      label: v.label,
      day: String(v.day),
      windowBefore: String(v.windowBefore),
      windowAfter: String(v.windowAfter),
    })) ?? [],
  );
  const primaryVisit = h('input', { type: 'text', value: was?.primaryVisit ?? undefined });
  const measures = repeater(
    'measures',
    t('setup.measure'),
    [
      { key: 'code', label: t('trial.code') },
      { key: 'label', label: t('setup.label') },
      {
        key: 'type',
        label: t('setup.type'),
        type: 'select',
        options: [
          ['scale', t('setup.scale')],
          ['number', t('setup.number')],
          ['integer', t('setup.integer')],
          ['count', t('setup.count')],
          ['binary', t('setup.binary')],
          ['category', t('setup.category')],
        ],
      },
      { key: 'visits', label: t('setup.measureVisits'), hint: t('setup.commaList') },
      { key: 'items', label: t('setup.items'), type: 'number', hint: t('setup.scaleOnly') },
      { key: 'itemMin', label: t('setup.itemMin'), type: 'number', hint: t('setup.scaleOnly') },
      { key: 'itemMax', label: t('setup.itemMax'), type: 'number', hint: t('setup.scaleOnly') },
      { key: 'reverseItems', label: t('setup.reverseItems'), hint: t('setup.scaleOnly') },
      {
        key: 'score',
        label: t('setup.score'),
        type: 'select',
        options: [
          ['', '—'],
          ['sum', t('setup.scoreSum')],
          ['mean', t('setup.scoreMean')],
        ],
      },
      { key: 'maxMissingItems', label: t('setup.maxMissingItems'), type: 'number', hint: t('setup.scaleOnly') },
      { key: 'min', label: t('setup.min'), type: 'number' },
      { key: 'max', label: t('setup.max'), type: 'number' },
      { key: 'unit', label: t('setup.unit') },
      { key: 'levels', label: t('setup.levels'), hint: t('setup.commaList') },
      { key: 'primary', label: t('setup.primary'), type: 'checkbox' },
    ],
    was?.measures.map((m) => ({
      code: m.code,
      label: m.label,
      type: m.type,
      visits: m.visits.join(', '),
      items: str(m.items),
      itemMin: str(m.itemMin),
      itemMax: str(m.itemMax),
      reverseItems: (m.reverseItems ?? []).join(', '),
      score: m.score ?? '',
      maxMissingItems: str(m.maxMissingItems),
      min: str(m.min),
      max: str(m.max),
      unit: m.unit ?? '',
      levels: (m.levels ?? []).join(', '),
      primary: m.primary === true,
    })) ?? [],
  );
  const sites = repeater(
    'sites',
    t('trial.site'),
    [
      { key: 'code', label: t('trial.code') },
      { key: 'name', label: t('setup.name') },
    ],
    // Sites already added stay as they are (listed above the form); the rows add new ones.
    was ? [] : [{}],
  );

  type Measure = NonNullable<TrialInput['measures']>[number];
  /** The follow-up: left out of a new trial when no visit or measure is given, so the API's defaults apply. */
  const followUp = (): Pick<TrialInput, 'visits' | 'measures' | 'primaryVisit'> => {
    const visitRows = visits.read();
    const measureRows = measures.read();
    if (!was && visitRows.length === 0 && measureRows.length === 0) return {};
    return {
      visits: visitRows.map((v) => ({
        code: text(v.code),
        label: text(v.label),
        day: Number(v.day),
        windowBefore: Number(v.windowBefore),
        windowAfter: Number(v.windowAfter),
      })),
      measures: measureRows.map((m) => ({
        code: text(m.code),
        label: text(m.label),
        type: m.type as Measure['type'],
        visits: list(m.visits),
        items: optionalNumber(m.items),
        itemMin: optionalNumber(m.itemMin),
        itemMax: optionalNumber(m.itemMax),
        reverseItems: list(m.reverseItems).length ? list(m.reverseItems).map(Number) : undefined,
        score: (optional(m.score) as Measure['score']) ?? undefined,
        maxMissingItems: optionalNumber(m.maxMissingItems),
        min: optionalNumber(m.min),
        max: optionalNumber(m.max),
        unit: optional(m.unit),
        levels: list(m.levels).length ? list(m.levels) : undefined,
        primary: m.primary === true ? true : undefined,
      })),
      primaryVisit: optional(primaryVisit.value) ?? null,
    };
  };

  const request = (): TrialInput => {
    const stratifyBy = list(strata.value);
    const randomization: TrialInput['randomization'] =
      method.value === 'minimization'
        ? { method: 'minimization', factors: stratifyBy }
        : method.value === 'simple'
          ? { method: 'simple', stratifyBy: stratifyBy.length ? stratifyBy : undefined }
          : {
              method: 'permuted_block',
              blockSizes: list(blockSizes.value).map(Number),
              stratifyBy: stratifyBy.length ? stratifyBy : undefined,
            };
    return {
      code: text(code.value),
      title: text(title.value),
      registry: optional(registry.value) ?? null,
      arms: arms.read().map((a) => ({ code: text(a.code), name: text(a.name), ratio: Number(a.ratio) })),
      randomization,
      eligibility: criteria.read().map((c) => ({
        code: text(c.code),
        kind: c.kind as 'inclusion' | 'exclusion',
        text: text(c.text),
        roles: roles(c.roles),
      })),
      consentForms: consentForms.read().map((f) => ({
        code: text(f.code),
        version: text(f.version),
        required: f.required === true,
        title: optional(f.title),
      })),
      baselineVariables: variables.read().map((v) => ({
        name: text(v.name),
        label: optional(v.label),
        type: v.type as 'number' | 'integer' | 'category',
        unit: optional(v.unit),
        min: optionalNumber(v.min),
        max: optionalNumber(v.max),
        levels: list(v.levels).length ? list(v.levels) : undefined,
        roles: roles(v.roles),
      })),
      incentives: incentives.read().map((i) => ({
        code: text(i.code),
        description: text(i.description),
        amount: Number(i.amount),
        currency: text(i.currency),
        roles: roles(i.roles) ?? ['service_user'],
        maxPerParticipant: Number(i.maxPerParticipant),
        occasion: optional(i.occasion),
      })),
      ...followUp(),
    };
  };

  /**
   * The change of a trial in set-up: the form's configuration, each criterion, form, variable and incentive kept
   * with the properties the form does not show (looked up by code), so saving the form loses nothing set with the
   * API; a property the form shows is the form's, so one the person cleared stays cleared; the code cannot change.
   */
  const patch = (trial: Trial): TrialPatch => {
    const { code: _code, ...configuration } = request();
    const keep = <T extends { code?: string; name?: string }>(
      before: readonly T[],
      after: T[],
      shown: readonly string[] = [],
    ): T[] =>
      after.map((item) => {
        const earlier = before.find((b) => (b.code ?? b.name) === (item.code ?? item.name));
        const hidden = Object.fromEntries(Object.entries(earlier ?? {}).filter(([key]) => !shown.includes(key)));
        return { ...hidden, ...withoutUndefined(item) } as T;
      });
    return {
      ...configuration,
      randomization:
        trial.randomization.method === configuration.randomization.method
          ? ({
              ...trial.randomization,
              ...withoutUndefined(configuration.randomization),
            } as TrialPatch['randomization'])
          : configuration.randomization,
      eligibility: keep(trial.eligibility, configuration.eligibility ?? [], ['code', 'kind', 'text', 'roles']),
      consentForms: keep(trial.consentForms, configuration.consentForms ?? [], [
        'code',
        'version',
        'title',
        'required',
      ]),
      baselineVariables: keep(trial.baselineVariables, configuration.baselineVariables ?? [], [
        'name',
        'label',
        'type',
        'unit',
        'min',
        'max',
        'levels',
        'roles',
      ]),
      incentives: keep(trial.incentives, configuration.incentives ?? [], [
        'code',
        'description',
        'amount',
        'currency',
        'roles',
        'maxPerParticipant',
        'occasion',
      ]),
      measures: keep(
        trial.measures.map((m) => ({ ...m, primary: undefined })),
        configuration.measures ?? [],
      ),
    };
  };

  /** Set once the trial is created (or from the start, when editing): a site refused afterwards is retried alone. */
  let trialId: string | null = was?.id ?? null;
  let saved = false;
  let sitesDone = 0;
  const form = problemForm(
    was ? t('setup.save') : t('setup.submit'),
    async () => {
      if (!trialId) {
        const { data, error } = await api.POST('/v1/trials', { body: request() });
        if (!data) return error;
        trialId = data.id;
      } else if (was && !saved) {
        // If-Match: a change someone else saved in between is refused (412), not overwritten.
        const { data, error, response } = await api.PATCH('/v1/trials/{trialId}', {
          params: { path: { trialId }, header: { 'If-Match': existing?.etag ?? undefined } },
          body: patch(was),
        });
        if (response.status === 412) return { ...error!, errors: [], detail: t('setup.stale') };
        if (!data) return error;
        saved = true;
      }
      const rows = sites.read();
      for (; sitesDone < rows.length; sitesDone++) {
        const site = rows[sitesDone]!;
        const { error } = await api.POST('/v1/trials/{trialId}/sites', {
          params: { path: { trialId } },
          body: { code: text(site.code), name: text(site.name) },
        });
        // The site's pointers are placed at its row of the form.
        const at = `/sites/${sitesDone}`;
        if (error)
          return {
            ...error,
            errors: (error.errors ?? [{ pointer: '', detail: error.detail ?? '' }]).map((e) => ({
              ...e,
              pointer: at + e.pointer,
            })),
          };
      }
      location.hash = `#/trials/${trialId}/activation`;
      return null;
    },
    [
      h(
        'section',
        { 'aria-labelledby': 'basics-heading' },
        h('h2', { id: 'basics-heading' }, t('setup.basics')),
        labelled('/code', t('trial.code'), code, t('setup.codeHint')),
        labelled('/title', t('trials.name'), title),
        labelled('/registry', t('trial.registry'), registry),
      ),
      arms.element,
      h(
        'section',
        { 'aria-labelledby': 'randomization-heading' },
        h('h2', { id: 'randomization-heading' }, t('setup.randomization')),
        h('p', { class: 'field-error', id: errorId('/randomization') }),
        labelled('/randomization/method', t('setup.method'), method),
        labelled('/randomization/blockSizes', t('setup.blockSizes'), blockSizes, t('setup.commaList')),
        labelled('/randomization/stratifyBy', t('setup.stratifyBy'), strata, t('setup.stratifyHint')),
      ),
      criteria.element,
      consentForms.element,
      variables.element,
      incentives.element,
      h(
        'section',
        { 'aria-labelledby': 'follow-up-heading' },
        h('h2', { id: 'follow-up-heading' }, t('setup.followUp')),
        h('p', { class: 'hint' }, t('setup.followUpHint')),
      ),
      visits.element,
      measures.element,
      labelled('/primaryVisit', t('setup.primaryVisit'), primaryVisit, t('setup.primaryVisitHint')),
      sites.element,
    ],
  );
  show(
    h('h1', {}, was ? t('setup.editTitle', { trial: was.code }) : t('setup.title')),
    h(
      'p',
      {},
      h('a', { href: was ? `#/trials/${was.id}` : '#/trials' }, was ? t('nav.backToTrial') : t('nav.backToTrials')),
    ),
    h('p', { class: 'hint' }, was ? t('setup.editIntro') : t('setup.intro')),
    was &&
      was.sites.length > 0 &&
      h(
        'p',
        { id: 'existing-sites' },
        t('setup.existingSites', { sites: was.sites.map((site) => `${site.code} · ${site.name}`).join(', ') }),
      ),
    form,
  );
}

/** Admin: the set-up form of a trial still in set-up, filled with its configuration; saved with `updateTrial`. */
export async function editSetupScreen(trialId: string): Promise<void> {
  const { data: trial, response } = await api.GET('/v1/trials/{trialId}', { params: { path: { trialId } } });
  if (!trial) throw new Error(t('error.notFound'));
  if (trial.status !== 'setup') {
    location.hash = `#/trials/${trialId}/activation`;
    return;
  }
  setupScreen({ trial, etag: response.headers.get('ETag') });
}
