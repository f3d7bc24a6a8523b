import type { Problem } from '../api';
import { h } from '../dom';
import { t } from '../i18n';
import { fieldMessage } from './problems';

/** Today's date as the browser sees it, ISO (the API checks it against its own "today"). */
export const today = (): string => new Date().toISOString().slice(0, 10);

/** A refusal as a list: each 422 pointer in the person's language, or the service's detail. */
export function problemList(error: Partial<Problem> | undefined): HTMLElement {
  const items = error?.errors?.length
    ? error.errors.map((e) => fieldMessage(e.pointer, e.detail))
    : [t('problem.service', { detail: error?.detail ?? '' })];
  return h(
    'ul',
    { class: 'alert' },
    items.map((m) => h('li', {}, m)),
  );
}

/** A label above its control. */
export function field(id: string, label: string, control: HTMLElement, hint?: string): HTMLElement {
  return h(
    'div',
    {},
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : '',
    control,
  );
}

/** What an openapi-fetch call answers, as much as a form needs of it. */
export interface Sent {
  data?: unknown;
  error?: Partial<Problem>;
  response: Response;
}

/**
 * A form that sends one request: the button is disabled while it runs; success calls `done`, a refusal is shown
 * under the fields (unless `refused` handles it, e.g. at the signature field). `send` answers null when the
 * form itself stopped the request (an empty signature).
 */
export function actionForm(options: {
  id?: string;
  submitLabel: string;
  fields: HTMLElement[];
  send: () => Promise<Sent | null>;
  done: () => void;
  refused?: (sent: Sent) => boolean;
}): HTMLFormElement {
  const status = h('div', { role: 'alert' });
  const submit = h('button', { type: 'submit' }, options.submitLabel);
  return h(
    'form',
    {
      class: 'stack',
      id: options.id,
      onsubmit: async (event: Event) => {
        event.preventDefault();
        submit.disabled = true;
        const sent = await options.send();
        submit.disabled = false;
        if (!sent) return;
        if (sent.data) options.done();
        else if (!options.refused?.(sent)) status.replaceChildren(problemList(sent.error));
      },
    },
    options.fields,
    status,
    h('div', {}, submit),
  );
}
