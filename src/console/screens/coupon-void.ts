import { api, Participant, Trial } from '../api';
import { h } from '../dom';
import { formatDate, t } from '../i18n';
import { field, problemList } from './forms';

/** Void an issued coupon with a reason (a reversing ledger entry; the original stays, marked void). */
export function couponVoidForm(trial: Trial, p: Participant, reload: () => void): HTMLElement | '' {
  const voidable = p.incentives.filter((e) => e.kind === 'issue' && !e.voided);
  if (voidable.length === 0) return '';
  const status = h('div', { role: 'alert' });
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
  const submit = h('button', { type: 'submit' }, t('couponVoid.submit'));
  const form = h(
    'form',
    {
      class: 'stack',
      onsubmit: async (event: Event) => {
        event.preventDefault();
        submit.disabled = true;
        const { data, error } = await api.POST(
          '/v1/trials/{trialId}/participants/{participantId}/incentives/{incentiveId}/void',
          {
            params: { path: { trialId: trial.id, participantId: p.id, incentiveId: entry.value } },
            body: { reason: reason.value },
          },
        );
        submit.disabled = false;
        if (data) reload();
        else status.replaceChildren(problemList(error));
      },
    },
    field('void-entry', t('coupon.type'), entry),
    field('void-reason', t('couponVoid.reason'), reason),
    status,
    h('div', {}, submit),
  );
  return h('details', { class: 'action' }, h('summary', {}, t('couponVoid.title')), form);
}
