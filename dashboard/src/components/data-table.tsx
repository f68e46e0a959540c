/**
 * The one list table every page uses: a labelled table (stacked into cards on narrow screens, each
 * cell labelled by its column), one row per item, with the list's loading, error and empty states
 * when it is given the resource the rows came from.
 */
import { Fragment, type HTMLAttributes, type ReactNode } from 'react';
import type { Resource } from '../hooks';
import { ListStates } from './ui';

export interface Column<T> {
  /** The column's header; also each cell's label when the table is stacked. */
  header: string;
  /** What the header shows instead of its text (e.g. a select-all checkbox). */
  heading?: ReactNode;
  /** Header only for screen readers (a column of buttons or checkboxes); its cells get no label. */
  hideHeader?: boolean;
  /** The cell names its row (`<th scope="row">`). */
  rowHeader?: boolean;
  /** Class of the header and every cell (e.g. `num`). */
  className?: string;
  /** Class of one cell (e.g. `wrap`, `truncate`, or an error colour for a row). */
  cellClassName?: string | ((row: T) => string | undefined);
  /** Tooltip of one cell (the full value behind a shortened one). */
  title?: (row: T) => string | null | undefined;
  cell: (row: T) => ReactNode;
}

export type RowAttributes = HTMLAttributes<HTMLTableRowElement> & { [data: `data-${string}`]: string | number | boolean | undefined };

/** What a list page loaded its rows with. */
export type ListResource = Pick<Resource<unknown>, 'data' | 'error' | 'loading' | 'reload'>;

export function DataTable<T>({ label, columns, rows, rowKey, rowProps, after, resource, empty, busy, className = 'stack' }: {
  /** The table's accessible name. */
  label: string;
  columns: ReadonlyArray<Column<T>>;
  rows: readonly T[];
  rowKey: (row: T) => string | number;
  rowProps?: (row: T) => RowAttributes;
  /** Rendered after a row, e.g. its expanded details (a `<tr>` of its own). */
  after?: (row: T) => ReactNode;
  /** The resource the rows came from: its error, first load and emptiness are shown too. */
  resource?: ListResource;
  /** Shown once the resource answered with no rows. */
  empty?: ReactNode;
  busy?: boolean;
  className?: string;
}): ReactNode {
  const states = resource ? (
    <ListStates list={{ data: resource.data === null ? null : rows, error: resource.error, loading: resource.loading, reload: resource.reload }} {...(empty === undefined ? {} : { empty })} />
  ) : null;
  if (rows.length === 0) return states;
  return (
    <>
      {states}
      <div className="table-wrap">
        <table aria-label={label} aria-busy={busy ?? resource?.loading} className={className || undefined}>
          <thead>
            <tr>
              {columns.map((c) => (
                <th key={c.header} scope="col" className={c.className}>
                  {c.heading ?? (c.hideHeader ? <span className="sr-only">{c.header}</span> : c.header)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <Fragment key={rowKey(row)}>
                <tr {...rowProps?.(row)}>{columns.map((c) => cellOf(c, row))}</tr>
                {after?.(row)}
              </Fragment>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function cellOf<T>(column: Column<T>, row: T): ReactNode {
  const own = typeof column.cellClassName === 'function' ? column.cellClassName(row) : column.cellClassName;
  const title = column.title?.(row) ?? undefined;
  if (column.rowHeader) {
    const className = ['row-head', column.className, own].filter(Boolean).join(' ');
    return (
      <th key={column.header} scope="row" className={className} title={title}>
        {column.cell(row)}
      </th>
    );
  }
  const className = [column.className, own].filter(Boolean).join(' ') || undefined;
  return (
    <td key={column.header} data-label={column.hideHeader ? undefined : column.header} className={className} title={title}>
      {column.cell(row)}
    </td>
  );
}
