import { api } from '../api';
import { h, show } from '../dom';
import { formatDate, t } from '../i18n';
import type { Session } from '../session';
import { dataTable } from './tables';

type Reasoned = { total: number; reasons: { reason: string; text?: string; count: number }[] };

/** A count with its reasons underneath, as the CONSORT boxes list them. */
function withReasons(count: Reasoned): Node {
  const cell = document.createDocumentFragment();
  cell.append(String(count.total));
  if (count.reasons.length)
    cell.append(
      h(
        'ul',
        { class: 'reasons' },
        count.reasons.map((r) => h('li', {}, `${r.text ?? r.reason}: ${r.count}`)),
      ),
    );
  return cell;
}

/**
 * CONSORT for statisticians and monitors: the diagram and its counts with reasons as of a chosen date. Both come
 * from the API, which masks arms for blinded users (`Group 1`, `Group 2`), so this screen shows what it receives.
 */
export async function consortScreen(session: Session, trialId: string): Promise<void> {
  const { data: trial } = await api.GET('/v1/trials/{trialId}', { params: { path: { trialId } } });
  if (!trial) throw new Error(t('error.notFound'));
  const today = new Date().toISOString().slice(0, 10);
  const asOf = h('input', { id: 'consort-as-of', type: 'date', value: today, max: today });
  const counts = h('div', { 'aria-live': 'polite' });

  async function load(): Promise<void> {
    const date = asOf.value || today;
    const { data } = await api.GET('/v1/trials/{trialId}/consort', {
      params: { path: { trialId }, query: { asOf: date } },
    });
    if (!data) return;
    const e = data.enrollment;
    counts.replaceChildren(
      h('p', { class: 'hint' }, t('trial.consortAsOf', { date: formatDate(data.asOf) })),
      h('img', {
        class: 'consort',
        src: `/v1/trials/${trialId}/consort.svg?asOf=${encodeURIComponent(date)}`,
        alt: t('trial.consortAlt'),
      }),
      h('h2', {}, t('consort.enrollment')),
      dataTable(
        null,
        [t('consort.box'), t('consort.count')],
        [
          [t('trial.assessed'), e.assessedForEligibility],
          [t('consort.notMeeting'), withReasons(e.excluded.notMeetingInclusionCriteria)],
          [t('consort.declined'), withReasons(e.excluded.declinedToParticipate)],
          [t('consort.otherReasons'), withReasons(e.excluded.otherReasons)],
          [t('trial.pending'), e.pendingRandomization],
          [t('trial.randomized'), e.randomized],
        ],
      ),
      h('h2', {}, t('consort.byArm')),
      dataTable(
        null,
        [t('consort.box'), ...data.arms.map((a) => a.arm)],
        [
          [t('consort.allocated'), ...data.arms.map((a) => a.allocated)],
          [t('consort.received'), ...data.arms.map((a) => a.receivedAllocatedIntervention)],
          [t('consort.notReceived'), ...data.arms.map((a) => withReasons(a.didNotReceiveAllocatedIntervention))],
          [t('consort.lost'), ...data.arms.map((a) => withReasons(a.lostToFollowUp))],
          [t('consort.discontinued'), ...data.arms.map((a) => withReasons(a.discontinuedIntervention))],
          [t('consort.excludedFromAnalysis'), ...data.arms.map((a) => withReasons(a.excludedFromAnalysis))],
          [t('consort.analysed'), ...data.arms.map((a) => a.analysed)],
        ].map((row) => row.map((cell) => (Array.isArray(cell) ? h('div', {}, ...cell) : cell))),
      ),
    );
  }
  asOf.addEventListener('change', () => void load());
  show(
    h('h1', {}, t('consort.title', { trial: trial.code })),
    h('p', {}, h('a', { href: `#/trials/${trialId}` }, t('nav.backToTrial'))),
    session.me.blinded ? h('p', { class: 'notice' }, t('consort.blindedNote')) : '',
    h('div', { class: 'filters' }, h('div', {}, h('label', { for: 'consort-as-of' }, t('consort.asOf')), asOf)),
    counts,
  );
  await load();
}
