import { h } from '../dom';
import { t } from '../i18n';

/** Server-side pages by cursor: the current cursor, the ones before it (to go back), and the two buttons. */
export interface Pager {
  readonly cursor: string | undefined;
  /** Previous and next buttons, given the answer's nextCursor. */
  controls(next: string | null): HTMLElement;
  /** Back to the first page (a filter changed) and load it. */
  restart(): void;
}

export function pager(load: () => Promise<void>): Pager {
  const before: (string | undefined)[] = [];
  let cursor: string | undefined;
  const button = (label: string, disabled: boolean, go: () => void) =>
    h('button', { type: 'button', class: 'secondary', disabled, onclick: go }, label);
  return {
    get cursor() {
      return cursor;
    },
    controls: (next) =>
      h(
        'div',
        { class: 'pager' },
        button(t('participants.previous'), before.length === 0, () => {
          cursor = before.pop();
          void load();
        }),
        button(t('participants.next'), next === null, () => {
          before.push(cursor);
          cursor = next ?? undefined;
          void load();
        }),
      ),
    restart: () => {
      before.length = 0;
      cursor = undefined;
      void load();
    },
  };
}
