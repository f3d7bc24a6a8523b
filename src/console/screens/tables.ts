import { h } from '../dom';

type Cell = Node | string | number | null | undefined | false;
type Attrs = Parameters<typeof h>[1];

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

/** A list of records, one per row, every cell a data cell; `rowAttrs` marks a row (e.g. an overdue visit). */
export function listTable<T>(
  headers: string[],
  items: readonly T[],
  cells: (item: T) => Cell[],
  options: { attrs?: Attrs; caption?: string; rowAttrs?: (item: T) => Attrs } = {},
): HTMLTableElement {
  return h(
    'table',
    options.attrs ?? {},
    options.caption ? h('caption', {}, options.caption) : '',
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
      items.map((item) =>
        h(
          'tr',
          options.rowAttrs?.(item) ?? {},
          cells(item).map((cell) => h('td', {}, cell)),
        ),
      ),
    ),
  );
}
