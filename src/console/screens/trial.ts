import { api } from '../api';
import { h, show } from '../dom';
import { formatDate, t } from '../i18n';
import type { Session } from '../session';
import { trialStatusLabel } from './labels';
import { trialHomeSections, trialViews } from './trial-home';

/** Trial home: enrollment by site (the API's CONSORT counts per site), the live CONSORT diagram, the next steps. */
export async function trialScreen(session: Session, trialId: string): Promise<void> {
  const { data: trial } = await api.GET('/v1/trials/{trialId}', { params: { path: { trialId } } });
  if (!trial) throw new Error(t('error.notFound'));
  const visibleSites = trial.sites.filter((s) => !session.me.siteCodes || session.me.siteCodes.includes(s.code));
  const counts = await Promise.all(
    visibleSites.map(async (site) => {
      const { data } = await api.GET('/v1/trials/{trialId}/consort', {
        params: { path: { trialId }, query: { siteCode: site.code } },
      });
      return { site, enrollment: data?.enrollment };
    }),
  );
  const extra = await trialHomeSections(session, trial);
  const canScreen = ['admin', 'coordinator'].includes(session.me.role) && trial.status === 'active';
  show(
    h('h1', {}, trial.title),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, t('trial.code')),
      h('dd', {}, trial.code),
      h('dt', {}, t('trials.status')),
      h('dd', {}, trialStatusLabel(trial.status)),
      trial.registry && h('dt', {}, t('trial.registry')),
      trial.registry && h('dd', {}, trial.registry),
    ),
    h(
      'p',
      { class: 'actions' },
      h('a', { class: 'button', href: `#/trials/${trialId}/participants` }, t('trial.participants')),
      canScreen && h('a', { class: 'button', href: `#/trials/${trialId}/screening` }, t('trial.screen')),
      h('a', { class: 'button', href: `#/trials/${trialId}/visits` }, t('trial.visits')),
      h('a', { class: 'button', href: `#/trials/${trialId}/coupons` }, t('trial.coupons')),
    ),
    trialViews(session, trial),
    h(
      'section',
      { 'aria-labelledby': 'enrollment-heading' },
      h('h2', { id: 'enrollment-heading' }, t('trial.enrollment')),
      h(
        'table',
        {},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, t('trial.site')),
            h('th', { scope: 'col' }, t('trial.assessed')),
            h('th', { scope: 'col' }, t('trial.excluded')),
            h('th', { scope: 'col' }, t('trial.pending')),
            h('th', { scope: 'col' }, t('trial.randomized')),
          ),
        ),
        h(
          'tbody',
          {},
          counts.map(({ site, enrollment }) =>
            h(
              'tr',
              {},
              h('th', { scope: 'row' }, `${site.code} · ${site.name}`),
              h('td', {}, enrollment?.assessedForEligibility ?? '–'),
              h('td', {}, enrollment?.excluded.total ?? '–'),
              h('td', {}, enrollment?.pendingRandomization ?? '–'),
              h('td', {}, enrollment?.randomized ?? '–'),
            ),
          ),
        ),
      ),
    ),
    h(
      'section',
      { 'aria-labelledby': 'consort-heading' },
      h('h2', { id: 'consort-heading' }, t('trial.consort')),
      h('p', { class: 'hint' }, t('trial.consortAsOf', { date: formatDate(new Date().toISOString()) })),
      h('img', { class: 'consort', src: `/v1/trials/${trialId}/consort.svg`, alt: t('trial.consortAlt') }),
    ),
    ...extra,
  );
}
