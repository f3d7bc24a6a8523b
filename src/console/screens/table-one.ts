import { api } from '../api';
import type { components } from '../../generated/openapi';
import { h, show } from '../dom';
import { formatDate, locale, t } from '../i18n';
import type { Session } from '../session';
import { saveFile } from './download';
import { participantRoleLabel } from './labels';

type Role = components['schemas']['ParticipantRole'];
type Summary = components['schemas']['NumberSummary'] | components['schemas']['CategorySummary'];

const number = (value: number | null | undefined, digits = 1) =>
  value === null || value === undefined
    ? '–'
    : new Intl.NumberFormat(locale(), { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(value);

/** One cell of Table 1: mean (SD) and median [IQR] for numbers, one line per level for categories. */
function summaryCell(summary: Summary | undefined): Node {
  if (!summary) return h('span', {}, '–');
  if ('levels' in summary)
    return h(
      'ul',
      { class: 'reasons' },
      summary.levels.map((l) => h('li', {}, `${l.level}: ${l.count} (${number(l.percent)}%)`)),
    );
  return h(
    'div',
    {},
    h('div', {}, `${number(summary.mean)} (${number(summary.sd)})`),
    h('div', { class: 'hint' }, `${number(summary.median)} [${number(summary.q1)}, ${number(summary.q3)}]`),
  );
}

/**
 * Table 1 (baseline characteristics by arm) as the API computes it, with its CSV and printable HTML. Downloads
 * are fetched with the session (Accept: text/csv or text/html) and saved from memory: masked for blinded users
 * by the API exactly as the JSON is.
 */
export async function tableOneScreen(session: Session, trialId: string): Promise<void> {
  const { data: trial } = await api.GET('/v1/trials/{trialId}', { params: { path: { trialId } } });
  if (!trial) throw new Error(t('error.notFound'));
  const role = h(
    'select',
    { id: 'table-one-role' },
    (['service_user', 'case_worker'] as Role[]).map((r) => h('option', { value: r }, participantRoleLabel(r))),
  );
  const asOf = h('input', { id: 'table-one-as-of', type: 'date' });
  const result = h('div', { 'aria-live': 'polite' });
  const query = () => ({ role: role.value as Role, asOf: asOf.value || undefined });

  async function download(accept: 'text/csv' | 'text/html', extension: string): Promise<void> {
    const { data } = await api.GET('/v1/trials/{trialId}/baseline', {
      params: { path: { trialId }, query: query() },
      headers: { Accept: accept },
      parseAs: 'blob',
    });
    if (data) saveFile(data, `${trial!.code}-table-1-${role.value}.${extension}`);
  }

  async function load(): Promise<void> {
    const { data, error } = await api.GET('/v1/trials/{trialId}/baseline', {
      params: { path: { trialId }, query: query() },
    });
    if (!data || typeof data === 'string') {
      result.replaceChildren(h('p', { class: 'alert' }, t('problem.service', { detail: error?.detail ?? '' })));
      return;
    }
    result.replaceChildren(
      h(
        'table',
        { id: 'table-one' },
        h(
          'caption',
          {},
          data.asOf ? t('tableOne.captionAsOf', { date: formatDate(data.asOf) }) : t('tableOne.caption'),
        ),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, t('tableOne.variable')),
            data.arms.map((a) => h('th', { scope: 'col' }, `${a.arm} (n = ${a.n})`)),
            h('th', { scope: 'col' }, t('tableOne.smd')),
            h('th', { scope: 'col' }, t('tableOne.p')),
          ),
        ),
        h(
          'tbody',
          {},
          data.variables.map((v) =>
            h(
              'tr',
              {},
              h('th', { scope: 'row' }, v.label ?? v.name, v.unit ? h('span', { class: 'hint' }, ` (${v.unit})`) : ''),
              data.arms.map((a) => h('td', {}, summaryCell(v.byArm[a.arm]))),
              h('td', {}, number(v.smd, 2)),
              h('td', {}, v.test ? number(v.test.p, 3) : '–'),
            ),
          ),
        ),
      ),
      h('p', { class: 'hint' }, t('tableOne.legend')),
      h('p', { class: 'hint' }, data.note),
    );
  }
  role.addEventListener('change', () => void load());
  asOf.addEventListener('change', () => void load());
  show(
    h('h1', {}, t('tableOne.title', { trial: trial.code })),
    h('p', {}, h('a', { href: `#/trials/${trialId}` }, t('nav.backToTrial'))),
    session.me.blinded ? h('p', { class: 'notice' }, t('consort.blindedNote')) : '',
    h(
      'div',
      { class: 'filters' },
      h('div', {}, h('label', { for: 'table-one-role' }, t('participants.role')), role),
      h('div', {}, h('label', { for: 'table-one-as-of' }, t('consort.asOf')), asOf),
    ),
    h(
      'p',
      { class: 'actions' },
      h('button', { type: 'button', onclick: () => void download('text/csv', 'csv') }, t('tableOne.csv')),
      h('button', { type: 'button', onclick: () => void download('text/html', 'html') }, t('tableOne.html')),
    ),
    result,
  );
  await load();
}
