import { api, newIdempotencyKey } from '../api';
import { h, show } from '../dom';
import { formatDate, formatDateTime, t } from '../i18n';
import type { Session } from '../session';
import { participantRoleLabel, participantStatusLabel } from './labels';
import { actionForm, field, problemList, today } from './forms';
import type { ParticipantContext } from './participant-context';
import { couponVoidForm } from './coupon-void';
import { eventForm } from './follow-up-event';
import { signatureField } from './signature';
import { timelineSection } from './timeline';
import { withdrawalForm, withdrawalText } from './withdrawal';

function consentSection(c: ParticipantContext): HTMLElement {
  const { trial, p, canAct, reload } = c;
  const formSelect = h(
    'select',
    { id: 'consent-form' },
    trial.consentForms.map((f) => h('option', { value: `${f.code}|${f.version}` }, `${f.title} (v${f.version})`)),
  );
  const decision = h(
    'select',
    { id: 'consent-decision' },
    h('option', { value: 'granted' }, t('consent.granted')),
    h('option', { value: 'declined' }, t('consent.declined')),
  );
  const signedOn = h('input', { id: 'consent-signed-on', type: 'date', value: today(), required: true });
  const obtainedBy = h('input', { id: 'consent-obtained-by', type: 'text', maxlength: 100, required: true });
  const method = h(
    'select',
    { id: 'consent-method' },
    h('option', { value: 'written' }, t('consent.written')),
    h('option', { value: 'electronic' }, t('consent.electronic')),
    h('option', { value: 'witnessed_verbal' }, t('consent.witnessedVerbal')),
  );
  const form = actionForm({
    submitLabel: t('consent.record'),
    fields: [
      field('consent-form', t('consent.form'), formSelect),
      field('consent-decision', t('consent.decision'), decision),
      field('consent-signed-on', t('consent.signedOn'), signedOn),
      field('consent-obtained-by', t('consent.obtainedBy'), obtainedBy),
      field('consent-method', t('consent.method'), method),
    ],
    send: () => {
      const [form, version] = formSelect.value.split('|') as [string, string];
      return api.POST('/v1/trials/{trialId}/participants/{participantId}/consents', {
        params: { path: { trialId: trial.id, participantId: p.id } },
        body: {
          form,
          version,
          decision: decision.value as 'granted' | 'declined',
          signedOn: signedOn.value,
          obtainedBy: obtainedBy.value,
          method: method.value as 'written',
        },
      });
    },
    done: reload,
  });
  return h(
    'section',
    { 'aria-labelledby': 'consents-heading' },
    h('h2', { id: 'consents-heading' }, t('consent.title')),
    p.consents.length === 0
      ? h('p', {}, t('consent.none'))
      : h(
          'ul',
          {},
          p.consents.map((consent) =>
            h(
              'li',
              {},
              `${trial.consentForms.find((f) => f.code === consent.form)?.title ?? consent.form} v${consent.version}: ${consent.decision === 'granted' ? t('consent.granted') : t('consent.declined')} · ${formatDate(consent.signedOn)} · ${consent.obtainedBy}`,
              consent.withdrawal ? ` · ${withdrawalText(consent.withdrawal)}` : '',
            ),
          ),
        ),
    p.reconsentRequired && h('p', { class: 'notice' }, t('consent.reconsent')),
    canAct && p.status !== 'ineligible' && p.allocation === null && h('h3', {}, t('consent.recordTitle')),
    canAct && p.status !== 'ineligible' && p.allocation === null && form,
    withdrawalForm(c),
  );
}

function randomizeSection({ session, trial, p, canAct, reload }: ParticipantContext): HTMLElement {
  const status = h('div', { role: 'alert' });
  const signature = signatureField(session, 'randomize-password', 'randomized');
  let idempotencyKey = newIdempotencyKey();
  const confirm = h('button', { type: 'button', id: 'confirm-randomize' }, t('randomize.confirm'));
  const cancel = h('button', { type: 'button', class: 'secondary' }, t('randomize.cancel'));
  const dialog = h(
    'dialog',
    { 'aria-labelledby': 'randomize-heading', 'aria-describedby': 'randomize-warning' },
    h('h2', { id: 'randomize-heading' }, t('randomize.dialogTitle', { label: p.label })),
    h('p', { id: 'randomize-warning' }, t('randomize.warning')),
    signature.element,
    h('div', { class: 'actions' }, confirm, cancel),
  );
  cancel.addEventListener('click', () => dialog.close());
  // One key per confirmation: a double click, or a retry after a lost answer, sends the same key and is answered
  // with the first allocation; the server never randomizes twice.
  // The password is part of the confirmation; a wrong one keeps the dialog open with the message at the field.
  confirm.addEventListener('click', async () => {
    if (confirm.disabled) return;
    const signed = signature.value();
    if (!signed) return;
    confirm.disabled = true;
    const { data, error, response } = await api.POST(
      '/v1/trials/{trialId}/participants/{participantId}/randomization',
      {
        params: { path: { trialId: trial.id, participantId: p.id }, header: { 'Idempotency-Key': idempotencyKey } },
        body: { signature: signed },
      },
    );
    confirm.disabled = false;
    if (data) {
      dialog.close();
      reload();
    } else if (!signature.showProblem(response.status, error)) {
      dialog.close();
      status.replaceChildren(problemList(error));
    }
  });
  const open = h(
    'button',
    {
      type: 'button',
      id: 'randomize',
      onclick: () => {
        idempotencyKey = newIdempotencyKey();
        signature.clear();
        dialog.showModal();
        signature.input.focus();
      },
    },
    t('randomize.button'),
  );
  return h(
    'section',
    { 'aria-labelledby': 'allocation-heading' },
    h('h2', { id: 'allocation-heading' }, t('randomize.title')),
    p.allocation
      ? h(
          'dl',
          { class: 'facts', id: 'allocation' },
          h('dt', {}, t('randomize.arm')),
          h('dd', {}, p.allocation.arm),
          h('dt', {}, t('randomize.at')),
          h('dd', {}, formatDateTime(p.allocation.randomizedAt)),
        )
      : h('p', {}, t('randomize.notYet')),
    canAct && !p.allocation && p.status === 'consented' && [open, dialog],
    status,
  );
}

function couponSection(c: ParticipantContext): HTMLElement {
  const { trial, p, canAct, reload } = c;
  // Coupons the participant can still receive: of their role, and under the per-participant maximum
  // (voided entries do not count), as the API will check.
  const issued = (code: string) =>
    p.incentives.filter((e) => e.incentive === code && e.kind === 'issue' && !e.voided).length;
  const types = trial.incentives.filter((i) => i.roles.includes(p.role) && issued(i.code) < i.maxPerParticipant);
  const type = h(
    'select',
    { id: 'coupon-type' },
    types.map((i) => h('option', { value: i.code }, `${i.description} (${i.currency} ${i.amount})`)),
  );
  const issuedOn = h('input', { id: 'coupon-issued-on', type: 'date', value: today(), required: true });
  const reference = h('input', { id: 'coupon-reference', type: 'text', maxlength: 200, required: true });
  let idempotencyKey = newIdempotencyKey();
  const form = actionForm({
    submitLabel: t('coupon.issue'),
    fields: [
      field('coupon-type', t('coupon.type'), type),
      field('coupon-issued-on', t('coupon.issuedOn'), issuedOn),
      field('coupon-reference', t('coupon.reference'), reference),
    ],
    send: () =>
      api.POST('/v1/trials/{trialId}/participants/{participantId}/incentives', {
        params: { path: { trialId: trial.id, participantId: p.id }, header: { 'Idempotency-Key': idempotencyKey } },
        body: { incentive: type.value, issuedOn: issuedOn.value, reference: reference.value },
      }),
    done: reload,
    // A refused submission is a different request next time: a new key, so the refusal is not replayed.
    refused: () => {
      idempotencyKey = newIdempotencyKey();
      return false;
    },
  });
  return h(
    'section',
    { 'aria-labelledby': 'coupons-heading' },
    h('h2', { id: 'coupons-heading' }, t('coupon.title')),
    p.incentives.length === 0
      ? h('p', {}, t('coupon.none'))
      : h(
          'ul',
          { id: 'coupons' },
          // Issues, each marked when voided; the reversing entries themselves are in the coupon log.
          p.incentives
            .filter((entry) => entry.kind === 'issue')
            .map((c) =>
              h(
                'li',
                {},
                `${c.reference} · ${c.currency} ${c.amount} · ${formatDate(c.issuedOn)}${c.voided ? ` · ${t('coupon.voided')}` : ''}`,
              ),
            ),
        ),
    canAct && types.length > 0 && p.status !== 'ineligible' && form,
    couponVoidForm(c),
  );
}

export async function participantScreen(session: Session, trialId: string, participantId: string): Promise<void> {
  const [{ data: trial }, { data: p }] = await Promise.all([
    api.GET('/v1/trials/{trialId}', { params: { path: { trialId } } }),
    api.GET('/v1/trials/{trialId}/participants/{participantId}', { params: { path: { trialId, participantId } } }),
  ]);
  if (!trial || !p) throw new Error(t('error.notFound'));
  const canAct = ['admin', 'coordinator'].includes(session.me.role) && trial.status === 'active';
  const reload = () => void participantScreen(session, trialId, participantId);
  const criteria = new Map(trial.eligibility.map((c) => [c.code, c.text]));
  const c: ParticipantContext = { session, trial, p, canAct, reload };
  const events = eventForm(c);
  show(
    h('h1', {}, t('participant.title', { label: p.label })),
    h('p', {}, h('a', { href: `#/trials/${trialId}/participants` }, t('nav.backToParticipants'))),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, t('trial.site')),
      h('dd', {}, p.siteCode),
      h('dt', {}, t('participants.role')),
      h('dd', {}, participantRoleLabel(p.role)),
      h('dt', {}, t('trials.status')),
      h('dd', { id: 'participant-status' }, participantStatusLabel(p.status)),
      h('dt', {}, t('participants.screenedOn')),
      h('dd', {}, formatDate(p.screenedOn)),
      h('dt', {}, t('participant.eligible')),
      h('dd', {}, p.eligible ? t('screening.yes') : t('screening.no')),
    ),
    p.unmetCriteria.length > 0 &&
      h(
        'div',
        { class: 'notice' },
        h('p', {}, t('participant.unmet')),
        h(
          'ul',
          {},
          p.unmetCriteria.map((code) => h('li', {}, criteria.get(code) ?? code)),
        ),
      ),
    consentSection(c),
    randomizeSection(c),
    couponSection(c),
    events &&
      h(
        'section',
        { 'aria-labelledby': 'events-heading' },
        h('h2', { id: 'events-heading' }, t('event.heading')),
        events,
      ),
    await timelineSection(c),
  );
}
