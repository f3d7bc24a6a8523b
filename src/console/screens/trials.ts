import { api } from '../api';
import { h, show } from '../dom';
import { t } from '../i18n';
import { trialStatusLabel } from './labels';

export async function trialsScreen(): Promise<void> {
  const { data } = await api.GET('/v1/trials', { params: { query: { limit: 100 } } });
  const trials = data?.items ?? [];
  show(
    h('h1', {}, t('trials.title')),
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
