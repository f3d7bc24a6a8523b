import type { Problem } from '../api';
import { h } from '../dom';
import { t } from '../i18n';
import type { Session } from '../session';

export type SignatureMeaning = 'randomized' | 'recorded withdrawal';

/**
 * The electronic signature (21 CFR 11.200) asked of a signed-in person: their password, re-entered for this one
 * act, with the printed name and the meaning the record will carry stated next to it.
 */
export interface SignatureField<M extends SignatureMeaning> {
  element: HTMLElement;
  input: HTMLInputElement;
  /** The body's `signature`, or null (and the field marked) when the password is empty. */
  value(): { password: string; meaning: M } | null;
  /** Shows a refusal that concerns the signature at the field; false when the refusal is about something else. */
  showProblem(status: number, error: Partial<Problem> | undefined): boolean;
  clear(): void;
}

export function signatureField<M extends SignatureMeaning>(
  session: Session,
  id: string,
  meaning: M,
): SignatureField<M> {
  const meaningText = meaning === 'randomized' ? t('signature.meaningRandomized') : t('signature.meaningWithdrawal');
  const error = h('p', { class: 'field-error', id: `error-${id}` });
  const input = h('input', {
    id,
    type: 'password',
    autocomplete: 'current-password',
    maxlength: 200,
    required: true,
    'aria-describedby': `${id}-statement error-${id}`,
  });
  const mark = (message: string) => {
    error.textContent = message;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  };
  const element = h(
    'fieldset',
    { class: 'signature' },
    h('legend', {}, t('signature.legend')),
    h('p', { id: `${id}-statement` }, t('signature.statement', { name: session.me.name, meaning: meaningText })),
    h('label', { for: id }, t('signature.password')),
    input,
    error,
  );
  return {
    element,
    input,
    value() {
      if (input.value === '') {
        mark(t('signature.required'));
        return null;
      }
      return { password: input.value, meaning };
    },
    showProblem(status, problem) {
      if (status === 429) {
        mark(t('signature.throttled'));
        return true;
      }
      if (problem?.errors?.some((e) => e.pointer.startsWith('/signature'))) {
        mark(t('signature.wrong'));
        return true;
      }
      return false;
    },
    clear() {
      input.value = '';
      error.textContent = '';
      input.removeAttribute('aria-invalid');
    },
  };
}
