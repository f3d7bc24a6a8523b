import { h } from '../dom';

type Cell = Node | string | number | null | undefined | false;

/** A table with column headers; the first cell of each row is its row header. */
export function dataTable(caption: string | null, headers: string[], rows: Cell[][], attrs = {}): HTMLTableElement {
  return h(
    'table',
    attrs,
    caption ? h('caption', {}, caption) : '',
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map((header) => h('th', { scope: 'col' }, header)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map(([first, ...rest]) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, first),
          rest.map((cell) => h('td', {}, cell)),
        ),
      ),
    ),
  );
}
