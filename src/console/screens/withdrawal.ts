import { api, Participant, WithdrawalScope } from '../api';
import { h } from '../dom';
import { formatDate, t } from '../i18n';
import { actionForm, field, today } from './forms';
import type { ParticipantContext } from './participant-context';
import { signatureField } from './signature';

function scopeLabel(scope: WithdrawalScope): string {
  switch (scope) {
    case 'intervention':
      return t('withdraw.scopeIntervention');
    case 'follow_up':
      return t('withdraw.scopeFollowUp');
    case 'all':
      return t('withdraw.scopeAll');
  }
}

/** The scope of a recorded withdrawal, as the consent list shows it. */
export function withdrawalText(withdrawal: NonNullable<Participant['consents'][number]['withdrawal']>): string {
  return `${t('consent.withdrawn')} ${formatDate(withdrawal.withdrawnOn)} (${scopeLabel(withdrawal.scope)})`;
}

/**
 * Withdraw a granted consent, with its scope (stop the intervention only, or follow-up too), signed with the
 * person's password ("recorded withdrawal"). Shown only when a granted consent is not withdrawn yet.
 */
export function withdrawalForm({ session, trial, p, canAct, reload }: ParticipantContext): HTMLElement | '' {
  const open = p.consents.filter((c) => c.decision === 'granted' && !c.withdrawal);
  if (!canAct || open.length === 0) return '';
  const consent = h(
    'select',
    { id: 'withdraw-consent' },
    open.map((c) =>
      h(
        'option',
        { value: c.id },
        `${trial.consentForms.find((f) => f.code === c.form)?.title ?? c.form} v${c.version}`,
      ),
    ),
  );
  const withdrawnOn = h('input', { id: 'withdraw-on', type: 'date', value: today(), required: true });
  const scope = h(
    'select',
    { id: 'withdraw-scope' },
    (['intervention', 'follow_up', 'all'] as const).map((s) => h('option', { value: s }, scopeLabel(s))),
  );
  const reason = h('input', { id: 'withdraw-reason', type: 'text', maxlength: 1000, required: true });
  const signature = signatureField(session, 'withdraw-password', 'recorded withdrawal');
  const form = actionForm({
    id: 'withdraw-form',
    submitLabel: t('withdraw.submit'),
    fields: [
      field('withdraw-consent', t('consent.form'), consent),
      field('withdraw-on', t('withdraw.on'), withdrawnOn),
      field('withdraw-scope', t('withdraw.scope'), scope, t('withdraw.scopeHint')),
      field('withdraw-reason', t('withdraw.reason'), reason),
      signature.element,
    ],
    send: async () => {
      const signed = signature.value();
      if (!signed) return null;
      return api.POST('/v1/trials/{trialId}/participants/{participantId}/consents/{consentId}/withdrawal', {
        params: { path: { trialId: trial.id, participantId: p.id, consentId: consent.value } },
        body: {
          withdrawnOn: withdrawnOn.value,
          scope: scope.value as WithdrawalScope,
          reason: reason.value,
          signature: signed,
        },
      });
    },
    done: reload,
    refused: ({ response, error }) => signature.showProblem(response.status, error),
  });
  return h('details', { class: 'action' }, h('summary', {}, t('withdraw.title')), form);
}
