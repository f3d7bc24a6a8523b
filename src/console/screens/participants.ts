import { api, ParticipantStatus } from '../api';
import { h, show } from '../dom';
import { formatDate, t } from '../i18n';
import type { Session } from '../session';
import { pager } from './pager';
import { PARTICIPANT_STATUSES, participantRoleLabel, participantStatusLabel } from './labels';
import { listTable } from './tables';

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
  const search = h('input', { id: 'filter-label', type: 'search', maxlength: 100, autocomplete: 'off' });
  const results = h('div', { 'aria-live': 'polite' });
  const pages = pager(load);

  let latest = 0;
  async function load(): Promise<void> {
    const asked = ++latest;
    const { data } = await api.GET('/v1/trials/{trialId}/participants', {
      params: {
        path: { trialId },
        query: {
          limit: PAGE_SIZE,
          cursor: pages.cursor,
          label: search.value.trim() || undefined,
          siteCode: siteSelect.value || undefined,
          status: (statusSelect.value || undefined) as ParticipantStatus | undefined,
        },
      },
    });
    if (asked !== latest) return; // a later search or page was asked for meanwhile
    const items = data?.items ?? [];
    const next = data?.nextCursor ?? null;
    results.replaceChildren(
      items.length === 0
        ? h('p', {}, t('participants.none'))
        : listTable(
            [
              t('participants.label'),
              t('trial.site'),
              t('participants.role'),
              t('trials.status'),
              t('participants.screenedOn'),
            ],
            items,
            (p) => [
              h('a', { href: `#/trials/${trialId}/participants/${p.id}` }, p.label),
              p.siteCode,
              participantRoleLabel(p.role),
              participantStatusLabel(p.status),
              formatDate(p.screenedOn),
            ],
          ),
      pages.controls(next),
    );
  }
  siteSelect.addEventListener('change', () => pages.restart());
  statusSelect.addEventListener('change', () => pages.restart());
  // Searched as the person types, once they pause: one request per pause, not per key.
  let typing: number | undefined;
  search.addEventListener('input', () => {
    window.clearTimeout(typing);
    typing = window.setTimeout(() => pages.restart(), 250);
  });
  show(
    h('h1', {}, t('participants.title', { trial: trial.code })),
    h('p', {}, h('a', { href: `#/trials/${trialId}` }, t('nav.backToTrial'))),
    h(
      'div',
      { class: 'filters', role: 'search' },
      h('div', {}, h('label', { for: 'filter-label' }, t('participants.search')), search),
      h('div', {}, h('label', { for: 'filter-site' }, t('trial.site')), siteSelect),
      h('div', {}, h('label', { for: 'filter-status' }, t('trials.status')), statusSelect),
    ),
    results,
  );
  await load();
}
