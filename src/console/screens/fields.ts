import type { Problem } from '../api';
import { h } from '../dom';
import { t } from '../i18n';
import { fieldMessage } from './problems';

/** The id of the element showing the errors of a JSON pointer of the request body. */
export const errorId = (pointer: string) => `error${pointer.replace(/[^A-Za-z0-9_]/g, '-')}`;
/** The id of the control that edits the value at a JSON pointer of the request body. */
export const fieldId = (pointer: string) => `field${pointer.replace(/[^A-Za-z0-9_]/g, '-')}`;

/** A labelled control named after its JSON pointer, with a hint and a place for the API's 422 errors. */
export function labelled(pointer: string, label: string, control: HTMLElement, hint?: string): HTMLElement {
  control.id = fieldId(pointer);
  control.setAttribute(
    'aria-describedby',
    [hint ? `${control.id}-hint` : '', errorId(pointer)].filter(Boolean).join(' '),
  );
  return h(
    'div',
    {},
    h('label', { for: control.id }, label),
    hint && h('p', { class: 'hint', id: `${control.id}-hint` }, hint),
    control,
    h('p', { class: 'field-error', id: errorId(pointer) }),
  );
}

function clearErrors(form: HTMLElement, summary: HTMLElement): void {
  form.querySelectorAll('.field-error').forEach((e) => (e.textContent = ''));
  form.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
  summary.replaceChildren();
}

/**
 * Shows each `errors[].pointer` of a problem next to the control it names (the nearest enclosing pointer that
 * has a place, so `/arms/0` lands on the arm's row), and a summary that takes the focus. `prefix` tells the
 * fields of one form from another's on the same screen.
 */
export function showProblem(error: Problem | undefined, summary: HTMLElement, prefix = ''): void {
  const unplaced: string[] = [];
  for (const problem of error?.errors ?? []) {
    const message = fieldMessage(problem.pointer, problem.detail);
    let pointer = prefix + problem.pointer;
    while (pointer !== prefix && !document.getElementById(errorId(pointer))) pointer = pointer.replace(/\/[^/]*$/, '');
    const target = pointer !== prefix ? document.getElementById(errorId(pointer)) : null;
    if (target) {
      target.textContent = [target.textContent, message].filter(Boolean).join(' ');
      document.getElementById(fieldId(pointer))?.setAttribute('aria-invalid', 'true');
    } else unplaced.push(message);
  }
  const box = h(
    'div',
    { class: 'alert', tabindex: -1 },
    // A refusal that names no field (409, 412) is not a list of fields to correct: its detail says what happened.
    error?.errors?.length ? h('p', {}, t('screening.fix', { count: error.errors.length })) : '',
    unplaced.length
      ? h(
          'ul',
          {},
          unplaced.map((m) => h('li', {}, m)),
        )
      : '',
    !error?.errors?.length && error?.detail ? h('p', {}, error.detail) : '',
  );
  summary.replaceChildren(box);
  box.focus();
}

type Child = Node | string | null | undefined | false;

/**
 * A form that sends one request: on submit it clears the previous errors, disables its button while `send` runs,
 * and shows the problem `send` answers (null when it succeeded) at the fields its pointers name.
 */
export function problemForm(
  submitLabel: string,
  send: () => Promise<Problem | null | undefined>,
  children: Child[],
  prefix = '',
): HTMLFormElement {
  const summary = h('div', { role: 'alert' });
  const submit = h('button', { type: 'submit' }, submitLabel);
  const form = h(
    'form',
    {
      class: 'stack',
      novalidate: true,
      onsubmit: async (event: Event) => {
        event.preventDefault();
        clearErrors(form, summary);
        submit.disabled = true;
        try {
          const problem = await send();
          if (problem) showProblem(problem, summary, prefix);
        } finally {
          submit.disabled = false;
        }
      },
    },
    ...children,
    summary,
    h('div', {}, submit),
  );
  return form;
}
