import { api, IncentiveTotals } from '../api';
import { h, show } from '../dom';
import { formatDate, t } from '../i18n';
import type { Session } from '../session';
import { pager } from './pager';
import { listTable } from './tables';

const PAGE_SIZE = 25;

function totalsTable(
  id: string,
  caption: string,
  first: string,
  rows: (IncentiveTotals & { key: string })[],
): HTMLElement {
  return h(
    'table',
    { id },
    h('caption', {}, caption),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, first),
        h('th', { scope: 'col' }, t('couponLog.issued')),
        h('th', { scope: 'col' }, t('couponLog.voided')),
        h('th', { scope: 'col' }, t('couponLog.net')),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((r) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, r.key),
          h('td', {}, `${r.issuedCount} · ${r.currency} ${r.issuedAmount}`),
          h('td', {}, `${r.voidedCount} · ${r.currency} ${r.voidedAmount}`),
          h('td', {}, `${r.netCount} · ${r.currency} ${r.netAmount}`),
        ),
      ),
    ),
  );
}

/** The coupon log: totals by type and by site (what was handed out, net of voids), then every ledger entry. */
export async function couponLogScreen(session: Session, trialId: string): Promise<void> {
  const [{ data: trial }, { data: summary }] = await Promise.all([
    api.GET('/v1/trials/{trialId}', { params: { path: { trialId } } }),
    api.GET('/v1/trials/{trialId}/incentives/summary', { params: { path: { trialId } } }),
  ]);
  if (!trial || !summary || typeof summary !== 'object') throw new Error(t('error.notFound'));
  const results = h('div', { 'aria-live': 'polite' });
  const pages = pager(load);

  async function load(): Promise<void> {
    const { data } = await api.GET('/v1/trials/{trialId}/incentives', {
      params: { path: { trialId }, query: { limit: PAGE_SIZE, cursor: pages.cursor } },
    });
    // The operation also answers CSV; asked for JSON (the default), the answer is the page.
    const page = typeof data === 'object' ? data : undefined;
    const items = page?.items ?? [];
    const next = page?.nextCursor ?? null;
    results.replaceChildren(
      items.length === 0
        ? h('p', {}, t('coupon.none'))
        : listTable(
            [
              t('coupon.reference'),
              t('trial.site'),
              t('coupon.type'),
              t('couponLog.amount'),
              t('coupon.issuedOn'),
              t('couponLog.entry'),
            ],
            items,
            (e) => [
              h('a', { href: `#/trials/${trialId}/participants/${e.participantId}` }, e.reference ?? e.incentive),
              e.siteCode,
              e.incentive,
              `${e.currency} ${e.amount}`,
              formatDate(e.issuedOn),
              e.kind === 'void'
                ? `${t('couponLog.voidEntry')}${e.reason ? ` (${e.reason})` : ''}`
                : e.voided
                  ? t('coupon.voided')
                  : t('couponLog.issueEntry'),
            ],
            { attrs: { id: 'coupon-log' }, caption: t('couponLog.entries') },
          ),
      pages.controls(next),
    );
  }
  const scope = session.me.siteCodes ? t('couponLog.yourSites', { sites: session.me.siteCodes.join(', ') }) : '';
  show(
    h('h1', {}, t('couponLog.title', { trial: trial.code })),
    h('p', {}, h('a', { href: `#/trials/${trialId}` }, t('nav.backToTrial'))),
    scope && h('p', { class: 'hint' }, scope),
    totalsTable(
      'coupon-totals',
      t('couponLog.byType'),
      t('coupon.type'),
      summary.byType.map((r) => ({ ...r, key: r.incentive })),
    ),
    totalsTable(
      'coupon-totals-site',
      t('couponLog.bySite'),
      t('trial.site'),
      summary.bySite.map((r) => ({ ...r, key: `${r.siteCode} · ${r.incentive}` })),
    ),
    results,
  );
  await load();
}
