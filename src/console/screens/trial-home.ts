import { api, Trial } from '../api';
import type { components } from '../../generated/openapi';
import { h } from '../dom';
import { formatDateTime, t } from '../i18n';
import type { Session } from '../session';
import { actorNames, actorOf } from './audit';

type AuditEvent = components['schemas']['AuditEvent'];
const RECENT = 8;
/** The API's largest page: counts above it are shown as "500+". */
const MAX_PAGE = 500;

/** Links to the views the person's role may open (the API refuses the others anyway). */
export function trialViews(session: Session, trial: Trial): HTMLElement {
  const role = session.me.role;
  const link = (path: string, label: string) =>
    h('a', { class: 'button', href: `#/trials/${trial.id}/${path}` }, label);
  return h(
    'nav',
    { class: 'actions', 'aria-label': t('home.views') },
    link('consort', t('home.consort')),
    role !== 'coordinator' && link('table-one', t('home.tableOne')),
    (role === 'admin' || role === 'statistician') && link('exports', t('home.exports')),
    (role === 'admin' || role === 'monitor') && link('audit', t('home.audit')),
    role === 'admin' && !session.me.trialIds && trial.status === 'setup' && link('edit', t('home.editSetup')),
    role === 'admin' && trial.status === 'setup' && link('activation', t('home.activate')),
  );
}

/** The last events of the trail, newest first (one page). */
async function recentEvents(trialId: string): Promise<AuditEvent[]> {
  const { data } = await api.GET('/v1/trials/{trialId}/audit', {
    params: { path: { trialId }, query: { order: 'desc', limit: RECENT } },
  });
  return data?.items ?? [];
}

async function visitCount(trialId: string, status: 'open' | 'overdue'): Promise<string> {
  const { data } = await api.GET('/v1/trials/{trialId}/visits', {
    params: { path: { trialId }, query: { status, limit: MAX_PAGE } },
  });
  if (!data || typeof data === 'string') return '–';
  return data.nextCursor ? `${MAX_PAGE}+` : String(data.items.length);
}

/** Due and overdue visits (when the trial has a follow-up schedule) and recent activity (admins and monitors). */
export async function trialHomeSections(session: Session, trial: Trial): Promise<HTMLElement[]> {
  const sections: HTMLElement[] = [];
  if (trial.visits.length > 0 && trial.status !== 'setup') {
    const [open, overdue] = await Promise.all([visitCount(trial.id, 'open'), visitCount(trial.id, 'overdue')]);
    sections.push(
      h(
        'section',
        { 'aria-labelledby': 'visits-heading' },
        h('h2', { id: 'visits-heading' }, t('home.visits')),
        h(
          'dl',
          { class: 'facts', id: 'visit-counts' },
          h('dt', {}, t('home.due')),
          h('dd', {}, open),
          h('dt', {}, t('home.overdue')),
          h('dd', {}, overdue),
        ),
      ),
    );
  }
  if (session.me.role === 'admin' || session.me.role === 'monitor') {
    const [events, names] = await Promise.all([recentEvents(trial.id), actorNames(session)]);
    sections.push(
      h(
        'section',
        { 'aria-labelledby': 'activity-heading' },
        h('h2', { id: 'activity-heading' }, t('home.activity')),
        events.length === 0
          ? h('p', {}, t('home.noActivity'))
          : h(
              'ul',
              { id: 'recent-activity' },
              events.map((e) =>
                h('li', {}, `${formatDateTime(e.occurredAt)} · `, h('code', {}, e.action), ` · ${actorOf(e, names)}`),
              ),
            ),
      ),
    );
  }
  return sections;
}
