import { api } from '../api';
import type { components } from '../../generated/openapi';
import { h, show } from '../dom';
import { formatDateTime, t } from '../i18n';
import type { Session } from '../session';
import { pager } from './pager';

type AuditEvent = components['schemas']['AuditEvent'];
const PAGE_SIZE = 25;

/** Printed names of users and names of keys for an unscoped admin (the audit row carries the id); others see the id. */
export async function actorNames(session: Session): Promise<Map<string, string>> {
  if (session.me.role !== 'admin' || session.me.trialIds) return new Map();
  const [{ data: users }, { data: keys }] = await Promise.all([
    api.GET('/v1/users', { params: { query: { includeDeactivated: true } } }),
    api.GET('/v1/api-keys', { params: { query: { includeRevoked: true, limit: 500 } } }),
  ]);
  return new Map([...(users?.items ?? []), ...(keys?.items ?? [])].map((u) => [u.id, u.name]));
}

export function actorOf(event: AuditEvent, names: Map<string, string>): string {
  const id = event.actor.keyId;
  const who = id === null ? t('audit.service') : (names.get(id) ?? id.slice(0, 8));
  return `${who} (${event.actor.role})`;
}

type Verification = components['schemas']['AuditChainVerification'];

/** An entry's place in its trail: its number, prefixed by its lane when the trail was written in several. */
const position = (lane: number, sequence: number): string => (lane === 0 ? String(sequence) : `${lane}:${sequence}`);

/** A trail's verification: the API recomputes every hash link; its head hash is what to record elsewhere. */
export function verificationBox(data: Verification | undefined): HTMLElement {
  if (!data) return h('p', { class: 'alert' }, t('audit.unverified'));
  const broken = data.firstBrokenLink;
  return h(
    'div',
    { class: data.valid ? 'success' : 'alert', id: 'audit-verification' },
    h('p', {}, data.valid ? t('audit.valid', { rows: data.rowsChecked }) : t('audit.invalid')),
    broken
      ? h('p', {}, t('audit.brokenAt', { sequence: position(broken.lane, broken.sequence), detail: broken.detail }))
      : '',
    data.lanes.length > 1
      ? h(
          'div',
          { class: 'hint hash' },
          h('p', {}, t('audit.laneHeads', { lanes: data.lanes.length })),
          h(
            'ul',
            {},
            data.lanes.map((lane) => h('li', {}, t('audit.laneHead', { ...lane }))),
          ),
        )
      : data.head
        ? h('p', { class: 'hint hash' }, t('audit.head', { hash: data.head.hash }))
        : '',
    h('p', { class: 'hint' }, t('audit.verifiedAt', { time: formatDateTime(data.verifiedAt) })),
  );
}

async function verification(trialId: string): Promise<HTMLElement> {
  const { data } = await api.GET('/v1/trials/{trialId}/audit/verification', { params: { path: { trialId } } });
  return verificationBox(data);
}

/** One row per audit event: sequence, time, actor, action (with the reason), record, and the values recorded. */
export function auditEventsTable(items: readonly AuditEvent[], names: Map<string, string>): HTMLTableElement {
  return h(
    'table',
    { id: 'audit-events' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        [
          t('audit.sequence'),
          t('audit.when'),
          t('audit.who'),
          t('audit.action'),
          t('audit.entity'),
          t('audit.change'),
        ].map((c) => h('th', { scope: 'col' }, c)),
      ),
    ),
    h(
      'tbody',
      {},
      items.map((e) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, position(e.lane, e.sequence)),
          h('td', {}, formatDateTime(e.occurredAt)),
          h('td', {}, actorOf(e, names)),
          h('td', {}, h('code', {}, e.action), e.reason ? h('div', { class: 'hint' }, e.reason) : ''),
          h('td', {}, `${e.entityType} ${e.entityId.slice(0, 8)}`),
          h(
            'td',
            {},
            h('details', {}, h('summary', {}, t('audit.show')), h('pre', {}, JSON.stringify(e.after, null, 1))),
          ),
        ),
      ),
    ),
  );
}

/** The trial's audit trail, oldest first as the API pages it, with the chain's verification. */
export async function auditScreen(session: Session, trialId: string): Promise<void> {
  const { data: trial } = await api.GET('/v1/trials/{trialId}', { params: { path: { trialId } } });
  if (!trial) throw new Error(t('error.notFound'));
  const names = await actorNames(session);
  const results = h('div', { 'aria-live': 'polite' });
  const pages = pager(load);

  async function load(): Promise<void> {
    const { data } = await api.GET('/v1/trials/{trialId}/audit', {
      params: { path: { trialId }, query: { limit: PAGE_SIZE, after: pages.cursor } },
    });
    results.replaceChildren(auditEventsTable(data?.items ?? [], names), pages.controls(data?.nextCursor ?? null));
  }
  show(
    h('h1', {}, t('audit.title', { trial: trial.code })),
    h('p', {}, h('a', { href: `#/trials/${trialId}` }, t('nav.backToTrial'))),
    await verification(trialId),
    results,
  );
  await load();
}

/**
 * The system audit trail (changes that belong to no trial: API keys, people), newest first, for unscoped admins
 * (the only readers the API allows), with its verification.
 */
export async function systemAuditScreen(session: Session): Promise<void> {
  const [{ data: verified }, names] = await Promise.all([api.GET('/v1/audit/verification'), actorNames(session)]);
  const results = h('div', { 'aria-live': 'polite' });
  const pages = pager(load);

  async function load(): Promise<void> {
    const { data } = await api.GET('/v1/audit', {
      params: { query: { limit: PAGE_SIZE, after: pages.cursor, order: 'desc' } },
    });
    const items = data?.items ?? [];
    results.replaceChildren(
      items.length === 0 ? h('p', {}, t('systemAudit.none')) : auditEventsTable(items, names),
      pages.controls(data?.nextCursor ?? null),
    );
  }
  show(
    h('h1', {}, t('systemAudit.title')),
    h('p', {}, h('a', { href: '#/trials' }, t('nav.backToTrials'))),
    h('p', { class: 'hint' }, t('systemAudit.intro')),
    verificationBox(verified),
    results,
  );
  await load();
}
