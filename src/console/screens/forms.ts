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
