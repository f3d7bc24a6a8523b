import { api } from '../api';
import { h } from '../dom';
import { formatDate, t } from '../i18n';
import { eventTypeLabel } from './follow-up-event';
import { visitStatusLabel } from './labels';
import type { ParticipantContext } from './participant-context';
import { canRecordVisits, RECORDABLE, visitLink } from './visit';
import { withdrawalText } from './withdrawal';

interface Entry {
  date: string;
  text: string;
  /** The visit's screen, where it is recorded as assessed or missed. */
  link?: HTMLElement;
  /** Visits not yet done sort after the dated facts of the same day. */
  order: number;
}

/**
 * Everything that happened to the participant, and the visits to come, in date order: screening, consents and
 * withdrawals, the allocation, events, coupons, then each visit with its target date, window and status.
 */
export async function timelineSection({ session, trial, p, canAct }: ParticipantContext): Promise<HTMLElement> {
  const forms = new Map(trial.consentForms.map((f) => [f.code, f.title]));
  const entries: Entry[] = [{ date: p.screenedOn, text: t('timeline.screened'), order: 0 }];
  for (const c of p.consents) {
    const form = `${forms.get(c.form) ?? c.form} v${c.version}`;
    entries.push({
      date: c.signedOn,
      text: c.decision === 'granted' ? t('timeline.consented', { form }) : t('timeline.refused', { form }),
      order: 1,
    });
    if (c.withdrawal)
      entries.push({ date: c.withdrawal.withdrawnOn, text: `${form}: ${withdrawalText(c.withdrawal)}`, order: 3 });
  }
  if (p.allocation)
    entries.push({ date: p.allocation.randomizedAt.slice(0, 10), text: t('timeline.randomized'), order: 2 });
  for (const e of p.events)
    entries.push({
      date: e.occurredOn,
      text: `${eventTypeLabel(e.type)}${e.reason ? ` (${e.reason})` : ''}${e.retraction ? ` · ${t('timeline.retracted')}` : ''}`,
      order: 3,
    });
  for (const c of p.incentives.filter((e) => e.kind === 'issue'))
    entries.push({
      date: c.issuedOn,
      text:
        t('timeline.coupon', { reference: c.reference ?? c.incentive, amount: `${c.currency} ${c.amount}` }) +
        (c.voided ? ` · ${t('coupon.voided')}` : ''),
      order: 4,
    });
  if (p.role === 'service_user' && p.allocation) {
    const { data: schedule } = await api.GET('/v1/trials/{trialId}/participants/{participantId}/schedule', {
      params: { path: { trialId: trial.id, participantId: p.id } },
    });
    for (const v of schedule?.visits ?? []) {
      const window =
        v.windowOpens && v.windowCloses
          ? ` · ${t('timeline.window', { from: formatDate(v.windowOpens), to: formatDate(v.windowCloses) })}`
          : '';
      entries.push({
        date: v.assessedOn ?? v.targetDate ?? p.screenedOn,
        text: `${t('timeline.visit', { visit: v.label })}: ${visitStatusLabel(v.status)}${v.reason ? ` (${v.reason})` : ''}${window}`,
        order: v.assessedOn ? 5 : 6,
        link:
          canAct && canRecordVisits(session) && RECORDABLE.includes(v.status)
            ? visitLink(trial.id, p.id, v.visit, t('visit.record', { visit: v.label }))
            : undefined,
      });
    }
  }
  entries.sort((a, b) => (a.date === b.date ? a.order - b.order : a.date < b.date ? -1 : 1));
  return h(
    'section',
    { 'aria-labelledby': 'timeline-heading' },
    h('h2', { id: 'timeline-heading' }, t('timeline.title')),
    h(
      'ol',
      { class: 'timeline', id: 'timeline' },
      entries.map((e) =>
        h('li', {}, h('time', { datetime: e.date }, formatDate(e.date)), ' ', e.text, e.link ? [' · ', e.link] : ''),
      ),
    ),
  );
}
