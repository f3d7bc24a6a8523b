import { api, ParticipantStatus } from '../api';
import { h, show } from '../dom';
import { formatDate, t } from '../i18n';
import type { Session } from '../session';
import { PARTICIPANT_STATUSES, participantRoleLabel, participantStatusLabel } from './labels';

const PAGE_SIZE = 25;

/** Participants: filtered by site and status and paginated by the server (a 10,000-person trial stays fast). */
export async function participantsScreen(session: Session, trialId: string): Promise<void> {
  const { data: trial } = await api.GET('/v1/trials/{trialId}', { params: { path: { trialId } } });
  if (!trial) throw new Error(t('error.notFound'));
  const sites = trial.sites.filter((s) => !session.me.siteCodes || session.me.siteCodes.includes(s.code));
  const siteSelect = h(
    'select',
    { id: 'filter-site' },
    h('option', { value: '' }, t('participants.allSites')),
    sites.map((s) => h('option', { value: s.code }, `${s.code} · ${s.name}`)),
  );
  const statusSelect = h(
    'select',
    { id: 'filter-status' },
    h('option', { value: '' }, t('participants.allStatuses')),
    PARTICIPANT_STATUSES.map((s) => h('option', { value: s }, participantStatusLabel(s))),
  );
  const results = h('div', { 'aria-live': 'polite' });
  /** Cursors of the pages before the current one, to go back. */
  const cursors: (string | undefined)[] = [];
  let cursor: string | undefined;

  async function load(): Promise<void> {
    const { data } = await api.GET('/v1/trials/{trialId}/participants', {
      params: {
        path: { trialId },
        query: {
          limit: PAGE_SIZE,
          cursor,
          siteCode: siteSelect.value || undefined,
          status: (statusSelect.value || undefined) as ParticipantStatus | undefined,
        },
      },
    });
    const items = data?.items ?? [];
    const next = data?.nextCursor ?? null;
    results.replaceChildren(
      items.length === 0
        ? h('p', {}, t('participants.none'))
        : h(
            'table',
            {},
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', { scope: 'col' }, t('participants.label')),
                h('th', { scope: 'col' }, t('trial.site')),
                h('th', { scope: 'col' }, t('participants.role')),
                h('th', { scope: 'col' }, t('trials.status')),
                h('th', { scope: 'col' }, t('participants.screenedOn')),
              ),
            ),
            h(
              'tbody',
              {},
              items.map((p) =>
                h(
                  'tr',
                  {},
                  h('td', {}, h('a', { href: `#/trials/${trialId}/participants/${p.id}` }, p.label)),
                  h('td', {}, p.siteCode),
                  h('td', {}, participantRoleLabel(p.role)),
                  h('td', {}, participantStatusLabel(p.status)),
                  h('td', {}, formatDate(p.screenedOn)),
                ),
              ),
            ),
          ),
      h(
        'div',
        { class: 'pager' },
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            disabled: cursors.length === 0,
            onclick: () => {
              cursor = cursors.pop();
              void load();
            },
          },
          t('participants.previous'),
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            disabled: next === null,
            onclick: () => {
              cursors.push(cursor);
              cursor = next ?? undefined;
              void load();
            },
          },
          t('participants.next'),
        ),
      ),
    );
  }
  const restart = () => {
    cursors.length = 0;
    cursor = undefined;
    void load();
  };
  siteSelect.addEventListener('change', restart);
  statusSelect.addEventListener('change', restart);
  show(
    h('h1', {}, t('participants.title', { trial: trial.code })),
    h('p', {}, h('a', { href: `#/trials/${trialId}` }, t('nav.backToTrial'))),
    h(
      'div',
      { class: 'filters', role: 'search' },
      h('div', {}, h('label', { for: 'filter-site' }, t('trial.site')), siteSelect),
      h('div', {}, h('label', { for: 'filter-status' }, t('trials.status')), statusSelect),
    ),
    results,
  );
  await load();
}
