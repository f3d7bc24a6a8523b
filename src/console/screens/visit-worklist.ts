import { api } from '../api';
import { h, show } from '../dom';
import { formatDate, t } from '../i18n';
import type { Session } from '../session';
import { pager } from './pager';
import { visitStatusLabel } from './labels';
import { canRecordVisits, RECORDABLE, visitLink } from './visit';
import { listTable } from './tables';

const PAGE_SIZE = 25;

/** The visit work list: visits due now or overdue, soonest window close first, filtered by site (server-side). */
export async function visitWorklistScreen(session: Session, trialId: string): Promise<void> {
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
    { id: 'filter-visit-status' },
    h('option', { value: 'open,overdue' }, t('worklist.dueOrOverdue')),
    h('option', { value: 'overdue' }, t('visit.overdue')),
    h('option', { value: 'open' }, t('visit.open')),
    h('option', { value: 'not_due' }, t('visit.notDue')),
  );
  const results = h('div', { 'aria-live': 'polite' });
  // Monitors and statisticians read the list; only those who may record a visit get the link to do so.
  const recording = canRecordVisits(session) && trial.status === 'active';
  const pages = pager(load);

  async function load(): Promise<void> {
    const { data } = await api.GET('/v1/trials/{trialId}/visits', {
      params: {
        path: { trialId },
        query: {
          limit: PAGE_SIZE,
          cursor: pages.cursor,
          status: statusSelect.value,
          siteCode: siteSelect.value || undefined,
        },
      },
    });
    // The operation also answers CSV; asked for JSON (the default), the answer is the page.
    const page = typeof data === 'object' ? data : undefined;
    const items = page?.items ?? [];
    const next = page?.nextCursor ?? null;
    results.replaceChildren(
      page ? h('p', { class: 'hint' }, t('worklist.today', { date: formatDate(page.today) })) : '',
      items.length === 0
        ? h('p', {}, t('worklist.none'))
        : listTable(
            [
              t('participants.label'),
              t('trial.site'),
              t('worklist.visit'),
              t('worklist.target'),
              t('worklist.window'),
              t('trials.status'),
              recording && t('worklist.action'),
            ].filter((header): header is string => Boolean(header)),
            items,
            (v) =>
              [
                h('a', { href: `#/trials/${trialId}/participants/${v.participantId}` }, v.label),
                v.siteCode,
                v.visitLabel,
                formatDate(v.targetDate),
                `${formatDate(v.windowOpens)} – ${formatDate(v.windowCloses)}`,
                visitStatusLabel(v.status),
                recording &&
                  (RECORDABLE.includes(v.status)
                    ? visitLink(trialId, v.participantId, v.visit, t('visit.record', { visit: v.visitLabel }))
                    : ''),
              ].filter((cell) => cell !== false),
            { attrs: { id: 'worklist' }, rowAttrs: (v) => ({ class: v.status === 'overdue' ? 'overdue' : undefined }) },
          ),
      pages.controls(next),
    );
  }
  siteSelect.addEventListener('change', () => pages.restart());
  statusSelect.addEventListener('change', () => pages.restart());
  show(
    h('h1', {}, t('worklist.title', { trial: trial.code })),
    h('p', {}, h('a', { href: `#/trials/${trialId}` }, t('nav.backToTrial'))),
    h(
      'div',
      { class: 'filters', role: 'search' },
      h('div', {}, h('label', { for: 'filter-site' }, t('trial.site')), siteSelect),
      h('div', {}, h('label', { for: 'filter-visit-status' }, t('trials.status')), statusSelect),
    ),
    results,
  );
  await load();
}
