import { api } from '../api';
import { h } from '../dom';
import { formatDate, t } from '../i18n';
import { actionForm, field } from './forms';
import type { ParticipantContext } from './participant-context';

/** Void an issued coupon with a reason (a reversing ledger entry; the original stays, marked void). */
export function couponVoidForm({ trial, p, canAct, reload }: ParticipantContext): HTMLElement | '' {
  const voidable = p.incentives.filter((e) => e.kind === 'issue' && !e.voided);
  if (!canAct || voidable.length === 0) return '';
  const entry = h(
    'select',
    { id: 'void-entry' },
    voidable.map((e) =>
      h(
        'option',
        { value: e.id },
        `${e.reference ?? e.incentive} · ${e.currency} ${e.amount} · ${formatDate(e.issuedOn)}`,
      ),
    ),
  );
  const reason = h('input', { id: 'void-reason', type: 'text', maxlength: 1000, required: true });
  const form = actionForm({
    submitLabel: t('couponVoid.submit'),
    fields: [field('void-entry', t('coupon.type'), entry), field('void-reason', t('couponVoid.reason'), reason)],
    send: () =>
      api.POST('/v1/trials/{trialId}/participants/{participantId}/incentives/{incentiveId}/void', {
        params: { path: { trialId: trial.id, participantId: p.id, incentiveId: entry.value } },
        body: { reason: reason.value },
      }),
    done: reload,
  });
  return h('details', { class: 'action' }, h('summary', {}, t('couponVoid.title')), form);
}
