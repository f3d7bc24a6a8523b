import { api } from '../api';
import { h, show } from '../dom';
import { t } from '../i18n';
import type { Session } from '../session';
import { trialStatusLabel } from './labels';

export async function trialsScreen(session: Session): Promise<void> {
  const { data } = await api.GET('/v1/trials', { params: { query: { limit: 100 } } });
  const trials = data?.items ?? [];
  // Set-up and people are for unscoped admins only (the API refuses the others).
  const admin = session.me.role === 'admin' && !session.me.trialIds;
  show(
    h('h1', {}, t('trials.title')),
    admin &&
      h(
        'nav',
        { class: 'actions', 'aria-label': t('admin.nav') },
        h('a', { class: 'button', href: '#/trials/new' }, t('admin.newTrial')),
        h('a', { class: 'button', href: '#/admin/users' }, t('admin.users')),
        h('a', { class: 'button', href: '#/admin/audit' }, t('admin.audit')),
      ),
    trials.length === 0
      ? h('p', {}, t('trials.none'))
      : h(
          'table',
          {},
          h('caption', { class: 'hint' }, t('trials.caption')),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, t('trials.code')),
              h('th', { scope: 'col' }, t('trials.name')),
              h('th', { scope: 'col' }, t('trials.status')),
            ),
          ),
          h(
            'tbody',
            {},
            trials.map((trial) =>
              h(
                'tr',
                {},
                h('td', {}, h('a', { href: `#/trials/${trial.id}` }, trial.code)),
                h('td', {}, trial.title),
                h('td', {}, trialStatusLabel(trial.status)),
              ),
            ),
          ),
        ),
  );
}
