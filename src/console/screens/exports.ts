import { api } from '../api';
import { h, show } from '../dom';
import { t } from '../i18n';
import type { Session } from '../session';
import { saveFile } from './download';

/**
 * Analysis exports for admins and statisticians: the participants export and its dictionary, the analysis
 * dataset (one row per participant and visit) as CSV. Arms are masked by the API for blinded users.
 */
export async function exportsScreen(session: Session, trialId: string): Promise<void> {
  const { data: trial } = await api.GET('/v1/trials/{trialId}', { params: { path: { trialId } } });
  if (!trial) throw new Error(t('error.notFound'));
  const status = h('p', { 'aria-live': 'polite' });
  const saved = (data: Blob | undefined, name: string) => {
    if (!data) return;
    saveFile(data, `${trial.code}-${name}`);
    status.textContent = t('exports.saved', { file: `${trial.code}-${name}` });
  };
  const item = (title: string, hint: string, run: () => Promise<void>) =>
    h(
      'li',
      {},
      h('button', { type: 'button', class: 'secondary', onclick: () => void run() }, title),
      h('p', { class: 'hint' }, hint),
    );
  const path = { trialId };
  show(
    h('h1', {}, t('exports.title', { trial: trial.code })),
    h('p', {}, h('a', { href: `#/trials/${trialId}` }, t('nav.backToTrial'))),
    session.me.blinded ? h('p', { class: 'notice' }, t('consort.blindedNote')) : '',
    h(
      'ul',
      { class: 'downloads' },
      item(t('exports.participants'), t('exports.participantsHint'), async () => {
        const { data } = await api.GET('/v1/trials/{trialId}/export/participants.csv', {
          params: { path },
          parseAs: 'blob',
        });
        saved(data, 'participants.csv');
      }),
      item(t('exports.dictionary'), t('exports.dictionaryHint'), async () => {
        const { data } = await api.GET('/v1/trials/{trialId}/export/dictionary.csv', {
          params: { path },
          parseAs: 'blob',
        });
        saved(data, 'dictionary.csv');
      }),
      item(t('exports.dataset'), t('exports.datasetHint'), async () => {
        const { data } = await api.GET('/v1/trials/{trialId}/analysis-dataset', {
          params: { path, query: { items: true } },
          headers: { Accept: 'text/csv' },
          parseAs: 'blob',
        });
        saved(data, 'analysis-dataset.csv');
      }),
    ),
    status,
  );
}
